//! A market's staff, and how people join it: a coordinator (or an admin) invites a producer, a
//! volunteer, a host (for one pickup point) or another coordinator; the invitation is a
//! one-time link that expires after [`INVITATION_DAYS`]; the invited person opens it, sets a
//! name and a password, and gets an account of that role attached to that market, producer or
//! point.
//!
//! The link's token is random; only its SHA-256 is stored, so a copy of the database accepts
//! no invitation. An invitation is used once: accepting marks it used and creates the account
//! in one transaction, guarded on "not used yet and not expired", so two tabs accepting at
//! once make one account. A revoked invitation is deleted (its link is then unknown).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Actor, Role, SessionGrant, Store, StoreError,
    auth::{check_new_password, hash_now, normalise_email, token_hash},
    entities::{account, invitation, market, pickup_point, producer},
    rights,
};

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

/// The roles a market's staff may be invited to.
pub const INVITED_ROLES: [Role; 4] = [
    Role::Producer,
    Role::Volunteer,
    Role::Host,
    Role::Coordinator,
];

/// Whom to invite, and for what.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    /// Producer, volunteer, host or coordinator.
    pub role: Role,
    /// The person's name, as the invitation shows it (they may change it when accepting).
    pub name: String,
    /// Their email, if known: offered as the account's login when they accept.
    pub email: Option<String>,
    /// For a producer: the producer record (of the market) the account will manage.
    pub producer_id: Option<i64>,
    /// For a host: the pickup point (of the market) the account speaks for.
    pub pickup_point_id: Option<i64>,
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    /// The link works.
    Pending,
    /// Accepted: an account was made from it.
    Used,
    /// Not accepted in time.
    Expired,
}

impl InvitationState {
    /// "pending", "used" or "expired".
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Used => "used",
            InvitationState::Expired => "expired",
        }
    }
}

/// An invitation, with the names it refers to.
#[derive(Clone, Debug)]
pub struct InvitationView {
    /// Id.
    pub id: i64,
    /// The market joined.
    pub market_id: i64,
    /// Its name.
    pub market_name: String,
    /// The role offered.
    pub role: Role,
    /// The invited person's name.
    pub name: String,
    /// Their email, if given.
    pub email: Option<String>,
    /// For a producer: which one.
    pub producer_id: Option<i64>,
    /// Its name.
    pub producer_name: Option<String>,
    /// For a host: which pickup point.
    pub pickup_point_id: Option<i64>,
    /// Its name.
    pub pickup_point_name: Option<String>,
    /// Who invites.
    pub invited_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Until when the link works.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub used_at: Option<DateTime<Utc>>,
    /// Where it stands now.
    pub state: InvitationState,
}

/// A new invitation and its link's secret: shown once to who invited (and mailed, once Halle
/// sends mail); never stored.
#[derive(Clone, Debug)]
pub struct InvitationGrant {
    /// The token of the link `/invitations/{token}`.
    pub token: String,
    /// The invitation.
    pub invitation: InvitationView,
}

/// What the invited person gives when accepting.
#[derive(Clone, Debug)]
pub struct Acceptance {
    /// Their name.
    pub name: String,
    /// Their login.
    pub email: String,
    /// Their password (the sign-up rule: [`crate::MIN_PASSWORD_CHARS`] characters at least).
    pub password: String,
    /// Their phone, if they give it.
    pub phone: Option<String>,
}

/// A staff account of a market (coordinator, volunteer, host) or of one of its producers.
#[derive(Clone, Debug)]
pub struct StaffMember {
    /// The account.
    pub account_id: i64,
    /// Name.
    pub name: String,
    /// Login.
    pub email: String,
    /// Phone, if given.
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// For a producer account: its producer.
    pub producer_id: Option<i64>,
    /// For a host: its pickup point.
    pub pickup_point_id: Option<i64>,
}

fn state_of(i: &invitation::Model, now: DateTime<Utc>) -> InvitationState {
    if i.used_at.is_some() {
        InvitationState::Used
    } else if i.expires_at <= now {
        InvitationState::Expired
    } else {
        InvitationState::Pending
    }
}

fn check_name(name: &str) -> Result<String, StoreError> {
    crate::text::check_chars("name", name)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::invalid(
            "invalid_name",
            "a name is required (at most 200 characters)",
        ));
    }
    Ok(name.to_owned())
}

fn check_email(email: &str) -> Result<String, StoreError> {
    crate::text::check_chars("email", email)?;
    let email = normalise_email(email);
    if !email.contains('@') || email.len() > 254 {
        return Err(StoreError::invalid(
            "invalid_email",
            "this does not look like an email address",
        ));
    }
    Ok(email)
}

impl Store {
    /// Invites someone to a market's staff (its coordinators, or an admin). The producer or
    /// pickup point named must be the market's.
    pub async fn create_invitation(
        &self,
        actor: &Actor,
        market_id: i64,
        new: NewInvitation,
    ) -> Result<InvitationGrant, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can invite its staff",
            ));
        }
        if !INVITED_ROLES.contains(&new.role) {
            return Err(StoreError::invalid(
                "invalid_role",
                "one invites a producer, a volunteer, a host or a coordinator",
            ));
        }
        let name = check_name(&new.name)?;
        let email = match new.email.as_deref().map(str::trim) {
            Some(e) if !e.is_empty() => Some(check_email(e)?),
            _ => None,
        };
        let producer_id = match (new.role, new.producer_id) {
            (Role::Producer, Some(p)) => {
                self.producer(p).await?;
                if !self.producer_in_market(p, market_id).await? {
                    return Err(StoreError::invalid(
                        "producer_not_in_market",
                        "this producer does not sell through this market",
                    ));
                }
                Some(p)
            }
            (Role::Producer, None) => {
                return Err(StoreError::invalid(
                    "producer_required",
                    "a producer's invitation names the producer",
                ));
            }
            _ => None,
        };
        let pickup_point_id = match (new.role, new.pickup_point_id) {
            (Role::Host, Some(p)) => {
                let point = pickup_point::Entity::find_by_id(p)
                    .one(self.db())
                    .await?
                    .filter(|point| point.market_id == market_id)
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "pickup_point_required",
                            "a host's invitation names one of this market's pickup points",
                        )
                    })?;
                Some(point.id)
            }
            (Role::Host, None) => {
                return Err(StoreError::invalid(
                    "pickup_point_required",
                    "a host's invitation names one of this market's pickup points",
                ));
            }
            _ => None,
        };
        let token = hex::encode(rand::random::<[u8; 32]>());
        let now = Utc::now();
        let row = invitation::ActiveModel {
            token_hash: Set(token_hash(&token)),
            market_id: Set(market_id),
            role: Set(new.role.as_str().to_owned()),
            name: Set(name),
            email: Set(email),
            producer_id: Set(producer_id),
            pickup_point_id: Set(pickup_point_id),
            created_by: Set(actor.account_id),
            created_at: Set(now),
            expires_at: Set(now + Duration::days(INVITATION_DAYS)),
            used_at: Set(None),
            account_id: Set(None),
            ..Default::default()
        };
        // The invitation and its mail (when there is an address) commit together.
        let w = self.write().await?;
        let row = row.insert(&w.tx).await?;
        crate::audit::record(
            &w.tx,
            actor,
            market_id,
            crate::audit::kind::INVITATION,
            format!("invitation {}", row.id),
            format!("invited: {} ({})", row.name, row.role),
        )
        .await?;
        if let Some(email) = &row.email {
            let mail = crate::outbox::NewMail {
                kind: crate::outbox::kind::INVITATION,
                market_id: Some(market_id),
                unique_key: Some(format!("invitation:{}", row.id)),
                payload: serde_json::json!({
                    "path": format!("/invitations/{token}"),
                    "role": row.role,
                    "days": INVITATION_DAYS,
                }),
            };
            crate::outbox::enqueue_to_address(&w.tx, &mail, email, &row.name, "fr").await?;
        }
        w.commit().await?;
        let invitation = self
            .invitation_views(vec![row])
            .await?
            .pop()
            .ok_or_else(|| crate::catalogue::corrupt("invitation", "created but not read back"))?;
        Ok(InvitationGrant { token, invitation })
    }

    /// A market's invitations, newest first (its coordinators, or an admin).
    pub async fn list_invitations(
        &self,
        actor: &Actor,
        market_id: i64,
    ) -> Result<Vec<InvitationView>, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can see its invitations",
            ));
        }
        let rows = invitation::Entity::find()
            .filter(invitation::Column::MarketId.eq(market_id))
            .order_by_desc(invitation::Column::CreatedAt)
            .order_by_desc(invitation::Column::Id)
            .limit(200)
            .all(self.db())
            .await?;
        self.invitation_views(rows).await
    }

    /// Withdraws an invitation not accepted yet: its link stops working at once. Someone who
    /// does not run the invitation's market gets 404.
    pub async fn revoke_invitation(&self, actor: &Actor, id: i64) -> Result<(), StoreError> {
        let found = invitation::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .filter(|i| rights::runs_market(actor, i.market_id))
            .ok_or_else(|| StoreError::not_found("invitation", id))?;
        if found.used_at.is_some() {
            return Err(StoreError::conflict(
                "invitation_used",
                "this invitation was already accepted",
            ));
        }
        let w = self.write().await?;
        let deleted = invitation::Entity::delete_many()
            .filter(invitation::Column::Id.eq(id))
            .filter(invitation::Column::UsedAt.is_null())
            .exec(&w.tx)
            .await?;
        if deleted.rows_affected == 1 {
            crate::audit::record(
                &w.tx,
                actor,
                found.market_id,
                crate::audit::kind::INVITATION,
                format!("invitation {id}"),
                format!("withdrawn: {} ({})", found.name, found.role),
            )
            .await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// The invitation of a link, for the invited person: 404 for an unknown (or revoked) link,
    /// 409 `invitation_used` or `invitation_expired` for one that no longer works.
    pub async fn invitation(&self, token: &str) -> Result<InvitationView, StoreError> {
        let row = self.invitation_row(token).await?;
        let view = self
            .invitation_views(vec![row])
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("invitation", 0))?;
        match view.state {
            InvitationState::Pending => Ok(view),
            InvitationState::Used => Err(used()),
            InvitationState::Expired => Err(expired()),
        }
    }

    /// Accepts an invitation: creates the account of its role (attached to its market,
    /// producer or pickup point) and opens a session for it. The link then stops working.
    pub async fn accept_invitation(
        &self,
        token: &str,
        a: Acceptance,
    ) -> Result<SessionGrant, StoreError> {
        let inv = self.invitation_row(token).await?;
        match state_of(&inv, Utc::now()) {
            InvitationState::Pending => {}
            InvitationState::Used => return Err(used()),
            InvitationState::Expired => return Err(expired()),
        }
        let role = Role::parse(&inv.role)
            .ok_or_else(|| crate::catalogue::corrupt("invitation role", &inv.role))?;
        let name = check_name(&a.name)?;
        let email = check_email(&a.email)?;
        crate::text::check_all([("phone", a.phone.as_deref())])?;
        let phone = a
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        if phone.as_ref().is_some_and(|p| p.chars().count() > 40) {
            return Err(StoreError::invalid(
                "invalid_phone",
                "a phone number has at most 40 characters",
            ));
        }
        check_new_password(&a.password)?;
        let password = a.password;
        let hash = self.hashing.run(move || hash_now(&password)).await??;
        let now = Utc::now();
        let w = self.write().await?;
        // The guard makes the link single-use, whatever the number of tabs or nodes.
        let claimed = invitation::Entity::update_many()
            .col_expr(invitation::Column::UsedAt, Expr::value(Some(now)))
            .filter(invitation::Column::Id.eq(inv.id))
            .filter(invitation::Column::UsedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .exec(&w.tx)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(used());
        }
        let created = account::ActiveModel {
            email: Set(email),
            password_hash: Set(hash),
            name: Set(name),
            phone: Set(phone),
            role: Set(role.as_str().to_owned()),
            producer_id: Set(inv.producer_id.filter(|_| role == Role::Producer)),
            market_id: Set((role != Role::Producer).then_some(inv.market_id)),
            pickup_point_id: Set(inv.pickup_point_id.filter(|_| role == Role::Host)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&w.tx)
        .await;
        let account = match created {
            Ok(m) => m,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(StoreError::conflict(
                    "email_taken",
                    "an account already uses this email address",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        invitation::Entity::update_many()
            .col_expr(invitation::Column::AccountId, Expr::value(Some(account.id)))
            .filter(invitation::Column::Id.eq(inv.id))
            .exec(&w.tx)
            .await?;
        w.commit().await?;
        self.open_session(account.id).await
    }

    /// The staff of a market: its coordinators, volunteers and hosts, and the accounts of its
    /// producers (its coordinators, or an admin).
    pub async fn market_staff(
        &self,
        actor: &Actor,
        market_id: i64,
    ) -> Result<Vec<StaffMember>, StoreError> {
        let producers = self.list_producers(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can see its staff",
            ));
        }
        let staff_roles = [Role::Coordinator, Role::Volunteer, Role::Host].map(Role::as_str);
        let rows =
            account::Entity::find()
                .filter(
                    sea_orm::Condition::any()
                        .add(
                            account::Column::MarketId
                                .eq(market_id)
                                .and(account::Column::Role.is_in(staff_roles)),
                        )
                        .add(account::Column::Role.eq(Role::Producer.as_str()).and(
                            account::Column::ProducerId.is_in(producers.iter().map(|p| p.id)),
                        )),
                )
                .order_by_asc(account::Column::Name)
                .order_by_asc(account::Column::Id)
                .all(self.db())
                .await?;
        rows.into_iter()
            .map(|a| {
                let role = Role::parse(&a.role)
                    .ok_or_else(|| crate::catalogue::corrupt("account role", &a.role))?;
                Ok(StaffMember {
                    account_id: a.id,
                    name: a.name,
                    email: a.email,
                    phone: a.phone,
                    role,
                    producer_id: a.producer_id,
                    pickup_point_id: a.pickup_point_id,
                })
            })
            .collect()
    }

    async fn invitation_row(&self, token: &str) -> Result<invitation::Model, StoreError> {
        // A token is 64 hex digits; anything else is not worth a query.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::not_found("invitation", 0));
        }
        invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(token_hash(&token.to_ascii_lowercase())))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("invitation", 0))
    }

    /// Invitations with the names of their market, producer, point and inviter (four queries
    /// whatever their number).
    async fn invitation_views(
        &self,
        rows: Vec<invitation::Model>,
    ) -> Result<Vec<InvitationView>, StoreError> {
        let markets = market::Entity::find()
            .filter(market::Column::Id.is_in(rows.iter().map(|i| i.market_id)))
            .all(self.db())
            .await?;
        let producers = producer::Entity::find()
            .filter(producer::Column::Id.is_in(rows.iter().filter_map(|i| i.producer_id)))
            .all(self.db())
            .await?;
        let points = pickup_point::Entity::find()
            .filter(pickup_point::Column::Id.is_in(rows.iter().filter_map(|i| i.pickup_point_id)))
            .all(self.db())
            .await?;
        let inviters = account::Entity::find()
            .filter(account::Column::Id.is_in(rows.iter().map(|i| i.created_by)))
            .all(self.db())
            .await?;
        let now = Utc::now();
        rows.into_iter()
            .map(|i| {
                let role = Role::parse(&i.role)
                    .ok_or_else(|| crate::catalogue::corrupt("invitation role", &i.role))?;
                Ok(InvitationView {
                    id: i.id,
                    market_id: i.market_id,
                    market_name: markets
                        .iter()
                        .find(|m| m.id == i.market_id)
                        .map(|m| m.name.clone())
                        .unwrap_or_default(),
                    role,
                    name: i.name.clone(),
                    email: i.email.clone(),
                    producer_id: i.producer_id,
                    producer_name: i
                        .producer_id
                        .and_then(|p| producers.iter().find(|x| x.id == p))
                        .map(|p| p.name.clone()),
                    pickup_point_id: i.pickup_point_id,
                    pickup_point_name: i
                        .pickup_point_id
                        .and_then(|p| points.iter().find(|x| x.id == p))
                        .map(|p| p.name.clone()),
                    invited_by: inviters
                        .iter()
                        .find(|a| a.id == i.created_by)
                        .map(|a| a.name.clone())
                        .unwrap_or_default(),
                    created_at: i.created_at,
                    expires_at: i.expires_at,
                    used_at: i.used_at,
                    state: state_of(&i, now),
                })
            })
            .collect()
    }
}

fn used() -> StoreError {
    StoreError::conflict("invitation_used", "this invitation was already accepted")
}

fn expired() -> StoreError {
    StoreError::conflict("invitation_expired", "this invitation has expired")
}
