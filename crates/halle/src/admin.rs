//! `halle admin`: the operator's commands on accounts, run on the server with the database in
//! hand. Passwords are read from the terminal without echo (asked twice), or as one line of
//! standard input when it is not a terminal (`printf '%s\n' "$PW" | halle admin create ...`);
//! never from the command line, which other users of the machine can read in the process list.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::Subcommand;
use store::Store;

/// What `halle admin` does.
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an administrator account (the first one on a fresh database).
    Create {
        /// The administrator's email address (the login).
        #[arg(long)]
        email: String,
        /// The name shown for this account.
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
    /// Set a new password on an account; its sessions and tokens end at once.
    ResetPassword {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
    /// Disable an account: it can no longer log in, its sessions and tokens end at once.
    Disable {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
    /// Let a disabled account log in again.
    Enable {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
}

impl AdminCommand {
    fn database_url(&self) -> &str {
        match self {
            Self::Create { database_url, .. }
            | Self::ResetPassword { database_url, .. }
            | Self::Disable { database_url, .. }
            | Self::Enable { database_url, .. } => database_url,
        }
    }
}

/// Runs an admin command. The schema is brought up to date first, as `halle serve` does (under
/// the same lock), so that `halle admin create` works on a database nothing has touched yet.
pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    let url = command.database_url().to_owned();
    let store = crate::connect(&url, crate::ONE_OFF_POOL).await?;
    store
        .migrate()
        .await
        .context("cannot apply the migrations")?;
    match command {
        AdminCommand::Create { email, name, .. } => {
            let password = read_password()?;
            let admin = store
                .create_admin(&email, &name, password)
                .await
                .map_err(explain)?;
            println!(
                "administrator {} created (account {}): log in at /login",
                admin.email, admin.account_id
            );
        }
        AdminCommand::ResetPassword { email, .. } => {
            let password = read_password()?;
            let account = store
                .reset_password(&email, password)
                .await
                .map_err(explain)?;
            println!(
                "password of {} reset; its sessions and tokens are ended",
                account.email
            );
        }
        AdminCommand::Disable { email, .. } => {
            let account = store.disable_account(&email).await.map_err(explain)?;
            println!(
                "{} disabled: it cannot log in, its sessions and tokens are ended",
                account.email
            );
        }
        AdminCommand::Enable { email, .. } => {
            let account = store.enable_account(&email).await.map_err(explain)?;
            println!("{} may log in again", account.email);
        }
    }
    Ok(())
}

/// Says on standard error how to create the first administrator when the database has none
/// that can log in (a fresh database, typically).
pub async fn tell_if_no_admin(store: &Store) {
    match store.active_admins().await {
        Ok(0) => eprintln!(
            "This database has no administrator yet. Create one with:\n    \
             halle admin create --email YOU@EXAMPLE.ORG --database-url SAME_URL\n\
             (it asks for the password; or pipe it on standard input)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot count the administrators"),
    }
}

/// A store error as the line an operator reads (its message, with the code when it has one).
fn explain(e: store::StoreError) -> anyhow::Error {
    match &e {
        store::StoreError::Invalid { code, message }
        | store::StoreError::Conflict { code, message } => anyhow::anyhow!("{message} ({code})"),
        _ => anyhow::Error::new(e),
    }
}

/// The new password: typed twice without echo on a terminal, else the first line of standard
/// input (without its line ending).
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")
            .context("cannot read the password from the terminal")?;
        let again = rpassword::prompt_password("The same again: ")
            .context("cannot read the password from the terminal")?;
        if first != again {
            anyhow::bail!("the two passwords differ: nothing changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password on standard input: give it as its first line");
    }
    Ok(password)
}
