//! "Mot de passe oublié ?": a one-time link, mailed to an account's address, that sets a new
//! password.
//!
//! Asking ([`Store::request_password_reset`]) answers the same whether or not the address has
//! an account (no account enumeration): the caller says "if it has one, a mail is on its way"
//! in every case. For an account that can log in, a reset row and its mail (the outbox row,
//! kind `password_reset`, in the account's language) commit together. The link's token is
//! random; only its SHA-256 is stored, as for sessions and invitations. One mail per account
//! every [`RESET_THROTTLE_MINUTES`] at most: a reset younger than that is the answer, and the
//! outbox's unique key (the account and the window of time) keeps two requests at once from
//! mailing twice.
//!
//! The outbox row must carry the link to render it: its payload is emptied once the reset is
//! used and, for the others, once their link has expired (at the next request of any account),
//! so the database holds a usable token no longer than the mail's own life.
//!
//! Using the link ([`Store::complete_password_reset`]) checks the new password as everywhere
//! (length, common passwords), then in one transaction claims the reset (guarded on "not used
//! and not expired", so two tabs cannot both use it), sets the password, retires the account's
//! other resets and ends every session and bearer token of the account, on every node.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement, sea_query::Expr,
};

use crate::{
    Store, StoreError,
    auth::{check_new_password, hash_now, normalise_email, token_hash},
    entities::{account, password_reset},
    members::INTERNAL_EMAIL_DOMAIN,
    outbox::{NewMail, enqueue_to_accounts, kind},
};

/// How long a reset link works, in minutes.
pub const RESET_MINUTES: i64 = 60;

/// At most one reset mail per account within this many minutes.
pub const RESET_THROTTLE_MINUTES: i64 = 5;

/// A reset link that still works, as its page shows it.
#[derive(Clone, Debug)]
pub struct PasswordResetView {
    /// The account whose password it sets.
    pub account_id: i64,
    /// Its login (the link came to this address).
    pub email: String,
    /// Until when the link works.
    pub expires_at: DateTime<Utc>,
}

fn used() -> StoreError {
    StoreError::conflict(
        "reset_used",
        "this password reset link was already used: ask for a new one",
    )
}

fn expired() -> StoreError {
    StoreError::conflict(
        "reset_expired",
        "this password reset link has expired: ask for a new one",
    )
}

fn unknown() -> StoreError {
    StoreError::not_found("password reset", 0)
}

impl Store {
    /// Asks for a reset link for `email`. Answers `Ok` whether or not the address has an
    /// account (nor says whether a mail went): only an account that can log in, with a real
    /// address and no reset in the last [`RESET_THROTTLE_MINUTES`], gets one.
    pub async fn request_password_reset(&self, email: &str) -> Result<(), StoreError> {
        let email = normalise_email(email);
        if crate::text::check_chars("email", &email).is_err()
            || !email.contains('@')
            || email.len() > 254
            || email.ends_with(&format!("@{INTERNAL_EMAIL_DOMAIN}"))
        {
            return Ok(());
        }
        let Some(found) = account::Entity::find()
            .filter(account::Column::Email.eq(email))
            .filter(account::Column::DisabledAt.is_null())
            .one(self.db())
            .await?
        else {
            return Ok(());
        };
        let now = Utc::now();
        let window = Duration::minutes(RESET_THROTTLE_MINUTES);
        let recent = password_reset::Entity::find()
            .filter(password_reset::Column::AccountId.eq(found.id))
            .filter(password_reset::Column::CreatedAt.gt(now - window))
            .order_by_desc(password_reset::Column::CreatedAt)
            .one(self.db())
            .await?;
        if recent.is_some() {
            return Ok(());
        }
        let token = hex::encode(rand::random::<[u8; 32]>());
        let w = self.write().await?;
        forget_expired_links(&w.tx, now).await?;
        let row = password_reset::ActiveModel {
            account_id: Set(found.id),
            token_hash: Set(token_hash(&token)),
            created_at: Set(now),
            expires_at: Set(now + Duration::minutes(RESET_MINUTES)),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&w.tx)
        .await?;
        let mail = NewMail {
            kind: kind::PASSWORD_RESET,
            market_id: None,
            // Per account and window of time: two requests at once make one mail.
            unique_key: Some(format!(
                "password_reset:{}",
                now.timestamp() / window.num_seconds()
            )),
            payload: serde_json::json!({
                "reset_id": row.id,
                "path": format!("/password-reset/{token}"),
                "minutes": RESET_MINUTES,
            }),
        };
        if enqueue_to_accounts(&w.tx, &mail, &[found.id]).await? == 1 {
            w.commit().await?;
        }
        // Otherwise another request of the same window mailed it: this one's row is rolled back.
        Ok(())
    }

    /// The reset of a link: 404 for an unknown link (or a disabled account), 409 `reset_used`
    /// or `reset_expired` for one that no longer works.
    pub async fn password_reset(&self, token: &str) -> Result<PasswordResetView, StoreError> {
        let (row, acc) = self.reset_row(token).await?;
        Ok(PasswordResetView {
            account_id: acc.id,
            email: acc.email,
            expires_at: row.expires_at,
        })
    }

    /// Sets a new password through a reset link: the link stops working, and every session and
    /// token of the account ends (on every node). Errors as [`Store::password_reset`], and
    /// 422 `weak_password` or `common_password` for a password the rules refuse.
    pub async fn complete_password_reset(
        &self,
        token: &str,
        new_password: String,
    ) -> Result<(), StoreError> {
        let (row, acc) = self.reset_row(token).await?;
        check_new_password(&new_password)?;
        let hash = self.hashing.run(move || hash_now(&new_password)).await??;
        let now = Utc::now();
        let w = self.write().await?;
        // The guard makes the link single-use, whatever the number of tabs or nodes.
        let claimed = password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(Some(now)))
            .filter(password_reset::Column::Id.eq(row.id))
            .filter(password_reset::Column::UsedAt.is_null())
            .filter(password_reset::Column::ExpiresAt.gt(now))
            .exec(&w.tx)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(used());
        }
        // The account's other links stop too: the password they would replace is gone.
        password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(Some(now)))
            .filter(password_reset::Column::AccountId.eq(acc.id))
            .filter(password_reset::Column::UsedAt.is_null())
            .exec(&w.tx)
            .await?;
        let id = acc.id;
        let mut m: account::ActiveModel = acc.into();
        m.password_hash = Set(hash);
        m.update(&w.tx).await?;
        crate::accounts_admin::end_everything(&w.tx, id).await?;
        forget_links_of(&w.tx, id).await?;
        w.commit().await?;
        self.forget_account(id);
        Ok(())
    }

    /// The reset row of a link and its account, checked as [`Store::password_reset`] says.
    async fn reset_row(
        &self,
        token: &str,
    ) -> Result<(password_reset::Model, account::Model), StoreError> {
        // A token is 64 hex digits; anything else is not worth a query.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unknown());
        }
        let row = password_reset::Entity::find()
            .filter(password_reset::Column::TokenHash.eq(token_hash(&token.to_ascii_lowercase())))
            .one(self.db())
            .await?
            .ok_or_else(unknown)?;
        let acc = account::Entity::find_by_id(row.account_id)
            .one(self.db())
            .await?
            .filter(|a| a.disabled_at.is_none())
            .ok_or_else(unknown)?;
        if row.used_at.is_some() {
            return Err(used());
        }
        if row.expires_at <= Utc::now() {
            return Err(expired());
        }
        Ok((row, acc))
    }
}

/// `$1, $2...` as the backend wants them (SQLite reads `?1, ?2...`).
fn statement(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Empties the payload (the link) of reset mails already sent or given up whose link has
/// expired, inside the caller's transaction.
async fn forget_expired_links(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    db.execute_raw(statement(
        backend,
        "UPDATE outbox SET payload = '{}' WHERE kind = $1 AND state <> 'pending' \
         AND created_at < $2 AND payload <> '{}'",
        vec![
            kind::PASSWORD_RESET.into(),
            (now - Duration::minutes(RESET_MINUTES)).into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Empties the payload (the link) of an account's reset mails already sent or given up, inside
/// the caller's transaction: its links no longer work.
async fn forget_links_of(db: &impl ConnectionTrait, account_id: i64) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    db.execute_raw(statement(
        backend,
        "UPDATE outbox SET payload = '{}' WHERE kind = $1 AND account_id = $2 \
         AND state <> 'pending' AND payload <> '{}'",
        vec![kind::PASSWORD_RESET.into(), account_id.into()],
    ))
    .await?;
    Ok(())
}
