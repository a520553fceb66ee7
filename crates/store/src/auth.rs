//! Accounts, roles, password hashing (argon2) and bearer tokens.

use std::collections::HashMap;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, SqlErr, Statement,
};
use sha2::{Digest, Sha256};

use crate::{
    Store, StoreError,
    entities::{account, api_token},
};

/// How long a bearer token from `POST /api/v1/auth/token` stays valid (unless logged out or
/// revoked before).
const TOKEN_LIFETIME_DAYS: i64 = 30;

/// How long a token's account (name, role, market) is kept in memory before it is read again:
/// a changed role takes effect within this delay. The token itself is checked against the
/// database on every request (one primary-key look-up), so a logout or a revocation on any node
/// takes effect at once everywhere. Measured with pgbench on the shared 2-core machine: that
/// probe takes 0.16 ms a round trip (0.07 ms of it in PostgreSQL) against 0.05 ms for
/// `SELECT 1`. A generation counter would cost the same round trip; LISTEN/NOTIFY would not be
/// "at once" and SQLite has none.
const TOKEN_CACHE_SECONDS: u64 = 30;

/// Past this many cached tokens, the cache starts afresh (a crude bound, enough for one node).
const TOKEN_CACHE_MAX: usize = 100_000;

/// Expired tokens are deleted when a token is issued, at most this often per node.
const TOKEN_PURGE_SECONDS: i64 = 60;

/// A token's account, when the token expires, and when its account was last read.
type CachedToken = (Actor, DateTime<Utc>, std::time::Instant);

/// Bearer tokens' accounts recently read from the database, by SHA-256.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: std::sync::RwLock<HashMap<String, CachedToken>>,
    /// When this node last purged expired tokens (Unix seconds).
    last_purge: std::sync::atomic::AtomicI64,
}

impl TokenCache {
    fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<Actor> {
        let entries = self.entries.read().ok()?;
        let (actor, expires_at, cached_at) = entries.get(hash)?;
        (*expires_at > now && cached_at.elapsed().as_secs() < TOKEN_CACHE_SECONDS)
            .then(|| actor.clone())
    }

    fn put(&self, hash: String, actor: Actor, expires_at: DateTime<Utc>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= TOKEN_CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, (actor, expires_at, std::time::Instant::now()));
        }
    }

    fn forget(&self, hash: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(hash);
        }
    }

    pub(crate) fn forget_account(&self, account_id: i64) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, (a, _, _)| a.account_id != account_id);
        }
    }

    /// True once a minute at most: time to purge expired tokens.
    fn purge_due(&self, now: DateTime<Utc>) -> bool {
        use std::sync::atomic::Ordering;
        let last = self.last_purge.load(Ordering::Relaxed);
        now.timestamp() - last >= TOKEN_PURGE_SECONDS
            && self
                .last_purge
                .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// What an account may do. Stored as its lowercase name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Orders for themselves.
    Consumer,
    /// Manages one producer's products and offers.
    Producer,
    /// Runs one market: cycles, slots, pickup points; may order on a consumer's behalf.
    Coordinator,
    /// Checks baskets out at a market's pickup points.
    Volunteer,
    /// Speaks for a venue hosting pickup slots (a town hall, a shop, a company): sees the slots
    /// planned there and flags the dates the venue is unavailable.
    Host,
    /// Everything, everywhere.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Consumer => "consumer",
            Role::Producer => "producer",
            Role::Coordinator => "coordinator",
            Role::Volunteer => "volunteer",
            Role::Host => "host",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or requested role name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "consumer" => Role::Consumer,
            "producer" => Role::Producer,
            "coordinator" => Role::Coordinator,
            "volunteer" => Role::Volunteer,
            "host" => Role::Host,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// The authenticated account behind a request, with what it is attached to.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The account's id.
    pub account_id: i64,
    /// Its display name.
    pub name: String,
    /// Its login.
    pub email: String,
    /// What it may do.
    pub role: Role,
    /// For a producer account: the producer it manages.
    pub producer_id: Option<i64>,
    /// For a coordinator or volunteer: the market it works for.
    pub market_id: Option<i64>,
    /// Set only by [`Store::authenticate_for_order`]: the SHA-256 of a bearer token this node
    /// knew from memory and has not checked against the database for this request. The order
    /// writer checks it in the basket's own transaction; anything else must not see it set.
    pub unconfirmed_token: Option<String>,
}

impl Actor {
    /// True for an admin, or a coordinator of `market_id`.
    pub fn coordinates(&self, market_id: i64) -> bool {
        self.role == Role::Admin
            || (self.role == Role::Coordinator && self.market_id == Some(market_id))
    }

    /// True for an admin, or the producer account of `producer_id`.
    pub fn is_producer(&self, producer_id: i64) -> bool {
        self.role == Role::Admin
            || (self.role == Role::Producer && self.producer_id == Some(producer_id))
    }

    pub(crate) fn from_model(m: account::Model) -> Result<Self, StoreError> {
        let role = Role::parse(&m.role).ok_or_else(|| {
            StoreError::Db(sea_orm::DbErr::Custom(format!("unknown role {:?}", m.role)))
        })?;
        Ok(Self {
            account_id: m.id,
            name: m.name,
            email: m.email,
            role,
            producer_id: m.producer_id,
            market_id: m.market_id,
            unconfirmed_token: None,
        })
    }
}

/// An account to create.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// Login, unique (compared case-insensitively).
    pub email: String,
    /// Clear-text password; only its argon2 hash is stored.
    pub password: String,
    /// Display name (shown on distribution sheets).
    pub name: String,
    /// Optional phone number.
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// The producer, for a producer account.
    pub producer_id: Option<i64>,
    /// The market, for a coordinator or volunteer.
    pub market_id: Option<i64>,
}

/// A freshly issued bearer token.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    /// The secret to send as `Authorization: Bearer ...`; only its SHA-256 is stored.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Whose it is.
    pub actor: Actor,
}

/// The shortest password a new account may have.
pub const MIN_PASSWORD_CHARS: usize = 10;

pub(crate) fn hash_now(password: &str) -> Result<String, StoreError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Custom(format!(
                "password hashing failed: {e}"
            )))
        })
}

/// The one rule for a new password (sign-up, change, invitation, `halle admin`): at least
/// [`MIN_PASSWORD_CHARS`] characters, at most 1024 bytes, and not one of the most common
/// passwords (`common_passwords`).
pub(crate) fn check_new_password(password: &str) -> Result<(), StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 1024 {
        return Err(StoreError::invalid(
            "weak_password",
            format!(
                "a password needs at least {MIN_PASSWORD_CHARS} characters (and at most 1024 bytes)"
            ),
        ));
    }
    if crate::common_passwords::is_common(password) {
        return Err(StoreError::invalid(
            "common_password",
            "this password is among the most common ones, which are tried first: choose another",
        ));
    }
    Ok(())
}

fn verify_now(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Hashes a password with argon2id (default parameters), off the async threads, with no bound:
/// for bulk loaders (the demo, fixtures, benchmarks). Requests go through the store's bounded
/// hashing gate instead.
pub async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Custom(format!(
                "password hashing task failed: {e}"
            )))
        })?
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Store {
    /// Creates an account; `409 email_taken` if the email is already used.
    pub async fn create_account(&self, new: NewAccount) -> Result<Actor, StoreError> {
        let email = normalise_email(&new.email);
        crate::text::check_all([
            ("email", Some(email.as_str())),
            ("name", Some(&new.name)),
            ("phone", new.phone.as_deref()),
        ])?;
        if !email.contains('@') || email.len() > 254 {
            return Err(StoreError::invalid(
                "invalid_email",
                "this does not look like an email address",
            ));
        }
        check_new_password(&new.password)?;
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::invalid(
                "invalid_name",
                "a name is required (at most 200 characters)",
            ));
        }
        let password = new.password;
        let hash = self.hashing.run(move || hash_now(&password)).await??;
        self.insert_account_with_hash(
            &email,
            hash,
            name,
            new.phone,
            new.role,
            new.producer_id,
            new.market_id,
        )
        .await
    }

    /// Inserts an account whose password is already hashed by [`hash_password`]: bulk loaders
    /// (the demo, test fixtures, benchmarks) hash a shared password once instead of per account.
    #[expect(
        clippy::too_many_arguments,
        reason = "a row's worth of columns, all named at the call"
    )]
    pub async fn insert_account_with_hash(
        &self,
        email: &str,
        password_hash: String,
        name: String,
        phone: Option<String>,
        role: Role,
        producer_id: Option<i64>,
        market_id: Option<i64>,
    ) -> Result<Actor, StoreError> {
        let model = account::ActiveModel {
            email: Set(normalise_email(email)),
            password_hash: Set(password_hash),
            name: Set(name),
            phone: Set(phone),
            role: Set(role.as_str().to_owned()),
            producer_id: Set(producer_id),
            market_id: Set(market_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        match model.insert(self.db()).await {
            Ok(m) => Actor::from_model(m),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Err(
                StoreError::conflict("email_taken", "an account already uses this email address"),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// The account of an email and password, or `Unauthenticated` without saying which of the
    /// two was wrong (and in the same time either way).
    pub(crate) async fn check_credentials(
        &self,
        email: &str,
        password: &str,
    ) -> Result<account::Model, StoreError> {
        crate::text::check_chars("email", email)?;
        let found = account::Entity::find()
            .filter(account::Column::Email.eq(normalise_email(email)))
            .one(self.db())
            .await?;
        // Verify against a throw-away hash when the email is unknown, so that the answer takes
        // as long either way and does not tell which emails have accounts.
        let hash = found
            .as_ref()
            .map(|a| a.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_owned());
        let password = password.to_owned();
        let ok = self
            .hashing
            .run(move || verify_now(&password, &hash))
            .await?;
        let account = found
            .filter(|_| ok)
            .ok_or_else(|| StoreError::Unauthenticated("wrong email or password".into()))?;
        if account.disabled_at.is_some() {
            return Err(StoreError::Unauthenticated(
                "this account is disabled: ask an administrator".into(),
            ));
        }
        Ok(account)
    }

    /// Checks an email and password and issues a bearer token.
    pub async fn issue_token(&self, email: &str, password: &str) -> Result<TokenGrant, StoreError> {
        let account = self.check_credentials(email, password).await?;
        let token = hex::encode(rand::random::<[u8; 32]>());
        let now = Utc::now();
        self.purge_expired_tokens(now).await?;
        let expires_at = now + Duration::days(TOKEN_LIFETIME_DAYS);
        api_token::ActiveModel {
            token_hash: Set(token_hash(&token)),
            account_id: Set(account.id),
            created_at: Set(now),
            expires_at: Set(expires_at),
        }
        .insert(self.db())
        .await?;
        Ok(TokenGrant {
            token,
            expires_at,
            actor: Actor::from_model(account)?,
        })
    }

    /// Finds who a bearer token belongs to. The token is looked up in the database on every
    /// call, so that one deleted (logout, revocation, password change) on any node is refused
    /// at once; its account is read from memory when this node read it less than
    /// [`TOKEN_CACHE_SECONDS`] ago, which makes the look-up a single primary-key probe.
    pub async fn authenticate(&self, token: &str) -> Result<Actor, StoreError> {
        let hash = token_hash(token);
        let now = Utc::now();
        if let Some(actor) = self.tokens.get(&hash, now) {
            self.confirm_token(&hash, actor.account_id, now).await?;
            return Ok(actor);
        }
        self.authenticate_from_database(hash, now).await
    }

    /// [`Store::authenticate`] for placing an order, the one request a rush is made of: a
    /// token this node knows from memory is not looked up now but marked
    /// [`Actor::unconfirmed_token`], and the order writer checks every basket's token in the
    /// batch's own transaction (one query a batch instead of one a basket). A token logged out
    /// or revoked on any node is still refused at once: its basket is not written.
    pub async fn authenticate_for_order(&self, token: &str) -> Result<Actor, StoreError> {
        let hash = token_hash(token);
        let now = Utc::now();
        match self.tokens.get(&hash, now) {
            Some(mut actor) => {
                actor.unconfirmed_token = Some(hash);
                Ok(actor)
            }
            None => self.authenticate_from_database(hash, now).await,
        }
    }

    /// Checks an actor from [`Store::authenticate_for_order`] against the database, for the
    /// paths of placing an order that do not go through the order writer.
    pub(crate) async fn confirm_actor(&self, actor: &Actor) -> Result<(), StoreError> {
        match &actor.unconfirmed_token {
            Some(hash) => self.confirm_token(hash, actor.account_id, Utc::now()).await,
            None => Ok(()),
        }
    }

    /// A token the writer found gone: this node forgets it too.
    pub(crate) fn forget_token(&self, hash: &str) {
        self.tokens.forget(hash);
    }

    /// The token still exists, for this account, and has not expired: one primary-key probe.
    async fn confirm_token(
        &self,
        hash: &str,
        account_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let backend = self.db().get_database_backend();
        let sql = crate::orders::numbered(
            backend,
            "SELECT account_id, expires_at FROM api_tokens WHERE token_hash = ?",
        );
        let row = self
            .db()
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [hash.to_owned().into()],
            ))
            .await?;
        let valid = match &row {
            Some(r) => {
                r.try_get::<i64>("", "account_id")? == account_id
                    && r.try_get::<DateTime<Utc>>("", "expires_at")? > now
            }
            None => false,
        };
        if valid {
            return Ok(());
        }
        self.tokens.forget(hash);
        if row.is_some() {
            api_token::Entity::delete_by_id(hash.to_owned())
                .exec(self.db())
                .await?;
        }
        Err(unauthenticated())
    }

    /// The token and its account, read from the database and kept in this node's memory.
    async fn authenticate_from_database(
        &self,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<Actor, StoreError> {
        let backend = self.db().get_database_backend();
        // The token and its account in one query: after a quiet spell, the first baskets of a
        // rush all come with tokens this process has not seen yet.
        let sql = crate::orders::numbered(
            backend,
            &format!(
                "SELECT {}, t.expires_at AS token_expires_at FROM api_tokens t \
                 JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = ?",
                crate::orders::columns::<account::Entity>("a"),
            ),
        );
        let row = self
            .db()
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [hash.clone().into()],
            ))
            .await?
            .ok_or_else(unauthenticated)?;
        let expires_at: DateTime<Utc> = row.try_get("", "token_expires_at")?;
        if expires_at <= now {
            // An expired token shown again goes at once; the others, with the next purge.
            api_token::Entity::delete_by_id(hash)
                .exec(self.db())
                .await?;
            return Err(unauthenticated());
        }
        let a = account::Model::from_query_result(&row, "a_")?;
        if a.disabled_at.is_some() {
            return Err(unauthenticated());
        }
        let actor = Actor::from_model(a)?;
        self.tokens.put(hash, actor.clone(), expires_at);
        Ok(actor)
    }

    /// Logs out: the token stops working at once, on every node sharing the database.
    pub async fn revoke_token(&self, token: &str) -> Result<(), StoreError> {
        let hash = token_hash(token);
        let res = api_token::Entity::delete_many()
            .filter(api_token::Column::TokenHash.eq(hash.clone()))
            .exec(self.db())
            .await?;
        self.tokens.forget(&hash);
        if res.rows_affected == 0 {
            return Err(StoreError::Unauthenticated(
                "missing, unknown or expired token".into(),
            ));
        }
        Ok(())
    }

    /// Revokes every token of an account, and its page sessions (on every device and node).
    pub async fn revoke_tokens(&self, account_id: i64) -> Result<u64, StoreError> {
        let res = api_token::Entity::delete_many()
            .filter(api_token::Column::AccountId.eq(account_id))
            .exec(self.db())
            .await?;
        self.tokens.forget_account(account_id);
        self.end_sessions(account_id).await?;
        Ok(res.rows_affected)
    }

    /// Changes the actor's password, given the current one, and revokes all its tokens: every
    /// session, this one included, must log in again.
    pub async fn change_password(
        &self,
        actor: &Actor,
        old_password: &str,
        new_password: String,
    ) -> Result<(), StoreError> {
        let account = account::Entity::find_by_id(actor.account_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::Unauthenticated("this account no longer exists".into()))?;
        check_new_password(&new_password)?;
        let old_password = old_password.to_owned();
        let stored = account.password_hash.clone();
        if !self
            .hashing
            .run(move || verify_now(&old_password, &stored))
            .await?
        {
            return Err(StoreError::forbidden("the current password is wrong"));
        }
        let hash = self.hashing.run(move || hash_now(&new_password)).await??;
        let w = self.write().await?;
        let mut m: account::ActiveModel = account.into();
        m.password_hash = Set(hash);
        m.update(&w.tx).await?;
        api_token::Entity::delete_many()
            .filter(api_token::Column::AccountId.eq(actor.account_id))
            .exec(&w.tx)
            .await?;
        crate::entities::session::Entity::delete_many()
            .filter(crate::entities::session::Column::AccountId.eq(actor.account_id))
            .exec(&w.tx)
            .await?;
        w.commit().await?;
        self.tokens.forget_account(actor.account_id);
        self.sessions.forget_account(actor.account_id);
        Ok(())
    }

    /// Deletes expired tokens (at most once a minute per node, when a token is issued).
    async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        if self.tokens.purge_due(now) {
            api_token::Entity::delete_many()
                .filter(api_token::Column::ExpiresAt.lte(now))
                .exec(self.db())
                .await?;
        }
        Ok(())
    }

    /// Loads an account as an actor.
    pub async fn actor(&self, account_id: i64) -> Result<Actor, StoreError> {
        let a = account::Entity::find_by_id(account_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("account", account_id))?;
        Actor::from_model(a)
    }
}

fn unauthenticated() -> StoreError {
    StoreError::Unauthenticated("missing, unknown or expired token".into())
}

/// A valid argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Y3x1rX0Y0dVYqV6Vq1S7m3p8f0Wc7C8y0Q1gk2Qm9bA";
