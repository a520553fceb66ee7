//! `halle backup` and `halle restore`.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy of the live database into a new file while
//! the server keeps serving (an online backup: readers and the writer go on); restoring copies
//! that file to where a fresh database will be, refusing to overwrite one.
//! PostgreSQL: the documented tools do it better than we could, so the command runs them (and
//! prints the line it runs): `pg_dump --format=custom --no-owner` for a backup (with
//! `--schema=NAME` when the URL puts Halle in a schema, `options=-c search_path=NAME`),
//! `pg_restore --no-owner --exit-on-error` into an empty database for a restore. Both need PostgreSQL's client tools on the PATH
//! (Debian: `postgresql-client`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use sea_orm::ConnectionTrait;

/// Writes a backup of `database_url` to `to` (which must not exist).
pub async fn backup(database_url: &str, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        anyhow::bail!("{} exists already: give a new file", to.display());
    }
    if database_url.starts_with("sqlite:") {
        let store = crate::connect(database_url, crate::ONE_OFF_POOL).await?;
        let target = to.to_str().context("the backup's path is not UTF-8")?;
        store
            .db()
            .execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
            .await
            .with_context(|| format!("cannot write the backup {}", to.display()))?;
        println!(
            "backup of {} written to {}",
            crate::redact(database_url),
            to.display()
        );
        return Ok(());
    }
    let to_text = to.to_str().context("the backup's path is not UTF-8")?;
    let mut args = vec![
        "--format=custom",
        "--no-owner",
        "--file",
        to_text,
        "--dbname",
        database_url,
    ];
    // Halle in a schema of a shared database: that schema, not the whole database.
    let schema = search_path(database_url).map(|s| format!("--schema={s}"));
    if let Some(s) = &schema {
        args.push(s);
    }
    run("pg_dump", &args, database_url)?;
    println!(
        "backup of {} written to {}",
        crate::redact(database_url),
        to.display()
    );
    Ok(())
}

/// Restores the backup `from` into `database_url`, which must be a new SQLite file or an
/// empty PostgreSQL database.
pub async fn restore(database_url: &str, from: &Path) -> anyhow::Result<()> {
    if !from.is_file() {
        anyhow::bail!("no backup file at {}", from.display());
    }
    if let Some(rest) = database_url.strip_prefix("sqlite:") {
        let path = PathBuf::from(
            rest.trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or(""),
        );
        if path.exists() {
            anyhow::bail!(
                "{} exists already: restore into a new file (move the old one aside first)",
                path.display()
            );
        }
        std::fs::copy(from, &path)
            .with_context(|| format!("cannot copy {} to {}", from.display(), path.display()))?;
        // Check it opens and is a Halle database this build can serve.
        let store = crate::connect(database_url, crate::ONE_OFF_POOL).await?;
        let pending = store.pending_migrations().await?;
        println!(
            "restored {} into {}{}",
            from.display(),
            path.display(),
            if pending.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} migration(s) to apply: `halle migrate`)",
                    pending.len()
                )
            }
        );
        return Ok(());
    }
    let from_text = from.to_str().context("the backup's path is not UTF-8")?;
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            database_url,
            from_text,
        ],
        database_url,
    )?;
    println!(
        "restored {} into {}",
        from.display(),
        crate::redact(database_url)
    );
    Ok(())
}

/// The one schema a PostgreSQL URL puts Halle in, from its `options=-c search_path=NAME`
/// (percent-encoded or not); `None` without one, or for a list of schemas.
fn search_path(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let options = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("options="))
        .map(percent_decode)?;
    let value = options
        .split_whitespace()
        .find_map(|o| o.strip_prefix("search_path="))
        .or_else(|| {
            let at = options.find("search_path=")?;
            options[at + "search_path=".len()..]
                .split_whitespace()
                .next()
        })?;
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| value.to_owned())
}

/// `%XX` and `+` decoded, as in a URL's query.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a PostgreSQL client tool, printing the command (with the URL's password hidden).
fn run(tool: &str, args: &[&str], url: &str) -> anyhow::Result<()> {
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if *a == url {
                crate::redact(url)
            } else {
                (*a).to_owned()
            }
        })
        .collect();
    eprintln!("running: {tool} {}", shown.join(" "));
    let status = std::process::Command::new(tool)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {tool}: install PostgreSQL's client tools"))?;
    if !status.success() {
        anyhow::bail!("{tool} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::search_path;

    #[test]
    fn the_schema_of_a_url_is_read_from_its_search_path() {
        assert_eq!(
            search_path("postgres://u@h/db?options=-c%20search_path%3Dhalle_t1").as_deref(),
            Some("halle_t1")
        );
        assert_eq!(
            search_path("postgres://u@h/db?sslmode=disable&options=-c search_path=market")
                .as_deref(),
            Some("market")
        );
        assert_eq!(search_path("postgres://u@h/db"), None);
        assert_eq!(
            search_path("postgres://u@h/db?options=-c%20search_path%3Da,b"),
            None
        );
        assert_eq!(
            search_path("postgres://u@h/db?options=-c%20search_path%3D\"x;y\""),
            None
        );
    }
}
