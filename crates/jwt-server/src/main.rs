//! The `jwt-server` binary; everything is in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    jwt_server::install_panic_hook();
    jwt_server::run(jwt_server::cli::Cli::parse_checked())
}
