//! "A new producer near you" alerts: anyone leaves an email address, a postcode, a radius and
//! the categories they care about; no account. Double opt-in: the subscription does nothing
//! until its confirmation link is followed. Every message carries a one-click unsubscribe link.
//!
//! What a subscriber is owed is recorded as an `alert_notices` row, by [`queue_notice`]: its
//! confirmation link first, then one notice per producer whose entry is published within its
//! radius (at most one per subscriber and producer, whatever is published again). The mail
//! outbox (issue 9) sends them; until it lands, admins read them on `/admin/alerts`. A
//! subscriber who chose the weekly digest has its notices sent together once a week by the
//! outbox; the choice is stored with the subscription.
//!
//! Matching a publication: the subscriptions whose centre lies in the bounding box of the
//! largest radius (100 km) around the producer, confirmed and not unsubscribed, whose
//! categories meet the producer's (or who chose none), then each one's own radius exactly.

use chrono::{DateTime, Utc};
use distribution::directory::{
    BoundingBox, MAX_RADIUS_KM, MIN_RADIUS_KM, Point, distance_km, is_postcode, unwrap_slugs,
    wrap_slugs,
};
use domain::Category;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TryInsertResult, sea_query::OnConflict,
};

use super::categories_of;
use crate::{
    Actor, Role, Store, StoreError,
    auth::{normalise_email, token_hash},
    entities::{alert_notice, alert_subscription, directory_entry, producer},
};

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
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1000).collect();
        let r = alert_notice::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([
                    alert_notice::Column::SubscriptionId,
                    alert_notice::Column::ProducerId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .try_insert()
            .exec_without_returning(db)
            .await?;
        if let TryInsertResult::Inserted(n) = r {
            written += n;
        }
    }
    Ok(written)
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
    let candidates: Vec<(i64, f64, f64, i32)> = alert_subscription::Entity::find()
        .select_only()
        .columns([
            alert_subscription::Column::Id,
            alert_subscription::Column::Latitude,
            alert_subscription::Column::Longitude,
            alert_subscription::Column::RadiusKm,
        ])
        .filter(alert_subscription::Column::Latitude.between(bbox.min_lat, bbox.max_lat))
        .filter(alert_subscription::Column::Longitude.between(bbox.min_lon, bbox.max_lon))
        .filter(alert_subscription::Column::ConfirmedAt.is_not_null())
        .filter(alert_subscription::Column::UnsubscribedAt.is_null())
        .filter(categories)
        .into_tuple()
        .all(db)
        .await?;
    let link = format!("/directory/producers/{}", p.id);
    let rows: Vec<alert_notice::ActiveModel> = candidates
        .into_iter()
        .filter_map(|(id, lat, lon, radius)| {
            let d = distance_km(Point { lat, lon }, at);
            (d <= f64::from(radius)).then(|| alert_notice::ActiveModel {
                subscription_id: Set(id),
                producer_id: Set(Some(p.id)),
                kind: Set("match".into()),
                distance_m: Set(Some((d * 1000.0).round() as i32)),
                link: Set(link.clone()),
                created_at: Set(now),
                sent_at: Set(None),
                ..Default::default()
            })
        })
        .collect();
    queue_notice(db, rows).await
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
                sent_at: Set(None),
                ..Default::default()
            }],
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
