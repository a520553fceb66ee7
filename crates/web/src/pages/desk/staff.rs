//! `/desk/staff`: the market's staff and producers, the invitations that bring people in (a
//! producer, a volunteer, a host or another coordinator), and `/invitations/{token}`, the
//! public page where the invited person sets a name and a password.
//!
//! An invitation's link is shown once, on the page answering the form (only its SHA-256 is
//! kept). When the invitation names an address, the store mails the link too (its outbox row
//! commits with the invitation).

use std::sync::Arc;

use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Path},
};
use serde_json::{Value, json};
use store::{
    Acceptance, Actor, InvitationGrant, InvitationState, InvitationView, NewInvitation,
    NewProducer, Role, SESSION_DAYS, StoreError,
};

use super::{my_market, say, timezone};
use crate::pages::{
    PageError, Site, Submission, Visitor, answer, home_of, see_other,
    visitor::{Form, SESSION_COOKIE, append_cookie},
};

/// The message id of a role's name.
pub(crate) fn role_id(role: Role) -> String {
    format!("desk-role-{}", role.as_str())
}

/// An invitation as the lists show it.
pub(crate) fn invitation_json(
    site: &Site,
    v: &Visitor,
    i: &InvitationView,
    tz: chrono_tz::Tz,
) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "email": i.email,
        "role": site.t(v.lang, &role_id(i.role)),
        "what": i.producer_name.clone().or_else(|| i.pickup_point_name.clone()),
        "state": site.t(v.lang, &format!("desk-invitation-{}", i.state.as_str())),
        "pending": i.state == InvitationState::Pending,
        "expires": print::format::date_time(i.expires_at, tz, v.lang),
        "invited_by": i.invited_by,
    })
}

/// `/desk/staff`.
#[handler]
pub(crate) async fn list(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let form = json!({ "role": "volunteer", "producer": "" });
        page(&site, &v, actor, StatusCode::OK, form, json!({})).await
    }
    .await;
    answer(&site, &v, r)
}

async fn page(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    status: StatusCode,
    form: Value,
    errors: Value,
) -> Result<Response, PageError> {
    let (market, tz) = my_market(site, actor).await?;
    let lang = v.lang;
    let staff = site.store.market_staff(actor, market.id).await?;
    let producers = site.store.list_producers(market.id).await?;
    let points = site.store.list_pickup_points(market.id).await?;
    let invitations = site.store.list_invitations(actor, market.id).await?;
    let people: Vec<Value> = staff
        .iter()
        .filter(|s| s.role != Role::Producer)
        .map(|s| {
            json!({
                "name": s.name,
                "email": s.email,
                "phone": s.phone,
                "role": site.t(lang, &role_id(s.role)),
                "point": s.pickup_point_id
                    .and_then(|p| points.iter().find(|x| x.id == p))
                    .map(|p| p.name.clone()),
            })
        })
        .collect();
    let selected_producer = form["producer"].as_str().unwrap_or("").to_owned();
    let selected_point = form["point"].as_str().unwrap_or("").to_owned();
    let producer_views: Vec<Value> = producers
        .iter()
        .map(|p| {
            let accounts: Vec<&str> = staff
                .iter()
                .filter(|s| s.producer_id == Some(p.id))
                .map(|s| s.name.as_str())
                .collect();
            json!({
                "id": p.id,
                "name": p.name,
                "farmer": p.farmer_name,
                "city": p.city,
                "phone": p.phone,
                "email": p.email,
                "accounts": accounts.join(", "),
                "selected": p.id.to_string() == selected_producer,
            })
        })
        .collect();
    let point_views: Vec<Value> = points
        .iter()
        .map(|p| json!({ "id": p.id, "name": p.name, "selected": p.id.to_string() == selected_point }))
        .collect();
    let selected_role = form["role"].as_str().unwrap_or("volunteer").to_owned();
    let roles: Vec<Value> = store::INVITED_ROLES
        .iter()
        .map(|r| {
            json!({ "value": r.as_str(), "label": site.t(lang, &role_id(*r)),
                    "checked": r.as_str() == selected_role })
        })
        .collect();
    let invitation_views: Vec<Value> = invitations
        .iter()
        .map(|i| invitation_json(site, v, i, tz))
        .collect();
    Ok(site.render(
        v,
        status,
        "desk/staff",
        "desk-staff-title",
        json!({
            "market": market.name,
            "people": people,
            "producers": producer_views,
            "points": point_views,
            "roles": roles,
            "invitations": invitation_views,
            "new_producer": selected_producer == "new",
            "form": form,
            "errors": errors,
            "days": store::INVITATION_DAYS,
        }),
    ))
}

/// The field of the invitation form a store error belongs to.
fn invite_field(e: &StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => match *code {
            "invalid_name" => "name",
            "invalid_email" => "email",
            "producer_required" | "producer_not_in_market" => "producer",
            "pickup_point_required" => "point",
            "invalid_role" => "role",
            "invalid_field" | "invalid_coordinates" => "producer_name",
            _ => "form",
        },
        _ => "form",
    }
}

/// The base of this site's links, as the visitor reached it.
fn site_base(req: &Request, v: &Visitor) -> String {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("127.0.0.1:8080");
    let scheme = if v.secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Notes that an invitation was made (never the link: it opens an account). The mail with the
/// link, when the invitation names an address, was written by `Store::create_invitation`.
pub(crate) fn mail_invitation(grant: &InvitationGrant, _link: &str) {
    tracing::info!(
        invitation = grant.invitation.id,
        market = grant.invitation.market_id,
        role = grant.invitation.role.as_str(),
        has_email = grant.invitation.email.is_some(),
        "invitation made; the link is shown to who invited, and mailed when an address was given"
    );
}

/// The page answering an invitation: its link, shown once.
pub(crate) fn invited_page(
    site: &Site,
    v: &Visitor,
    req: &Request,
    grant: &InvitationGrant,
    back: &str,
) -> Response {
    let link = format!("{}/invitations/{}", site_base(req, v), grant.token);
    mail_invitation(grant, &link);
    let i = &grant.invitation;
    site.render(
        v,
        StatusCode::CREATED,
        "desk/invited",
        "desk-invited-title",
        json!({
            "link": link,
            "name": i.name,
            "email": i.email,
            "role": site.t(v.lang, &role_id(i.role)),
            "market": i.market_name,
            "days": store::INVITATION_DAYS,
            "back": back,
        }),
    )
}

/// Invites someone to the market's staff; for a new producer, creates its record first.
#[handler]
pub(crate) async fn invite(site: Data<&Arc<Site>>, req: &Request, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, _) = my_market(&site, actor).await?;
        let again = |status, field: &str, message: String| {
            page(
                &site,
                &v,
                actor,
                status,
                form.echo(),
                json!({ field: message }),
            )
        };
        let Some(role) = Role::parse(form.get("role")).filter(|r| store::INVITED_ROLES.contains(r))
        else {
            return again(
                StatusCode::UNPROCESSABLE_ENTITY,
                "role",
                site.t(v.lang, "desk-error-choose-one"),
            )
            .await;
        };
        if form.get("name").is_empty() {
            return again(
                StatusCode::UNPROCESSABLE_ENTITY,
                "name",
                site.t(v.lang, "desk-error-required"),
            )
            .await;
        }
        let mut producer_id = None;
        if role == Role::Producer {
            if form.get("producer") == "new" {
                match new_producer(&site, &v, actor, market.id, &form).await? {
                    Ok(id) => producer_id = Some(id),
                    Err((field, message)) => {
                        return again(StatusCode::UNPROCESSABLE_ENTITY, field, message).await;
                    }
                }
            } else {
                producer_id = form.get("producer").parse().ok();
            }
        }
        let new = NewInvitation {
            role,
            name: form.get("name").to_owned(),
            email: form.opt("email").map(str::to_owned),
            producer_id,
            pickup_point_id: (role == Role::Host)
                .then(|| form.get("point").parse().ok())
                .flatten(),
        };
        match site.store.create_invitation(actor, market.id, new).await {
            Ok(grant) => Ok(invited_page(&site, &v, req, &grant, "/desk/staff")),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                again(
                    crate::pages::site::store_status(&e),
                    invite_field(&e),
                    say(&site, v.lang, &e),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// Creates the producer record a producer's invitation is for; `Err((field, message))` when a
/// field is wrong.
async fn new_producer(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    market_id: i64,
    form: &Form,
) -> Result<Result<i64, (&'static str, String)>, PageError> {
    for field in ["producer_name", "address", "postal_code", "city"] {
        if form.get(field).is_empty() {
            return Ok(Err((field, site.t(v.lang, "desk-error-required"))));
        }
    }
    let market = site.store.market(market_id).await?;
    let created = site
        .store
        .create_producer(
            actor,
            market_id,
            NewProducer {
                name: form.get("producer_name").to_owned(),
                farmer_name: form.get("name").to_owned(),
                description: String::new(),
                address: form.get("address").to_owned(),
                postal_code: form.get("postal_code").to_owned(),
                city: form.get("city").to_owned(),
                // Where the market is, until the producer says where the farm is.
                latitude: market.latitude,
                longitude: market.longitude,
                phone: None,
                email: form.opt("email").map(str::to_owned),
                website: None,
                social: None,
            },
        )
        .await;
    match created {
        Ok(p) => Ok(Ok(p.id)),
        Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
            Ok(Err(("producer_name", say(site, v.lang, &e))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Withdraws an invitation not accepted yet.
#[handler]
pub(crate) async fn revoke(site: Data<&Arc<Site>>, id: Path<i64>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        site.store.revoke_invitation(actor, id.0).await?;
        let back = match form.get("back") {
            b if b.starts_with("/admin/markets/") => b.to_owned(),
            _ => "/desk/staff".to_owned(),
        };
        Ok(see_other(
            &v,
            &format!("{back}?done=desk-invitation-revoked"),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// The page of a link that no longer works: 410 for a used or expired one, 404 otherwise.
fn gone(site: &Site, v: &Visitor, e: StoreError) -> Response {
    let (status, message) = match &e {
        StoreError::Conflict { code, .. } if *code == "invitation_used" => {
            (StatusCode::GONE, "desk-invite-used")
        }
        StoreError::Conflict { code, .. } if *code == "invitation_expired" => {
            (StatusCode::GONE, "desk-invite-expired")
        }
        StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "desk-invite-unknown"),
        _ => return site.error_page(v, &PageError::from(e)),
    };
    site.render(
        v,
        status,
        "desk/invitation-gone",
        "desk-invite-gone-title",
        json!({ "message": site.t(v.lang, message) }),
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page, and what it shows again"
)]
fn accept_page(
    site: &Site,
    v: &Visitor,
    tz: chrono_tz::Tz,
    status: StatusCode,
    token: &str,
    i: &InvitationView,
    form: Value,
    errors: Value,
) -> Response {
    site.render(
        v,
        status,
        "desk/invitation",
        "desk-invite-title",
        json!({
            "token": token,
            "invited_by": i.invited_by,
            "market": i.market_name,
            "role": site.t(v.lang, &role_id(i.role)),
            "what": i.producer_name.clone().or_else(|| i.pickup_point_name.clone()),
            "expires": print::format::date_time(i.expires_at, tz, v.lang),
            "form": form,
            "errors": errors,
            "min_password": store::MIN_PASSWORD_CHARS,
        }),
    )
}

/// `/invitations/{token}`: who invites whom for what, and the form to accept.
#[handler]
pub(crate) async fn accept_form(
    site: Data<&Arc<Site>>,
    v: Visitor,
    token: Path<String>,
) -> Response {
    let i = match site.store.invitation(&token.0).await {
        Ok(i) => i,
        Err(e) => return gone(&site, &v, e),
    };
    let tz = match site.store.market(i.market_id).await {
        Ok(m) => timezone(&m),
        Err(e) => return site.error_page(&v, &PageError::from(e)),
    };
    let form = json!({ "name": i.name, "email": i.email });
    accept_page(&site, &v, tz, StatusCode::OK, &token.0, &i, form, json!({}))
}

/// The field of the acceptance form an account error belongs to.
fn accept_field(e: &StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => match *code {
            "invalid_email" | "email_taken" => "email",
            "weak_password" | "common_password" => "password",
            "invalid_name" => "name",
            "invalid_phone" => "phone",
            _ => "form",
        },
        _ => "form",
    }
}

/// Accepts an invitation: the account is made, logged in, and lands on its role's page.
#[handler]
pub(crate) async fn accept(
    site: Data<&Arc<Site>>,
    token: Path<String>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let invitation = match site.store.invitation(&token.0).await {
        Ok(i) => i,
        Err(e) => return gone(&site, &v, e),
    };
    let tz = match site.store.market(invitation.market_id).await {
        Ok(m) => timezone(&m),
        Err(e) => return site.error_page(&v, &PageError::from(e)),
    };
    let accepted = site
        .store
        .accept_invitation(
            &token.0,
            Acceptance {
                name: form.get("name").to_owned(),
                email: form.get("email").to_owned(),
                password: form.get("password").to_owned(),
                phone: form.opt("phone").map(str::to_owned),
            },
        )
        .await;
    let grant = match accepted {
        Ok(g) => g,
        Err(
            e @ StoreError::Conflict {
                code: "invitation_used" | "invitation_expired",
                ..
            },
        ) => return gone(&site, &v, e),
        Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
            return accept_page(
                &site,
                &v,
                tz,
                crate::pages::site::store_status(&e),
                &token.0,
                &invitation,
                form.echo(),
                json!({ accept_field(&e): site.store_error(v.lang, &e) }),
            );
        }
        Err(e) => return site.error_page(&v, &PageError::from(e)),
    };
    let r = async {
        site.store
            .set_language(&grant.session.actor, v.lang.code())
            .await?;
        let mut r = see_other(&v, home_of(grant.session.actor.role));
        let max_age = u64::try_from(SESSION_DAYS * 86_400).unwrap_or(u64::MAX);
        append_cookie(
            &mut r,
            &v.cookie(SESSION_COOKIE, &grant.secret, Some(max_age)),
        );
        Ok(r)
    }
    .await;
    answer(&site, &v, r)
}
