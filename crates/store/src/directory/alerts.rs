//! "A new producer near you" alerts: anyone leaves an email address, a postcode, a radius and
//! the categories they care about; no account. Double opt-in: the subscription does nothing
//! until its confirmation link is followed. Every message carries a one-click unsubscribe link.
//!
//! What a subscriber is owed is recorded as an `alert_notices` row, by [`queue_notice`]: its
//! confirmation link first, then one notice per producer whose entry is published within its
//! radius (at most one per subscriber and producer, whatever is published again). The mail
//! outbox sends them: each notice becomes a message in the same transaction (the confirmation
//! link; "a new producer near you", once per subscription and producer), and admins read the
//! notices on `/admin/alerts`. A subscriber who chose the weekly digest gets its matches
//! together: [`Store::send_alert_digests`] (run hourly by `halle serve`) mails each one, once
//! per week, the producers matched before that week began. Every alert message carries the
//! one-click unsubscribe link (RFC 8058); nothing goes to the unconfirmed or the unsubscribed.
//!
//! Matching a publication: the subscriptions whose centre lies in the bounding box of the
//! largest radius (100 km) around the producer (the index), within the band of latitude and
//! longitude its own radius allows, confirmed and not unsubscribed, whose categories meet the
//! producer's (or who chose none), then each one's own radius exactly; only then are the
//! matches' addresses read.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, Utc};
use distribution::directory::{
    BoundingBox, EARTH_RADIUS_KM, MAX_RADIUS_KM, MIN_RADIUS_KM, Point, distance_km, is_postcode,
    unwrap_slugs, wrap_slugs,
};
use domain::Category;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TryInsertResult,
    sea_query::{Expr, OnConflict},
};

use super::categories_of;
use crate::{
    Actor, Role, Store, StoreError,
    auth::{normalise_email, token_hash},
    entities::{alert_notice, alert_subscription, directory_entry, outbox, producer},
    outbox::{NewMail, enqueue_to_address, kind},
};

/// The page of an alert's unsubscribe link.
fn unsubscribe_path(token: &str) -> String {
    format!("/directory/alerts/unsubscribe/{token}")
}

/// A mail to a subscriber's address, in its language, once only (`unique_key`).
struct AlertMail {
    email: String,
    language: String,
    unique_key: String,
    payload: serde_json::Value,
}

impl AlertMail {
    /// Its outbox row: pending, due `now`, no account nor market, no name.
    fn row(self, kind: &'static str, now: DateTime<Utc>) -> outbox::ActiveModel {
        outbox::ActiveModel {
            market_id: Set(None),
            account_id: Set(None),
            recipient: Set(self.email),
            recipient_name: Set(String::new()),
            language: Set(self.language),
            kind: Set(kind.to_owned()),
            unique_key: Set(Some(self.unique_key)),
            payload: Set(self.payload.to_string()),
            state: Set(crate::outbox::PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        }
    }
}

/// Inserts `rows` in the caller's transaction, `chunk` a statement, skipping every row whose
/// unique key `taken` is already there; how many were written.
async fn insert_new<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    chunk: usize,
    taken: OnConflict,
) -> Result<u64, StoreError>
where
    A: ActiveModelTrait + Send,
{
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let some: Vec<A> = rows.by_ref().take(chunk).collect();
        let r = A::Entity::insert_many(some)
            .on_conflict(taken.clone())
            .try_insert()
            .exec_without_returning(db)
            .await?;
        if let TryInsertResult::Inserted(n) = r {
            written += n;
        }
    }
    Ok(written)
}

/// Writes alert mails of `kind` to the outbox, due `now`, in the caller's transaction; a row
/// whose unique key is taken (the same producer published again) is skipped. How many were
/// written. PostgreSQL gets them all in one statement, a column an array (one statement text
/// whatever their number, parsed and planned once per connection); SQLite multi-row VALUES,
/// 500 rows a statement (12 parameters a row: SQLite takes at most 32766).
async fn enqueue_alert_mails(
    db: &impl ConnectionTrait,
    kind: &'static str,
    mails: Vec<AlertMail>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if mails.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        let rows = mails.into_iter().map(|m| m.row(kind, now)).collect();
        let taken = OnConflict::column(outbox::Column::UniqueKey)
            .do_nothing()
            .to_owned();
        return insert_new(db, rows, 500, taken).await;
    }
    let n = mails.len();
    let (mut emails, mut languages, mut keys, mut payloads) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for m in mails {
        emails.push(m.email);
        languages.push(m.language);
        keys.push(m.unique_key);
        payloads.push(m.payload.to_string());
    }
    let written = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO outbox (recipient, recipient_name, language, kind, unique_key, payload, \
             state, attempts, next_attempt_at, created_at) \
             SELECT m.recipient, '', m.language, $1, m.unique_key, m.payload, $2, 0, $3, $3 \
             FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) \
             AS m(recipient, language, unique_key, payload) \
             ON CONFLICT (unique_key) DO NOTHING",
            [
                kind.into(),
                crate::outbox::PENDING.into(),
                now.into(),
                emails.into(),
                languages.into(),
                keys.into(),
                payloads.into(),
            ],
        ))
        .await?;
    Ok(written.rows_affected())
}

/// A producer's match of one subscription, to record.
struct Match {
    subscription_id: i64,
    distance_m: i32,
    /// Chose the weekly digest: not mailed now (no `sent_at`).
    weekly_digest: bool,
}

/// Records `matches` of producer `producer_id` (its page: `link`), in the caller's
/// transaction, once per subscriber and producer (a match already there is skipped); how many
/// were written. As [`enqueue_alert_mails`]: one statement of arrays on PostgreSQL, chunks of
/// multi-row VALUES ([`queue_notice`]) on SQLite.
async fn queue_matches(
    db: &impl ConnectionTrait,
    producer_id: i64,
    link: &str,
    matches: Vec<Match>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if matches.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        let rows = matches
            .into_iter()
            .map(|m| alert_notice::ActiveModel {
                subscription_id: Set(m.subscription_id),
                producer_id: Set(Some(producer_id)),
                kind: Set("match".into()),
                distance_m: Set(Some(m.distance_m)),
                link: Set(link.to_owned()),
                created_at: Set(now),
                sent_at: Set((!m.weekly_digest).then_some(now)),
                ..Default::default()
            })
            .collect();
        return queue_notice(db, rows).await;
    }
    let n = matches.len();
    let (mut ids, mut distances, mut digests) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for m in matches {
        ids.push(m.subscription_id);
        distances.push(m.distance_m);
        digests.push(m.weekly_digest);
    }
    let written = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO alert_notices (subscription_id, producer_id, kind, distance_m, link, \
             created_at, sent_at) \
             SELECT n.subscription_id, $1, 'match', n.distance_m, $2, $3, \
             CASE WHEN n.weekly_digest THEN NULL ELSE $3 END \
             FROM unnest($4::int8[], $5::int4[], $6::bool[]) \
             AS n(subscription_id, distance_m, weekly_digest) \
             ON CONFLICT (subscription_id, producer_id) DO NOTHING",
            [
                producer_id.into(),
                link.into(),
                now.into(),
                ids.into(),
                distances.into(),
                digests.into(),
            ],
        ))
        .await?;
    Ok(written.rows_affected())
}

/// A sign-up.
#[derive(Clone, Debug)]
pub struct AlertRequest {
    /// Where to write.
    pub email: String,
    /// Around which postcode.
    pub postcode: String,
    /// How far, in km (5 to 100).
    pub radius_km: u32,
    /// Which producers (none: every category).
    pub categories: Vec<Category>,
    /// One message a week rather than one per producer.
    pub weekly_digest: bool,
    /// The messages' language (fr or en).
    pub language: String,
}

/// A sign-up recorded, unconfirmed.
#[derive(Clone, Debug)]
pub struct AlertSignup {
    /// Id.
    pub id: i64,
    /// The confirmation link's token (only its SHA-256 is kept).
    pub confirm_token: String,
}

/// A subscription, as its owner sees it through a link.
#[derive(Clone, Debug)]
pub struct AlertSubscriptionView {
    /// Id.
    pub id: i64,
    /// Email.
    pub email: String,
    /// Postcode.
    pub postcode: String,
    /// Radius.
    pub radius_km: u32,
    /// Categories (none: all).
    pub categories: Vec<Category>,
    /// Weekly digest.
    pub weekly_digest: bool,
    /// Confirmed (double opt-in done).
    pub confirmed: bool,
    /// Unsubscribed.
    pub unsubscribed: bool,
}

/// A notice owed to a subscriber, as admins see it.
#[derive(Clone, Debug)]
pub struct AlertNotice {
    /// Id.
    pub id: i64,
    /// "confirm" or "match".
    pub kind: String,
    /// To whom.
    pub email: String,
    /// Weekly digest chosen.
    pub weekly_digest: bool,
    /// The producer matched.
    pub producer: Option<(i64, String)>,
    /// How far from the subscriber's postcode.
    pub distance_km: Option<f64>,
    /// The page the message points to.
    pub link: String,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// When the outbox sent it.
    pub sent_at: Option<DateTime<Utc>>,
}

fn view(s: alert_subscription::Model) -> AlertSubscriptionView {
    AlertSubscriptionView {
        id: s.id,
        categories: categories_of(&s.categories),
        email: s.email,
        postcode: s.postcode,
        radius_km: u32::try_from(s.radius_km).unwrap_or(0),
        weekly_digest: s.weekly_digest,
        confirmed: s.confirmed_at.is_some(),
        unsubscribed: s.unsubscribed_at.is_some(),
    }
}

/// Records what a subscriber is owed. This is the one place the mail outbox's enqueue goes:
/// once it exists, the notice becomes a message (the confirmation, or "a new producer near
/// you" with the producer's page and the unsubscribe link) in the same transaction.
pub(crate) async fn queue_notice(
    db: &impl ConnectionTrait,
    rows: Vec<alert_notice::ActiveModel>,
) -> Result<u64, StoreError> {
    let taken = OnConflict::columns([
        alert_notice::Column::SubscriptionId,
        alert_notice::Column::ProducerId,
    ])
    .do_nothing()
    .to_owned();
    insert_new(db, rows, 1000, taken).await
}

/// The confirmed subscribers a producer's publication concerns, recorded once each.
pub(crate) async fn match_producer(
    db: &impl ConnectionTrait,
    p: &producer::Model,
    e: &directory_entry::Model,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let at = Point {
        lat: p.latitude,
        lon: p.longitude,
    };
    let bbox = BoundingBox::around(at, f64::from(MAX_RADIUS_KM));
    let mut categories = Condition::any().add(alert_subscription::Column::Categories.eq(""));
    for c in unwrap_slugs(&e.categories) {
        categories =
            categories.add(alert_subscription::Column::Categories.like(format!("%,{c},%")));
    }
    // Each subscription's own radius bounds its distance in latitude and in longitude (the
    // widest a box of it can be is the 100 km one's): a row outside that band cannot match,
    // so PostgreSQL drops it instead of sending it. The margin only ever widens the band.
    use sea_orm::sea_query::ExprTrait;
    let km_lat = EARTH_RADIUS_KM.recip().to_degrees() * 1.0001;
    let widest = bbox
        .min_lat
        .abs()
        .max(bbox.max_lat.abs())
        .to_radians()
        .cos();
    let km_lon = km_lat / widest.max(1e-6);
    let band = |col: alert_subscription::Column, centre: f64, per_km: f64| {
        let reach = Expr::col(alert_subscription::Column::RadiusKm).mul(per_km);
        Condition::all()
            .add(Expr::col(col).gte(Expr::val(centre).sub(reach.clone())))
            .add(Expr::col(col).lte(Expr::val(centre).add(reach)))
    };
    let near: Vec<(i64, f64)> = alert_subscription::Entity::find()
        .select_only()
        .columns([
            alert_subscription::Column::Id,
            alert_subscription::Column::Latitude,
            alert_subscription::Column::Longitude,
            alert_subscription::Column::RadiusKm,
        ])
        .filter(alert_subscription::Column::Latitude.between(bbox.min_lat, bbox.max_lat))
        .filter(alert_subscription::Column::Longitude.between(bbox.min_lon, bbox.max_lon))
        .filter(band(alert_subscription::Column::Latitude, at.lat, km_lat))
        .filter(band(alert_subscription::Column::Longitude, at.lon, km_lon))
        .filter(alert_subscription::Column::ConfirmedAt.is_not_null())
        .filter(alert_subscription::Column::UnsubscribedAt.is_null())
        .filter(categories)
        .into_model::<Spot>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|c| {
            let d = distance_km(
                Point {
                    lat: c.latitude,
                    lon: c.longitude,
                },
                at,
            );
            (d <= f64::from(c.radius_km)).then_some((c.id, d))
        })
        .collect();
    // Then the addresses of those who match only.
    let mut candidates: HashMap<i64, Candidate> = HashMap::new();
    for chunk in near.chunks(1000) {
        let found = alert_subscription::Entity::find()
            .select_only()
            .columns([
                alert_subscription::Column::Id,
                alert_subscription::Column::Email,
                alert_subscription::Column::Language,
                alert_subscription::Column::WeeklyDigest,
                alert_subscription::Column::UnsubscribeToken,
            ])
            .filter(alert_subscription::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
            .into_model::<Candidate>()
            .all(db)
            .await?;
        candidates.extend(found.into_iter().map(|c| (c.id, c)));
    }
    let link = format!("/directory/producers/{}", p.id);
    let mut matches = Vec::with_capacity(near.len());
    let mut mails = Vec::with_capacity(near.len());
    for (id, d) in near {
        let Some(c) = candidates.remove(&id) else {
            continue;
        };
        let distance_m = (d * 1000.0).round() as i32;
        // The weekly digest sends the others later; these go now, through the outbox.
        if !c.weekly_digest {
            mails.push(AlertMail {
                unique_key: format!("{}:{}:{}", kind::DIRECTORY_ALERT, c.id, p.id),
                payload: serde_json::json!({
                    "subscription_id": c.id,
                    "producer_id": p.id,
                    "producer_name": p.name,
                    "producer_city": p.city,
                    "producer_path": link,
                    "distance_m": distance_m,
                    "unsubscribe_path": unsubscribe_path(&c.unsubscribe_token),
                }),
                email: c.email,
                language: c.language,
            });
        }
        matches.push(Match {
            subscription_id: c.id,
            distance_m,
            weekly_digest: c.weekly_digest,
        });
    }
    enqueue_alert_mails(db, kind::DIRECTORY_ALERT, mails, now).await?;
    queue_matches(db, p.id, &link, matches, now).await
}

/// A subscription a publication may concern (inside the bands, confirmed, categories met):
/// what measuring it needs.
#[derive(sea_orm::FromQueryResult)]
struct Spot {
    id: i64,
    latitude: f64,
    longitude: f64,
    radius_km: i32,
}

/// A subscription a publication concerns: where and how to write.
#[derive(sea_orm::FromQueryResult)]
struct Candidate {
    id: i64,
    email: String,
    language: String,
    weekly_digest: bool,
    unsubscribe_token: String,
}

/// Monday 00:00 UTC of `now`'s ISO week, and the week's name (`2026-W49`).
fn week_of(now: DateTime<Utc>) -> (DateTime<Utc>, String) {
    let days = i64::from(now.weekday().num_days_from_monday());
    let start = (now - Duration::days(days))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |t| t.and_utc());
    let w = now.iso_week();
    (start, format!("{}-W{:02}", w.year(), w.week()))
}

fn invalid(code: &'static str, message: &str) -> StoreError {
    StoreError::invalid(code, message)
}

impl Store {
    /// Records a sign-up, unconfirmed, with the confirmation notice it is owed.
    pub async fn subscribe_alerts(&self, r: AlertRequest) -> Result<AlertSignup, StoreError> {
        let email = normalise_email(&r.email);
        crate::text::check_chars("email", &email)?;
        let plausible = email.len() <= 320
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
            })
            && !email.chars().any(char::is_whitespace);
        if !plausible {
            return Err(invalid(
                "invalid_email",
                "give an email address such as name@example.fr",
            ));
        }
        let postcode = r.postcode.trim();
        if !is_postcode(postcode) {
            return Err(invalid(
                "invalid_postcode",
                "give a French postcode: five digits",
            ));
        }
        if !(MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(&r.radius_km) {
            return Err(invalid("invalid_radius", "the radius is 5 to 100 km"));
        }
        let place = self.locate(postcode).await?;
        let language = if r.language == "en" { "en" } else { "fr" };
        let confirm_token = hex::encode(rand::random::<[u8; 32]>());
        let unsubscribe_token = hex::encode(rand::random::<[u8; 32]>());
        let mut categories = r.categories.clone();
        categories.sort_unstable();
        categories.dedup();
        let now = Utc::now();
        let w = self.write().await?;
        let s = alert_subscription::ActiveModel {
            email: Set(email),
            postcode: Set(postcode.to_owned()),
            latitude: Set(place.point.lat),
            longitude: Set(place.point.lon),
            radius_km: Set(i32::try_from(r.radius_km).unwrap_or(100)),
            categories: Set(wrap_slugs(categories.iter().map(|c| c.slug()))),
            weekly_digest: Set(r.weekly_digest),
            language: Set(language.to_owned()),
            confirm_hash: Set(token_hash(&confirm_token)),
            unsubscribe_token: Set(unsubscribe_token),
            created_at: Set(now),
            confirmed_at: Set(None),
            unsubscribed_at: Set(None),
            ..Default::default()
        }
        .insert(&w.tx)
        .await?;
        queue_notice(
            &w.tx,
            vec![alert_notice::ActiveModel {
                subscription_id: Set(s.id),
                producer_id: Set(None),
                kind: Set("confirm".into()),
                distance_m: Set(None),
                link: Set(format!("/directory/alerts/confirm/{confirm_token}")),
                created_at: Set(now),
                sent_at: Set(Some(now)),
                ..Default::default()
            }],
        )
        .await?;
        enqueue_to_address(
            &w.tx,
            &NewMail {
                kind: kind::DIRECTORY_ALERT_CONFIRM,
                market_id: None,
                unique_key: Some(format!("{}:{}", kind::DIRECTORY_ALERT_CONFIRM, s.id)),
                payload: serde_json::json!({
                    "confirm_path": format!("/directory/alerts/confirm/{confirm_token}"),
                    "postcode": s.postcode,
                    "radius_km": s.radius_km,
                }),
            },
            &s.email,
            "",
            language,
        )
        .await?;
        w.commit().await?;
        Ok(AlertSignup {
            id: s.id,
            confirm_token,
        })
    }

    /// The subscription a confirmation link names (404 if none).
    pub async fn alert_by_confirm_token(
        &self,
        token: &str,
    ) -> Result<AlertSubscriptionView, StoreError> {
        alert_subscription::Entity::find()
            .filter(alert_subscription::Column::ConfirmHash.eq(token_hash(token)))
            .one(self.db())
            .await?
            .map(view)
            .ok_or_else(|| StoreError::not_found("alert subscription", 0))
    }

    /// Confirms a subscription (double opt-in): from now on, publications match it. Again on a
    /// confirmed one changes nothing; an unsubscribed one stays so (409).
    pub async fn confirm_alerts(&self, token: &str) -> Result<AlertSubscriptionView, StoreError> {
        let w = self.write().await?;
        let s = alert_subscription::Entity::find()
            .filter(alert_subscription::Column::ConfirmHash.eq(token_hash(token)))
            .one(&w.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("alert subscription", 0))?;
        if s.unsubscribed_at.is_some() {
            return Err(StoreError::Conflict {
                code: "unsubscribed",
                message: "this subscription was cancelled; sign up again".into(),
            });
        }
        let s = if s.confirmed_at.is_none() {
            let mut a: alert_subscription::ActiveModel = s.into();
            a.confirmed_at = Set(Some(Utc::now()));
            a.update(&w.tx).await?
        } else {
            s
        };
        w.commit().await?;
        Ok(view(s))
    }

    /// The subscription an unsubscribe link names (404 if none).
    pub async fn alert_by_unsubscribe_token(
        &self,
        token: &str,
    ) -> Result<AlertSubscriptionView, StoreError> {
        alert_subscription::Entity::find()
            .filter(alert_subscription::Column::UnsubscribeToken.eq(token))
            .one(self.db())
            .await?
            .map(view)
            .ok_or_else(|| StoreError::not_found("alert subscription", 0))
    }

    /// Unsubscribes (one click; again changes nothing). Nothing matches it any more.
    pub async fn unsubscribe_alerts(
        &self,
        token: &str,
    ) -> Result<AlertSubscriptionView, StoreError> {
        let w = self.write().await?;
        let s = alert_subscription::Entity::find()
            .filter(alert_subscription::Column::UnsubscribeToken.eq(token))
            .one(&w.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("alert subscription", 0))?;
        let s = if s.unsubscribed_at.is_none() {
            let mut a: alert_subscription::ActiveModel = s.into();
            a.unsubscribed_at = Set(Some(Utc::now()));
            a.update(&w.tx).await?
        } else {
            s
        };
        w.commit().await?;
        Ok(view(s))
    }

    /// The weekly digest: each confirmed, still subscribed subscriber who chose it and has
    /// matches recorded before the start of `now`'s week (Monday 00:00 UTC) not yet mailed
    /// gets one message listing those producers (still in the directory), at most one per
    /// week whatever the number of runs; its notices are then marked sent. Returns how many
    /// messages were written to the outbox.
    pub async fn send_alert_digests(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let (week_start, week) = week_of(now);
        let w = self.write().await?;
        let pending = alert_notice::Entity::find()
            .filter(alert_notice::Column::Kind.eq("match"))
            .filter(alert_notice::Column::SentAt.is_null())
            .filter(alert_notice::Column::CreatedAt.lt(week_start))
            .order_by_asc(alert_notice::Column::DistanceM)
            .all(&w.tx)
            .await?;
        if pending.is_empty() {
            w.commit().await?;
            return Ok(0);
        }
        let mut by_subscription: BTreeMap<i64, Vec<alert_notice::Model>> = BTreeMap::new();
        for n in pending {
            by_subscription
                .entry(n.subscription_id)
                .or_default()
                .push(n);
        }
        let subscribers: HashMap<i64, alert_subscription::Model> = self
            .in_chunks(by_subscription.keys().copied().collect(), |ids| {
                alert_subscription::Entity::find()
                    .filter(alert_subscription::Column::Id.is_in(ids))
                    .filter(alert_subscription::Column::WeeklyDigest.eq(true))
                    .filter(alert_subscription::Column::ConfirmedAt.is_not_null())
                    .filter(alert_subscription::Column::UnsubscribedAt.is_null())
                    .all(&w.tx)
            })
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let producer_ids: Vec<i64> = by_subscription
            .values()
            .flatten()
            .filter_map(|n| n.producer_id)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let visible: std::collections::HashSet<i64> = self
            .in_chunks(producer_ids.clone(), |ids| {
                directory_entry::Entity::find()
                    .filter(directory_entry::Column::ProducerId.is_in(ids))
                    .filter(directory_entry::Column::Published.eq(true))
                    .filter(directory_entry::Column::Hidden.eq(false))
                    .all(&w.tx)
            })
            .await?
            .into_iter()
            .map(|e| e.producer_id)
            .collect();
        let producers: HashMap<i64, producer::Model> = self
            .in_chunks(producer_ids, |ids| {
                producer::Entity::find()
                    .filter(producer::Column::Id.is_in(ids))
                    .all(&w.tx)
            })
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut written = 0;
        for (subscription_id, notices) in by_subscription {
            let Some(s) = subscribers.get(&subscription_id) else {
                continue;
            };
            let listed: Vec<serde_json::Value> = notices
                .iter()
                .filter_map(|n| {
                    let p = producers.get(&n.producer_id?)?;
                    visible.contains(&p.id).then(|| {
                        serde_json::json!({
                            "name": p.name,
                            "city": p.city,
                            "path": n.link,
                            "distance_m": n.distance_m,
                        })
                    })
                })
                .collect();
            let mailed = listed.is_empty()
                || enqueue_alert_mails(
                    &w.tx,
                    kind::DIRECTORY_ALERT_DIGEST,
                    vec![AlertMail {
                        email: s.email.clone(),
                        language: s.language.clone(),
                        unique_key: format!("{}:{}:{week}", kind::DIRECTORY_ALERT_DIGEST, s.id),
                        payload: serde_json::json!({
                            "subscription_id": s.id,
                            "producers": listed,
                            "unsubscribe_path": unsubscribe_path(&s.unsubscribe_token),
                        }),
                    }],
                    // Due at once, even when `now` is a date to come (a test's next week).
                    now.min(Utc::now()),
                )
                .await?
                    == 1;
            if !mailed {
                // This week's digest already went: these wait for next week's.
                continue;
            }
            written += u64::from(!listed.is_empty());
            alert_notice::Entity::update_many()
                .col_expr(
                    alert_notice::Column::SentAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(
                    alert_notice::Column::Id
                        .is_in(notices.iter().map(|n| n.id).collect::<Vec<_>>()),
                )
                .exec(&w.tx)
                .await?;
        }
        w.commit().await?;
        Ok(written)
    }

    /// Runs `query` on `ids` a thousand at a time (SQLite takes at most 32766 parameters) and
    /// gathers the rows.
    async fn in_chunks<T, F, Fut>(&self, ids: Vec<i64>, query: F) -> Result<Vec<T>, StoreError>
    where
        F: Fn(Vec<i64>) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, sea_orm::DbErr>>,
    {
        let mut all = Vec::new();
        for chunk in ids.chunks(1000) {
            all.extend(query(chunk.to_vec()).await?);
        }
        Ok(all)
    }

    /// The latest notices owed to subscribers, newest first (admins only; 403 otherwise).
    pub async fn alert_notices(
        &self,
        actor: &Actor,
        limit: u64,
    ) -> Result<Vec<AlertNotice>, StoreError> {
        if actor.role != Role::Admin {
            return Err(StoreError::Forbidden(
                "only administrators read the alerts' notices".into(),
            ));
        }
        let notices = alert_notice::Entity::find()
            .order_by_desc(alert_notice::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        let subs: std::collections::HashMap<i64, alert_subscription::Model> =
            alert_subscription::Entity::find()
                .filter(
                    alert_subscription::Column::Id.is_in(
                        notices
                            .iter()
                            .map(|n| n.subscription_id)
                            .collect::<Vec<_>>(),
                    ),
                )
                .all(self.db())
                .await?
                .into_iter()
                .map(|s| (s.id, s))
                .collect();
        let producers: std::collections::HashMap<i64, String> = producer::Entity::find()
            .filter(
                producer::Column::Id.is_in(
                    notices
                        .iter()
                        .filter_map(|n| n.producer_id)
                        .collect::<Vec<_>>(),
                ),
            )
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        Ok(notices
            .into_iter()
            .filter_map(|n| {
                let s = subs.get(&n.subscription_id)?;
                Some(AlertNotice {
                    id: n.id,
                    kind: n.kind,
                    email: s.email.clone(),
                    weekly_digest: s.weekly_digest,
                    producer: n
                        .producer_id
                        .map(|id| (id, producers.get(&id).cloned().unwrap_or_default())),
                    distance_km: n.distance_m.map(|m| f64::from(m) / 1000.0),
                    link: n.link,
                    created_at: n.created_at,
                    sent_at: n.sent_at,
                })
            })
            .collect())
    }
}
