//! # jwt-server
//!
//! The thin binary over `jwt-core`, `jwt-store` and `jwt-http`: configuration
//! ([`config`]: defaults < `jwt-server.toml` < `JWT_*` environment < flags), the command line
//! ([`cli`]), wiring ([`startup::Application`]), key management ([`keys`], [`live_keys`],
//! [`remote_jwks`] for `jwk_url`), logging
//! ([`telemetry`]) and the subcommands ([`commands`]).
//!
//! [`run`] is the whole program: it never panics on bad input and turns every failure
//! into one line `error: ...` on standard error and a non-zero exit code (2 for
//! configuration errors, 1 otherwise).

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod keys;
pub mod live_keys;
pub mod remote_jwks;
pub mod startup;
pub mod telemetry;

use std::process::ExitCode;

pub use config::Config;
pub use error::Error;
pub use startup::Application;

/// Run the command line: load the configuration, set up logging, run the subcommand.
pub fn run(cli: cli::Cli) -> ExitCode {
    match try_run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error::one_line(&e.to_string()));
            e.exit_code()
        }
    }
}

fn try_run(cli: cli::Cli) -> Result<(), Error> {
    let command = cli.to_command();
    let loaded = config::load(cli.config.as_deref(), &cli.overrides())?;
    let fallback =
        if command.is_serve() { telemetry::DEFAULT_FILTER } else { telemetry::DEFAULT_COMMAND_FILTER };
    telemetry::init(
        &telemetry::filter_directives(&loaded.config.server, fallback),
        loaded.config.server.log_format,
    )?;
    if let Some(file) = &loaded.file {
        tracing::debug!(file = %file.display(), "configuration file read");
    }
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(commands::run(command, loaded.config))
}

/// Replace the default panic output (a multi-line trace) by one `error:` line. A panic is
/// a bug; this keeps the promise that the operator never sees a backtrace.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal error (a bug in jwt-server): {}{location}", error::one_line(&message));
    }));
}
