//! What the `halle admin` command does to accounts, with the database in hand (no actor: whoever
//! runs the command on the server is the operator): create the first administrator, reset a
//! password, disable or enable an account, and count the administrators able to log in (so
//! that `halle serve` on a fresh database says how to create one).
//!
//! A password reset or a disabled account ends the account's sessions and tokens in the same
//! transaction: every node checks tokens against the database on each request and page
//! sessions on each POST (and at most [`crate::RECHECK`] later for a page that only reads), so
//! they stop at once everywhere.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::{
    Actor, NewAccount, Role, Store, StoreError,
    auth::{check_new_password, hash_now, normalise_email},
    entities::{account, api_token, session},
};

impl Store {
    /// Administrators that can log in (not disabled).
    pub async fn active_admins(&self) -> Result<u64, StoreError> {
        Ok(account::Entity::find()
            .filter(account::Column::Role.eq(Role::Admin.as_str()))
            .filter(account::Column::DisabledAt.is_null())
            .count(self.db())
            .await?)
    }

    /// Creates an administrator account (`halle admin create`); `409 email_taken` when the
    /// email is already used, the usual password rules otherwise.
    pub async fn create_admin(
        &self,
        email: &str,
        name: &str,
        password: String,
    ) -> Result<Actor, StoreError> {
        self.create_account(NewAccount {
            email: email.to_owned(),
            password,
            name: name.to_owned(),
            phone: None,
            role: Role::Admin,
            producer_id: None,
            market_id: None,
        })
        .await
    }

    /// Sets a new password on the account of `email` and ends its sessions and tokens.
    pub async fn reset_password(&self, email: &str, password: String) -> Result<Actor, StoreError> {
        check_new_password(&password)?;
        let found = self.account_by_email(email).await?;
        let hash = self.hashing.run(move || hash_now(&password)).await??;
        let id = found.id;
        let w = self.write().await?;
        let mut m: account::ActiveModel = found.into();
        m.password_hash = Set(hash);
        let updated = m.update(&w.tx).await?;
        end_everything(&w.tx, id).await?;
        w.commit().await?;
        self.forget_account(id);
        Actor::from_model(updated)
    }

    /// Disables the account of `email` (it can no longer log in) and ends its sessions and
    /// tokens, at once. Disabling a disabled account changes nothing.
    pub async fn disable_account(&self, email: &str) -> Result<Actor, StoreError> {
        let found = self.account_by_email(email).await?;
        let id = found.id;
        let w = self.write().await?;
        let updated = if found.disabled_at.is_none() {
            let mut m: account::ActiveModel = found.into();
            m.disabled_at = Set(Some(Utc::now()));
            m.update(&w.tx).await?
        } else {
            found
        };
        end_everything(&w.tx, id).await?;
        w.commit().await?;
        self.forget_account(id);
        Actor::from_model(updated)
    }

    /// Lets a disabled account log in again (with its password as it was).
    pub async fn enable_account(&self, email: &str) -> Result<Actor, StoreError> {
        let found = self.account_by_email(email).await?;
        let mut m: account::ActiveModel = found.into();
        m.disabled_at = Set(None);
        Actor::from_model(m.update(self.db()).await?)
    }

    async fn account_by_email(&self, email: &str) -> Result<account::Model, StoreError> {
        crate::text::check_chars("email", email)?;
        account::Entity::find()
            .filter(account::Column::Email.eq(normalise_email(email)))
            .one(self.db())
            .await?
            .ok_or_else(|| {
                StoreError::invalid(
                    "unknown_account",
                    format!("no account has the email address {}", email.trim()),
                )
            })
    }

    /// Forgets an account's cached tokens and sessions on this node (after ending them).
    pub(crate) fn forget_account(&self, account_id: i64) {
        self.tokens.forget_account(account_id);
        self.sessions.forget_account(account_id);
    }
}

/// Deletes every token and session of an account, inside the caller's transaction.
pub(crate) async fn end_everything(
    tx: &sea_orm::DatabaseTransaction,
    account_id: i64,
) -> Result<(), StoreError> {
    api_token::Entity::delete_many()
        .filter(api_token::Column::AccountId.eq(account_id))
        .exec(tx)
        .await?;
    session::Entity::delete_many()
        .filter(session::Column::AccountId.eq(account_id))
        .exec(tx)
        .await?;
    Ok(())
}
