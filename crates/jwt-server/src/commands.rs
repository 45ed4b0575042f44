//! One function per subcommand. Output for people and scripts goes to standard output;
//! logs and hints go to standard error.

use std::io::{IsTerminal, Read, Write};

use jwt_core::ports::{KeyStore, PasswordHasher, UserRepository};
use jwt_core::{Algorithm, Timestamp, User};
use jwt_store::{Database, NewUser};
use secrecy::{ExposeSecret, SecretString};

use crate::cli::{Command, KeysCommand, TokensCommand, UsersCommand};
use crate::config::Config;
use crate::error::Error;
use crate::keys::{self, store_error};
use crate::startup::{self, Application, Shutdown};

/// Run `command` with `config`.
///
/// # Errors
/// The command's [`Error`], one sentence.
pub async fn run(command: Command, config: Config) -> Result<(), Error> {
    match command {
        Command::Serve(_) => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::Users(cmd) => users(cmd, &config).await,
        Command::Tokens(cmd) => tokens(cmd, &config).await,
        Command::Keys(cmd) => keys_command(cmd, &config).await,
        Command::Openapi => {
            print_out(&jwt_http::openapi_json(&config.token, &config.server.http))?;
            Ok(())
        }
        Command::CheckConfig => check_config(&config),
    }
}

/// `serve`: build, print where it listens, run until SIGINT/SIGTERM.
async fn serve(config: Config) -> Result<(), Error> {
    // Signals are caught from here on: a SIGTERM right after the `listening on` line (or
    // during startup) is a graceful shutdown, never the default "killed by signal".
    let shutdown = Shutdown::install()?;
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    // The e2e harness and scripts parse the first line.
    print_out(&format!("listening on http://{addr}\nSwagger UI: http://{addr}/docs\n"))?;
    app.run_until(shutdown.wait()).await
}

async fn migrate(config: &Config) -> Result<(), Error> {
    let db = startup::connect(config, true).await?;
    print_out(&format!("database {} is up to date\n", db.redacted_url()))
}

async fn users(cmd: UsersCommand, config: &Config) -> Result<(), Error> {
    let db = startup::connect(config, config.server.auto_migrate).await?;
    let repo = db.users();
    match cmd {
        UsersCommand::Create { name, email, superuser, staff, password_stdin } => {
            if name.trim().is_empty() || name.trim() != name {
                return Err(Error::command("the username must not be empty or start or end with whitespace"));
            }
            let password = read_password(password_stdin, true)?;
            let hash = hash(config, &password).await?;
            let new = NewUser {
                username: name.clone(),
                email,
                password_hash: hash,
                is_active: true,
                is_staff: staff || superuser,
                is_superuser: superuser,
                claims: serde_json::Map::new(),
            };
            let user = repo.create_user(new).await.map_err(|e| match e {
                jwt_core::StoreError::Conflict => {
                    Error::command(format!("a user named {name:?} already exists"))
                }
                e => store_error("cannot create the user", &e),
            })?;
            print_out(&format!("created user {} (id {})\n", user.username, user.id))
        }
        UsersCommand::SetPassword { name, password_stdin } => {
            let password = read_password(password_stdin, true)?;
            let hash = hash(config, &password).await?;
            // jwt-store also renews the credential stamp: with check_revoke_token, tokens
            // issued under the old password stop working, as in simplejwt.
            let found = repo
                .set_password_hash(&name, &hash)
                .await
                .map_err(|e| store_error("cannot set the password", &e))?;
            if !found {
                return Err(no_such_user(&name));
            }
            print_out(&format!("password of {name} changed\n"))
        }
        UsersCommand::Deactivate { name } => set_active(&db, &name, false).await,
        UsersCommand::Activate { name } => set_active(&db, &name, true).await,
        UsersCommand::Delete { name } => {
            let found =
                repo.delete_user(&name).await.map_err(|e| store_error("cannot delete the user", &e))?;
            if !found {
                return Err(no_such_user(&name));
            }
            print_out(&format!("deleted {name}\n"))
        }
        UsersCommand::List => {
            let users = repo.list_users().await.map_err(|e| store_error("cannot list the users", &e))?;
            print_out(&users_table(&users))
        }
    }
}

async fn set_active(db: &Database, name: &str, active: bool) -> Result<(), Error> {
    let found =
        db.users().set_active(name, active).await.map_err(|e| store_error("cannot update the user", &e))?;
    if !found {
        return Err(no_such_user(name));
    }
    print_out(&format!("{name} is now {}\n", if active { "active" } else { "inactive" }))
}

async fn find_user(db: &Database, name: &str) -> Result<User, Error> {
    db.users()
        .find_by_username(name)
        .await
        .map_err(|e| store_error("cannot look up the user", &e))?
        .ok_or_else(|| no_such_user(name))
}

fn no_such_user(name: &str) -> Error {
    Error::command(format!("no user named {name:?}"))
}

async fn hash(config: &Config, password: &SecretString) -> Result<String, Error> {
    startup::hasher(config)?
        .hash(password.expose_secret())
        .await
        .map_err(|e| Error::runtime(format!("cannot hash the password: {e}")))
}

/// Read a password from standard input (`--password-stdin`: everything up to EOF, one
/// trailing newline dropped) or from a terminal prompt, asked twice when `confirm`.
fn read_password(from_stdin: bool, confirm: bool) -> Result<SecretString, Error> {
    let password = if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::command(format!("cannot read the password from standard input: {e}")))?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        SecretString::from(text)
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(Error::command(
                "standard input is not a terminal, so there is no one to prompt for a password: pass it with --password-stdin",
            ));
        }
        let no_tty =
            |_| Error::command("cannot prompt for a password (no terminal): pass it with --password-stdin");
        let first = SecretString::from(rpassword::prompt_password("Password: ").map_err(no_tty)?);
        if confirm {
            let again = rpassword::prompt_password("Password (again): ").map_err(no_tty)?;
            if again != first.expose_secret() {
                return Err(Error::command("the passwords do not match"));
            }
        }
        first
    };
    let text = password.expose_secret();
    if text.is_empty() {
        return Err(Error::command("refusing an empty password"));
    }
    if text.trim() != text {
        return Err(Error::command(
            "the password must not start or end with whitespace: the login endpoint trims it, as simplejwt does",
        ));
    }
    Ok(password)
}

fn users_table(users: &[User]) -> String {
    let mut rows = vec![
        ["ID", "USERNAME", "EMAIL", "ACTIVE", "STAFF", "SUPERUSER", "JOINED", "LAST LOGIN"].map(String::from),
    ];
    let flag = |b: bool| if b { "yes" } else { "no" }.to_owned();
    for u in users {
        rows.push([
            u.id.to_string(),
            u.username.clone(),
            u.email.clone(),
            flag(u.is_active),
            flag(u.is_staff),
            flag(u.is_superuser),
            date(Some(u.date_joined)),
            date(u.last_login),
        ]);
    }
    table(&rows)
}

fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn date(at: Option<Timestamp>) -> String {
    match at.and_then(|t| u64::try_from(t.as_secs()).ok()) {
        Some(secs) => {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .to_string()
        }
        None => "-".to_owned(),
    }
}

async fn tokens(cmd: TokensCommand, config: &Config) -> Result<(), Error> {
    let db = startup::connect(config, config.server.auto_migrate).await?;
    let loaded = keys::load_or_create(config, &db.keys()).await?;
    let service = startup::service(config, &db, loaded.keys)?;
    match cmd {
        TokensCommand::FlushExpired { batch_size } => {
            let deleted = service.flush_expired(batch_size).await.map_err(|e| {
                Error::Database(format!("cannot flush expired tokens: {}", crate::error::chain(&e)))
            })?;
            print_out(&format!("deleted {deleted} expired tokens\n"))
        }
        TokensCommand::RevokeUser { name } => {
            let user = find_user(&db, &name).await?;
            let count = service.revoke_all_for_user(&user.id).await.map_err(|e| {
                Error::Database(format!("cannot revoke the tokens: {}", crate::error::chain(&e)))
            })?;
            print_out(&format!("blacklisted {count} tokens of {name}\n"))
        }
    }
}

fn parse_algorithm(name: Option<&str>, config: &Config) -> Result<Algorithm, Error> {
    match name {
        None => Ok(config.token.algorithm),
        Some(name) => name.parse::<Algorithm>().map_err(|e| {
            let all: Vec<_> = Algorithm::ALL.iter().map(|a| a.as_str()).collect();
            Error::config(format!("invalid value for --algorithm: {e} (supported: {})", all.join(", ")))
        }),
    }
}

async fn keys_command(cmd: KeysCommand, config: &Config) -> Result<(), Error> {
    if let KeysCommand::Generate { algorithm } = &cmd {
        let algorithm = parse_algorithm(algorithm.as_deref(), config)?;
        print_out(&keys::generate_text(algorithm)?)?;
        if std::io::stdout().is_terminal() {
            eprintln!(
                "# save it to a file readable only by the server and set JWT_SIGNING_KEY_FILE to its path"
            );
        }
        return Ok(());
    }
    let db = startup::connect(config, config.server.auto_migrate).await?;
    let store = db.keys();
    if config.has_configured_key() {
        eprintln!(
            "note: this configuration sets signing_key/signing_key_file, so the server ignores the keys stored in the database"
        );
    }
    match cmd {
        KeysCommand::Generate { .. } => Ok(()),
        KeysCommand::List => {
            let mut live =
                store.live_keys().await.map_err(|e| store_error("cannot read the signing keys", &e))?;
            live.sort_by(|a, b| {
                b.activated_at
                    .cmp(&a.activated_at)
                    .then(b.created_at.cmp(&a.created_at))
                    .then(b.kid.cmp(&a.kid))
            });
            let now = keys::now();
            let signing = keys::signing_kid(&live, config.token.algorithm, now).map(str::to_owned);
            let mut rows =
                vec![["KID", "ALGORITHM", "CREATED", "ACTIVATED", "RETIRED", "ROLE"].map(String::from)];
            for k in &live {
                let role = if Some(&k.kid) == signing.as_ref() {
                    "signing"
                } else if k.retired_at.is_some() {
                    "retired"
                } else if k.algorithm != config.token.algorithm {
                    "unused"
                } else if k.activated_at.is_some_and(|at| at > now) {
                    "pending"
                } else {
                    "verifying"
                };
                rows.push([
                    k.kid.clone(),
                    k.algorithm.to_string(),
                    date(Some(k.created_at)),
                    date(k.activated_at),
                    date(k.retired_at),
                    role.to_owned(),
                ]);
            }
            print_out(&table(&rows))
        }
        KeysCommand::Rotate { algorithm, activate_in } => {
            let algorithm = parse_algorithm(algorithm.as_deref(), config)?;
            // By default, give every replica two refresh intervals to learn the new key
            // (as a verifying key) before any of them signs with it.
            let activate_in = activate_in.unwrap_or(config.server.key_refresh_interval * 2);
            let kid = keys::create(&store, algorithm, "", activate_in).await?;
            if algorithm != config.token.algorithm {
                eprintln!(
                    "note: the configured algorithm is {}: servers ignore this key until JWT_ALGORITHM is {algorithm}",
                    config.token.algorithm
                );
            }
            print_out(&format!(
                "{kid}\nnew {algorithm} signing key {kid} becomes the signing key in {}; running servers \
                 accept its tokens within {} and tokens signed by older keys keep verifying until they are retired\n",
                humantime::format_duration(activate_in),
                humantime::format_duration(config.server.key_refresh_interval)
            ))
        }
        KeysCommand::Retire { kid, force } => {
            let live = keys::from_store(&store, config.token.algorithm, keys::now()).await?;
            let all = store.live_keys().await.map_err(|e| store_error("cannot read the signing keys", &e))?;
            if !all.iter().any(|k| k.kid == kid && k.retired_at.is_none()) {
                return Err(Error::command(format!("no live key with kid {kid:?}")));
            }
            if live.as_ref().is_some_and(|(_, current)| *current == kid) && !force {
                return Err(Error::command(format!(
                    "{kid} is the current signing key: run `jwt-server keys rotate` first (or pass --force)"
                )));
            }
            store
                .retire_key(&kid, keys::now())
                .await
                .map_err(|e| store_error("cannot retire the key", &e))?;
            print_out(&format!(
                "retired {kid}; running servers stop accepting its tokens within {}\n",
                humantime::format_duration(config.server.key_refresh_interval)
            ))
        }
    }
}

fn check_config(config: &Config) -> Result<(), Error> {
    // Validate configured key material too (a missing file, an HMAC secret for RS256, ...).
    startup::hasher(config)?;
    let key = match keys::configured(config)? {
        Some(_) => "signing key: configured (signing_key / signing_key_file)",
        None => "signing key: from the database (generated on first start if none)",
    };
    let mut out = String::from(
        "# effective configuration: defaults < config file < JWT_* environment < flags; secrets masked\n",
    );
    out.push_str(&format!("# {key}\n"));
    out.push_str(&config.to_masked_toml()?);
    print_out(&out)
}

/// Write to standard output; a closed pipe is not an error worth a panic.
fn print_out(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let result = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::runtime(format!("cannot write to standard output: {e}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let rows = [["A".to_owned(), "BB".to_owned()], ["ccc".to_owned(), "d".to_owned()]];
        assert_eq!(table(&rows), "A    BB\nccc  d\n");
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(date(Some(Timestamp::from_secs(0))), "1970-01-01T00:00:00Z");
        assert_eq!(date(None), "-");
    }
}

#[cfg(test)]
mod readme_tests {
    /// The README's jwt-core quickstart is the crate's doctest: every code line of the
    /// README block must be a line of the doctest (comments aside).
    #[test]
    fn readme_library_quickstart_matches_the_jwt_core_doctest() {
        let readme = include_str!("../../../README.md");
        let core = include_str!("../../jwt-core/src/lib.rs");
        let section = readme.split("## jwt-core as a library").nth(1).expect("README section");
        let block =
            section.split("```rust\n").nth(1).and_then(|b| b.split("```").next()).expect("rust block");
        let doctest: Vec<&str> =
            core.lines().filter_map(|l| l.strip_prefix("//! ").or_else(|| l.strip_prefix("//!"))).collect();
        let mut checked = 0;
        for line in
            block.lines().map(str::trim_end).filter(|l| !l.is_empty() && !l.trim_start().starts_with("//"))
        {
            assert!(doctest.contains(&line), "README line not in jwt-core's doctest: {line}");
            checked += 1;
        }
        assert!(checked >= 10, "{checked}");
    }
}
