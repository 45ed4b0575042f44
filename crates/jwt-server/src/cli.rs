//! The command line (clap derive). `serve` is the default subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

/// A drop-in, simplejwt-compatible JWT authentication server.
///
/// Configuration: defaults < jwt-server.toml < JWT_* environment variables < flags.
/// See docs/configuration.md for every key.
#[derive(Debug, Parser)]
#[command(name = "jwt-server", version, about)]
pub struct Cli {
    /// Config file [default: ./jwt-server.toml if it exists].
    #[arg(long, short = 'c', env = "JWT_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL (overrides JWT_DATABASE_URL), e.g. sqlite://./jwt-server.db?mode=rwc.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Options of `serve` when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parse the process arguments, exiting with clap's usage error on bad ones.
    pub fn parse_checked() -> Self {
        Self::try_parse_checked_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parse `args`. `--config` and `--database-url` go anywhere; the options of `serve`
    /// given before another subcommand are refused rather than silently ignored.
    ///
    /// # Errors
    /// clap's error for unknown, malformed or conflicting arguments.
    pub fn try_parse_checked_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::CommandFactory as _;
        let cli = Self::try_parse_from(args)?;
        let serve_flags_given = cli.serve != ServeArgs::default();
        if serve_flags_given && cli.command.as_ref().is_some_and(|c| !c.is_serve()) {
            return Err(Self::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "--listen, --no-migrate and --log-format only apply to `serve`",
            ));
        }
        Ok(cli)
    }

    /// The subcommand, `serve` when none was given.
    pub fn to_command(&self) -> Command {
        self.command.clone().unwrap_or_else(|| Command::Serve(self.serve.clone()))
    }

    /// The configuration values given as flags.
    pub fn overrides(&self) -> Overrides {
        let serve = match &self.command {
            Some(Command::Serve(args)) => args,
            _ => &self.serve,
        };
        Overrides {
            listen: serve.listen.clone(),
            database_url: self.database_url.clone(),
            auto_migrate: serve.no_migrate.then_some(false),
            log_format: serve.log_format.clone(),
        }
    }
}

/// Options of `serve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides JWT_LISTEN); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Do not apply pending database migrations on start.
    #[arg(long)]
    pub no_migrate: bool,
    /// Log format: text or json (overrides JWT_LOG_FORMAT).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Maintain the outstanding-token and blacklist tables.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Print the effective configuration as TOML, secrets masked, and check key material.
    CheckConfig,
}

impl Command {
    /// Whether the command is `serve`.
    pub fn is_serve(&self) -> bool {
        matches!(self, Self::Serve(_))
    }
}

/// `users ...`
#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Create a user (password from --password-stdin or a prompt).
    Create {
        /// Username.
        #[arg(allow_hyphen_values = true)]
        name: String,
        /// E-mail address.
        #[arg(long, default_value = "")]
        email: String,
        /// Make the user a superuser (and staff).
        #[arg(long)]
        superuser: bool,
        /// Make the user staff.
        #[arg(long)]
        staff: bool,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (revokes tokens when check_revoke_token is on).
    SetPassword {
        /// Username.
        #[arg(allow_hyphen_values = true)]
        name: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate a user: they can no longer log in, refresh or authenticate.
    Deactivate {
        /// Username.
        #[arg(allow_hyphen_values = true)]
        name: String,
    },
    /// Delete a user. Their recorded tokens stay (without a user), as in simplejwt; their
    /// refresh tokens stop working because the account no longer exists.
    Delete {
        /// Username.
        #[arg(allow_hyphen_values = true)]
        name: String,
    },
    /// Reactivate a deactivated user.
    Activate {
        /// Username.
        #[arg(allow_hyphen_values = true)]
        name: String,
    },
    /// List users.
    List,
}

/// `tokens ...`
#[derive(Debug, Clone, Subcommand)]
pub enum TokensCommand {
    /// Delete expired outstanding tokens and their blacklist entries.
    FlushExpired {
        /// Rows deleted per statement.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        batch_size: u32,
    },
    /// Blacklist every refresh and sliding token of a user (log out everywhere).
    RevokeUser {
        /// Username.
        #[arg(allow_hyphen_values = true)]
        name: String,
    },
}

/// `keys ...`
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Print a new key (secret or PEM) for JWT_SIGNING_KEY_FILE; stores nothing.
    Generate {
        /// Algorithm [default: the configured one].
        #[arg(long)]
        algorithm: Option<String>,
    },
    /// List the keys stored in the database (never their material).
    List,
    /// Generate and store a new signing key, activated after a delay; older keys keep verifying.
    Rotate {
        /// Algorithm [default: the configured one].
        #[arg(long)]
        algorithm: Option<String>,
        /// When the new key starts signing, e.g. `0s`, `5m` [default: twice key_refresh_interval,
        /// so that every replica already accepts its tokens].
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        activate_in: Option<std::time::Duration>,
    },
    /// Stop accepting tokens signed by a stored key.
    Retire {
        /// The key id (key ids may start with `-`).
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// Retire it even if it is the current signing key.
        #[arg(long)]
        force: bool,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_checked_from(std::iter::once("jwt-server").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        let cli = parse(&[]);
        assert!(cli.to_command().is_serve());
        let cli = parse(&["--listen", "127.0.0.1:0", "--no-migrate"]);
        let o = cli.overrides();
        assert_eq!(o.listen.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(o.auto_migrate, Some(false));
        let cli = parse(&["serve", "--listen", "0.0.0.0:9000"]);
        assert_eq!(cli.overrides().listen.as_deref(), Some("0.0.0.0:9000"));
    }

    #[test]
    fn global_flags_work_after_subcommands() {
        let cli = parse(&["users", "list", "--database-url", "sqlite::memory:", "--config", "x.toml"]);
        assert_eq!(cli.overrides().database_url.as_deref(), Some("sqlite::memory:"));
        assert_eq!(cli.config.as_deref(), Some(std::path::Path::new("x.toml")));
        assert!(matches!(cli.to_command(), Command::Users(UsersCommand::List)));
    }

    #[test]
    fn users_create_takes_its_options() {
        let cli = parse(&[
            "users",
            "create",
            "alice",
            "--email",
            "a@example.com",
            "--superuser",
            "--password-stdin",
        ]);
        match cli.to_command() {
            Command::Users(UsersCommand::Create { name, email, superuser, staff, password_stdin }) => {
                assert_eq!((name.as_str(), email.as_str()), ("alice", "a@example.com"));
                assert!(superuser && password_stdin && !staff);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn key_ids_and_usernames_may_start_with_a_hyphen() {
        // A kid is the start of a base64url thumbprint: one in 64 begins with `-`.
        for args in [&["keys", "retire", "-Xa1", "--force"][..], &["keys", "retire", "--force", "-Xa1"]] {
            match parse(args).to_command() {
                Command::Keys(KeysCommand::Retire { kid, force }) => {
                    assert_eq!((kid.as_str(), force), ("-Xa1", true))
                }
                other => panic!("{other:?}"),
            }
        }
        match parse(&["users", "deactivate", "-bob"]).to_command() {
            Command::Users(UsersCommand::Deactivate { name }) => assert_eq!(name, "-bob"),
            other => panic!("{other:?}"),
        }
        match parse(&["users", "create", "-carol", "--password-stdin"]).to_command() {
            Command::Users(UsersCommand::Create { name, password_stdin, .. }) => {
                assert_eq!(name, "-carol");
                assert!(password_stdin);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn subcommands_parse() {
        assert!(matches!(
            parse(&["tokens", "flush-expired", "--batch-size", "10"]).to_command(),
            Command::Tokens(TokensCommand::FlushExpired { batch_size: 10 })
        ));
        assert!(Cli::try_parse_from(["jwt-server", "tokens", "flush-expired", "--batch-size", "0"]).is_err());
        assert!(matches!(
            parse(&["tokens", "revoke-user", "bob"]).to_command(),
            Command::Tokens(TokensCommand::RevokeUser { .. })
        ));
        assert!(matches!(parse(&["keys", "rotate"]).to_command(), Command::Keys(KeysCommand::Rotate { .. })));
        assert!(matches!(parse(&["openapi"]).to_command(), Command::Openapi));
        assert!(matches!(parse(&["check-config"]).to_command(), Command::CheckConfig));
        assert!(matches!(parse(&["migrate"]).to_command(), Command::Migrate));
        // serve flags belong to serve only
        assert!(Cli::try_parse_checked_from(["jwt-server", "--listen", "x", "migrate"]).is_err());
        // global options go before or after the subcommand
        for args in [
            &["jwt-server", "--config", "x.toml", "keys", "list"][..],
            &["jwt-server", "keys", "list", "--config", "x.toml"],
            &["jwt-server", "--database-url", "sqlite::memory:", "users", "list"],
            &["jwt-server", "--config", "x.toml", "serve", "--listen", "127.0.0.1:0"],
            &["jwt-server", "--config", "x.toml", "--listen", "127.0.0.1:0"],
        ] {
            let cli =
                Cli::try_parse_checked_from(args.iter().copied()).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(cli.config.is_some() || cli.database_url.is_some(), "{args:?}");
        }
    }
}
