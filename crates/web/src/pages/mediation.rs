//! Digital mediation (`/desk/members`): a coordinator (or an admin) finds a member by name or
//! phone, or creates one on the spot without email, then orders for them: the session acts
//! for the member (`Store::act_for`), the shop, basket and orders pages work on the member's
//! basket, every page shows the banner "Vous commandez pour Mme X" with a button to stop
//! (in `layout.hbs`), and the orders placed carry the coordinator as `placed_by`.
//!
//! From the desk to a confirmed basket of five products: search (1 page, 1 field), "order for"
//! (1 click, lands on the shop), the shop (5 fields, 1 submit, lands on the basket), the
//! basket (1 radio, confirm): 4 page loads after the desk, 7 fields and clicks.

use std::sync::Arc;

use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use serde_json::{Value, json};
use store::{Actor, MemberView, Role, StoreError, Viewer};

use super::{PageError, Site, Submission, Visitor, answer, see_other, site::store_status};

#[derive(serde::Deserialize)]
pub(crate) struct Search {
    q: Option<String>,
}

fn member_json(m: &MemberView) -> Value {
    json!({ "id": m.id, "name": m.name, "phone": m.phone, "email": m.email })
}

/// Where ordering for a member starts: the shop of the mediator's market's open cycle (the
/// one closing first), or the list of markets.
async fn shop_of(site: &Site, actor: &Actor) -> Result<String, StoreError> {
    let Some(market) = actor.market_id else {
        return Ok("/".to_owned());
    };
    let now = chrono::Utc::now();
    let open = site
        .store
        .list_cycles(Viewer::Actor(actor), market)
        .await?
        .into_iter()
        .filter(|c| c.state == domain::CycleState::Open && c.opens_at <= now)
        .min_by_key(|c| c.closes_at);
    Ok(match open {
        Some(c) => format!("/shop/{}", c.id),
        None => format!("/m/{}", site.store.market(market).await?.slug),
    })
}

async fn render(
    site: &Site,
    v: &Visitor,
    q: &str,
    form: Value,
    errors: Value,
    status: StatusCode,
) -> Result<Response, PageError> {
    let actor = v.with_role(&[Role::Coordinator])?;
    let found = site.store.find_members(actor, q).await?;
    Ok(site.render(
        v,
        status,
        "mediation/members",
        "mediation-title",
        json!({
            "q": q,
            "searched": !q.trim().is_empty(),
            "members": found.iter().map(member_json).collect::<Vec<_>>(),
            "form": form,
            "errors": errors,
        }),
    ))
}

/// `/desk/members?q=`: find a member, or create one.
#[handler]
pub(crate) async fn members(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Query(s): Query<Search>,
) -> Response {
    let q = s.q.unwrap_or_default();
    let r = render(&site, &v, &q, json!({}), json!({}), StatusCode::OK).await;
    answer(&site, &v, r)
}

/// Creates a member without email and starts ordering for them.
#[handler]
pub(crate) async fn create(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        match site
            .store
            .create_member(actor, form.get("name"), form.opt("phone"))
            .await
        {
            Ok(m) => start(&site, &v, actor, m.id).await,
            Err(e @ StoreError::Invalid { code, .. }) => {
                let field = if code == "invalid_phone" {
                    "phone"
                } else {
                    "name"
                };
                let errors = json!({ field: site.store_error(v.lang, &e) });
                render(&site, &v, "", form.echo(), errors, store_status(&e)).await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// Acts for the member, and goes to the shop.
async fn start(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    member: i64,
) -> Result<Response, PageError> {
    let secret = v.secret.as_deref().ok_or(PageError::LogIn)?;
    site.store.act_for(secret, actor, Some(member)).await?;
    let to = shop_of(site, actor).await?;
    Ok(see_other(v, &to))
}

/// "Commander pour cette personne".
#[handler]
pub(crate) async fn act(site: Data<&Arc<Site>>, Path(id): Path<i64>, sub: Submission) -> Response {
    let v = sub.visitor;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        start(&site, &v, actor, id).await
    }
    .await;
    answer(&site, &v, r)
}

/// Stops ordering for a member: back to the desk.
#[handler]
pub(crate) async fn stop(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let v = sub.visitor;
    let r = async {
        let actor = v.actor()?;
        let secret = v.secret.as_deref().ok_or(PageError::LogIn)?;
        site.store.act_for(secret, actor, None).await?;
        Ok(see_other(&v, "/desk/members?done=mediation-stopped"))
    }
    .await;
    answer(&site, &v, r)
}
