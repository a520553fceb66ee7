//! Cookie sessions of the pages, kept in the database so that any node sharing it serves any
//! session, with the CSRF token of each and the member a mediator is ordering for.
//!
//! The cookie holds a random secret; the table holds its SHA-256, so a copy of the database
//! opens no session. A session ends at logout, at a password change (every session of the
//! account), or [`SESSION_DAYS`] after it began.
//!
//! A session ended on any node (logout, password change) is refused at once everywhere, for
//! reading as for writing: every request probes the session's row by its primary key, in a
//! query that begins after the request arrived (the probes of concurrent pages share one such
//! query: `Probes`). A page
//! that changes something reads the whole session afresh; a page that only shows takes the
//! account and the rest from this node's copy when it was read less than [`RECHECK`] ago, so
//! its check is that one probe of a single indexed row, the same as a bearer token's, instead
//! of the session joined with its account and member.

use std::{
    collections::HashMap,
    sync::{Mutex, RwLock},
    time::{Duration as StdDuration, Instant},
};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, Statement,
};

use crate::{
    Actor, Store, StoreError,
    auth::token_hash,
    entities::{account, session},
};

/// How long a session lasts from login.
pub const SESSION_DAYS: i64 = 30;

/// How long a node trusts its copy of a session's account (name, role, language) for a page
/// that changes nothing; whether the session still exists is checked on every request.
pub const RECHECK: StdDuration = StdDuration::from_secs(1);

/// Past this many kept sessions, the copies start afresh.
const CACHE_MAX: usize = 100_000;

/// A session just opened: the secret goes into the cookie, and nowhere else.
#[derive(Clone, Debug)]
pub struct SessionGrant {
    /// The cookie's value.
    pub secret: String,
    /// The session as it now stands.
    pub session: Session,
}

/// An open session.
#[derive(Clone, Debug)]
pub struct Session {
    /// Whose it is.
    pub actor: Actor,
    /// The token every form of this session carries.
    pub csrf: String,
    /// The member a coordinator is ordering for, if any.
    pub acting_for: Option<i64>,
    /// That member's name.
    pub acting_for_name: Option<String>,
    /// The account's language ("fr" or "en").
    pub language: String,
    /// The account's phone.
    pub phone: Option<String>,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// Sessions recently read from the database, by the SHA-256 of their secret.
#[derive(Default)]
pub(crate) struct SessionCache {
    entries: RwLock<HashMap<String, (Session, Instant)>>,
    /// The probes of pages waiting for their session's row.
    probes: Mutex<Probes>,
}

/// Pages' probes of their session's row. A probe waits for a query that begins after it
/// arrived: a session ended anywhere before the probe is seen ended, as with a query of its
/// own. While [`PROBE_QUERIES`] queries run, the probes that arrive wait together for the next,
/// which answers them all: under a rush, a query answers a few dozen pages instead of one.
#[derive(Default)]
struct Probes {
    waiting: Vec<(String, tokio::sync::oneshot::Sender<Option<Option<Stand>>>)>,
    /// How many tasks answer them (at most [`PROBE_QUERIES`]).
    running: usize,
}

/// At most this many probing queries at a time: a page's probe waits for one query at most
/// (one begins as soon as one ends), and a query answers what came in while the others ran.
/// One: under a rush of shop pages on PostgreSQL (read bench, side by side), one query at a
/// time served 20,000 – 24,000 pages/s, p99 7 – 9 ms; two 18,600 – 21,600; four 16,400 –
/// 19,600, p99 10 – 12 ms; eight 13,500 – 14,700, p99 16 – 19 ms: fewer, larger queries cost
/// the database less than the short wait they add. SQLite did not tell them apart.
const PROBE_QUERIES: usize = 1;

/// At most this many sessions in one probing query.
const PROBES_PER_QUERY: usize = 500;

/// What a session's row says, as probed.
#[derive(Clone, Debug)]
struct Stand {
    account_id: i64,
    acting_for: Option<i64>,
    expires_at: DateTime<Utc>,
}

impl SessionCache {
    fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<Session> {
        let entries = self.entries.read().ok()?;
        let (s, read_at) = entries.get(hash)?;
        (read_at.elapsed() < RECHECK && s.expires_at > now).then(|| s.clone())
    }

    fn put(&self, hash: String, s: Session) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, (s, Instant::now()));
        }
    }

    fn forget(&self, hash: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(hash);
        }
    }

    pub(crate) fn forget_account(&self, account_id: i64) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, (s, _)| s.actor.account_id != account_id);
        }
    }
}

impl Store {
    /// Checks an email and password and opens a session; `Unauthenticated` without saying
    /// whether the email has an account.
    pub async fn log_in(&self, email: &str, password: &str) -> Result<SessionGrant, StoreError> {
        let account = self.check_credentials(email, password).await?;
        self.open_session(account.id).await
    }

    /// Opens a session for an account (after login, sign-up, an accepted invitation, or a
    /// password change, which ends all the others).
    pub async fn open_session(&self, account_id: i64) -> Result<SessionGrant, StoreError> {
        let account = account::Entity::find_by_id(account_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("account", account_id))?;
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let csrf = hex::encode(rand::random::<[u8; 24]>());
        let now = Utc::now();
        let expires_at = now + Duration::days(SESSION_DAYS);
        // Expired sessions go when a new one opens.
        session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now))
            .exec(self.db())
            .await?;
        session::ActiveModel {
            id_hash: Set(token_hash(&secret)),
            account_id: Set(account_id),
            csrf: Set(csrf.clone()),
            acting_for: Set(None),
            created_at: Set(now),
            expires_at: Set(expires_at),
        }
        .insert(self.db())
        .await?;
        let session = Session {
            language: account.language.clone(),
            phone: account.phone.clone(),
            actor: Actor::from_model(account)?,
            csrf,
            acting_for: None,
            acting_for_name: None,
            expires_at,
        };
        Ok(SessionGrant { secret, session })
    }

    /// The session of a cookie's secret, or `None` if it is unknown, ended or expired (on any
    /// node: the database is asked every time). `fresh` reads all of it from the database (for
    /// a page that changes something); otherwise this node's copy of the account is used when
    /// it is less than [`RECHECK`] old, and only the session's own row is probed.
    pub async fn session(&self, secret: &str, fresh: bool) -> Result<Option<Session>, StoreError> {
        let hash = token_hash(secret);
        let now = Utc::now();
        if !fresh
            && let Some(s) = self.sessions.get(&hash, now)
            && self.session_stands(&hash, &s).await?
        {
            return Ok(Some(s));
        }
        let backend = self.db().get_database_backend();
        let sql = crate::orders::numbered(
            backend,
            &format!(
                "SELECT {}, s.csrf AS s_csrf, s.acting_for AS s_acting_for, \
                 s.expires_at AS s_expires_at, m.name AS s_acting_for_name FROM sessions s \
                 JOIN accounts a ON a.id = s.account_id \
                 LEFT JOIN accounts m ON m.id = s.acting_for WHERE s.id_hash = ?",
                crate::orders::columns::<account::Entity>("a"),
            ),
        );
        let Some(row) = self
            .db()
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [hash.clone().into()],
            ))
            .await?
        else {
            self.sessions.forget(&hash);
            return Ok(None);
        };
        let expires_at: DateTime<Utc> = row.try_get("", "s_expires_at")?;
        if expires_at <= now {
            self.sessions.forget(&hash);
            session::Entity::delete_by_id(hash).exec(self.db()).await?;
            return Ok(None);
        }
        let a = account::Model::from_query_result(&row, "a_")?;
        if a.disabled_at.is_some() {
            self.sessions.forget(&hash);
            return Ok(None);
        }
        let s = Session {
            language: a.language.clone(),
            phone: a.phone.clone(),
            actor: Actor::from_model(a)?,
            csrf: row.try_get("", "s_csrf")?,
            acting_for: row.try_get("", "s_acting_for")?,
            acting_for_name: row.try_get("", "s_acting_for_name")?,
            expires_at,
        };
        self.sessions.put(hash, s.clone());
        Ok(Some(s))
    }

    /// The session's row is still there, for the same account and member, unexpired. False
    /// sends the caller to the database for the whole session.
    async fn session_stands(&self, hash: &str, kept: &Session) -> Result<bool, StoreError> {
        let Some(row) = self.probe_session(hash).await? else {
            self.sessions.forget(hash);
            return Ok(false);
        };
        Ok(row.account_id == kept.actor.account_id
            && row.acting_for == kept.acting_for
            && row.expires_at > Utc::now())
    }

    /// The session's row, by a query that began after this call did (so a session ended on
    /// any node before it is seen ended). Probes made while a query runs wait for the next one
    /// and share it: under a rush of pages, one query answers many (see [`Probes`]).
    async fn probe_session(&self, hash: &str) -> Result<Option<Stand>, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The guard goes before any await (a future holding it could not move threads).
        let lead = match self.sessions.probes.lock() {
            Ok(mut p) => {
                p.waiting.push((hash.to_owned(), tx));
                let lead = p.running < PROBE_QUERIES;
                p.running += usize::from(lead);
                Some(lead)
            }
            Err(_) => None,
        };
        let Some(lead) = lead else {
            return self
                .probe_sessions(&[hash])
                .await
                .map(|mut m| m.remove(hash));
        };
        if lead {
            let store = self.clone();
            tokio::spawn(async move { store.run_probes().await });
        }
        match rx.await {
            Ok(Some(found)) => Ok(found),
            // The shared query failed (or never ran): this probe alone, to return its error.
            _ => self
                .probe_sessions(&[hash])
                .await
                .map(|mut m| m.remove(hash)),
        }
    }

    /// Answers the waiting probes, a query for all those waiting at a time, until none wait.
    async fn run_probes(&self) {
        loop {
            // Let the tasks already queued on this worker run first: under a rush they are
            // pages whose probes then join this query; with nothing queued this returns at once.
            tokio::task::yield_now().await;
            let batch = {
                let Ok(mut p) = self.sessions.probes.lock() else {
                    return;
                };
                if p.waiting.is_empty() {
                    p.running -= 1;
                    return;
                }
                std::mem::take(&mut p.waiting)
            };
            let mut hashes: Vec<&str> = batch.iter().map(|(h, _)| h.as_str()).collect();
            hashes.sort_unstable();
            hashes.dedup();
            let mut found = HashMap::new();
            let mut failed = false;
            for some in hashes.chunks(PROBES_PER_QUERY) {
                match self.probe_sessions(some).await {
                    Ok(rows) => found.extend(rows),
                    Err(_) => failed = true,
                }
            }
            for (hash, tx) in batch {
                // A dropped receiver is a request that gave up: nothing to tell it.
                let _ = tx.send((!failed).then(|| found.get(&hash).cloned()));
            }
        }
    }

    /// The rows of these sessions, by hash: one query.
    async fn probe_sessions(&self, hashes: &[&str]) -> Result<HashMap<String, Stand>, StoreError> {
        let backend = self.db().get_database_backend();
        let marks = vec!["?"; hashes.len()].join(", ");
        let sql = crate::orders::numbered(
            backend,
            &format!(
                "SELECT id_hash, account_id, acting_for, expires_at FROM sessions \
                 WHERE id_hash IN ({marks})"
            ),
        );
        let rows = self
            .db()
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                hashes.iter().map(|h| (*h).to_owned().into()),
            ))
            .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            out.insert(
                row.try_get("", "id_hash")?,
                Stand {
                    account_id: row.try_get("", "account_id")?,
                    acting_for: row.try_get("", "acting_for")?,
                    expires_at: row.try_get("", "expires_at")?,
                },
            );
        }
        Ok(out)
    }

    /// Ends one session (logout), on every node at once.
    pub async fn end_session(&self, secret: &str) -> Result<(), StoreError> {
        let hash = token_hash(secret);
        session::Entity::delete_by_id(hash.clone())
            .exec(self.db())
            .await?;
        self.sessions.forget(&hash);
        Ok(())
    }

    /// Ends every session of an account.
    pub async fn end_sessions(&self, account_id: i64) -> Result<u64, StoreError> {
        let res = session::Entity::delete_many()
            .filter(session::Column::AccountId.eq(account_id))
            .exec(self.db())
            .await?;
        self.sessions.forget_account(account_id);
        Ok(res.rows_affected)
    }

    /// Sets (or clears) the member a mediator's session is ordering for. The member must be one
    /// the actor may order for (see [`Store::member`]).
    pub async fn act_for(
        &self,
        secret: &str,
        actor: &Actor,
        member: Option<i64>,
    ) -> Result<(), StoreError> {
        if let Some(id) = member {
            self.member(actor, id).await?;
        }
        let hash = token_hash(secret);
        session::Entity::update_many()
            .col_expr(
                session::Column::ActingFor,
                sea_orm::sea_query::Expr::value(member),
            )
            .filter(session::Column::IdHash.eq(hash.clone()))
            .exec(self.db())
            .await?;
        self.sessions.forget(&hash);
        Ok(())
    }

    /// A member of the actor's market the actor may order for (a coordinator's mediation):
    /// 404 for anyone else, without a name.
    pub async fn member(
        &self,
        actor: &Actor,
        account_id: i64,
    ) -> Result<account::Model, StoreError> {
        let market = actor
            .market_id
            .filter(|m| crate::rights::runs_market(actor, *m))
            .or_else(|| (actor.role == crate::Role::Admin).then_some(0));
        let found = account::Entity::find_by_id(account_id)
            .one(self.db())
            .await?;
        match (market, found) {
            (Some(m), Some(a)) if m == 0 || crate::rights::is_member(&a, m) => Ok(a),
            _ => Err(StoreError::not_found("member", account_id)),
        }
    }

    /// Changes the actor's own name, phone and language.
    pub async fn set_profile(
        &self,
        actor: &Actor,
        name: &str,
        phone: Option<&str>,
        language: &str,
    ) -> Result<(), StoreError> {
        crate::text::check_all([("name", Some(name)), ("phone", phone)])?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::invalid(
                "invalid_name",
                "a name is required (at most 200 characters)",
            ));
        }
        let phone = phone.map(str::trim).filter(|p| !p.is_empty());
        if phone.is_some_and(|p| p.chars().count() > 40) {
            return Err(StoreError::invalid(
                "invalid_phone",
                "a phone number has at most 40 characters",
            ));
        }
        let language = check_language(language)?;
        account::Entity::update_many()
            .col_expr(account::Column::Name, sea_orm::sea_query::Expr::value(name))
            .col_expr(
                account::Column::Phone,
                sea_orm::sea_query::Expr::value(phone),
            )
            .col_expr(
                account::Column::Language,
                sea_orm::sea_query::Expr::value(language),
            )
            .filter(account::Column::Id.eq(actor.account_id))
            .exec(self.db())
            .await?;
        self.sessions.forget_account(actor.account_id);
        self.tokens.forget_account(actor.account_id);
        Ok(())
    }

    /// Remembers the language an account reads its pages in.
    pub async fn set_language(&self, actor: &Actor, language: &str) -> Result<(), StoreError> {
        let language = check_language(language)?;
        account::Entity::update_many()
            .col_expr(
                account::Column::Language,
                sea_orm::sea_query::Expr::value(language),
            )
            .filter(account::Column::Id.eq(actor.account_id))
            .exec(self.db())
            .await?;
        self.sessions.forget_account(actor.account_id);
        Ok(())
    }
}

/// The languages pages are written in.
pub const LANGUAGES: [&str; 2] = ["fr", "en"];

fn check_language(language: &str) -> Result<&'static str, StoreError> {
    LANGUAGES
        .into_iter()
        .find(|l| *l == language)
        .ok_or_else(|| StoreError::invalid("invalid_language", "the language is fr or en"))
}
