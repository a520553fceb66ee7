//! The payment page, the one page that needs JavaScript: Stripe.js (from the market's
//! configured address, `https://js.stripe.com/v3/` unless an admin set another) mounts the card
//! field and tokenises the card in the browser; the token comes back in a form, Halle puts it
//! on the basket's PaymentIntent and confirms it with Stripe; when the bank asks for 3-D Secure,
//! Stripe.js finishes it with the intent's client secret. The order page then says "authorised"
//! once Stripe said so (a verified webhook, or a retrieve on load), never on the browser's word.
//!
//! Without JavaScript (or Stripe.js blocked) the page says that card payment needs it, that the
//! basket stays reserved, and, when the market takes it, that paying on the spot is possible.
//! Only this page's Content-Security-Policy lets the Stripe.js origin run scripts and frames.
//!
//! | path | what |
//! |------|------|
//! | `GET /orders/{id}/pay` | the card form (`?step=authenticate`: 3-D Secure) |
//! | `POST /orders/{id}/pay` | opens (or takes up again) the card payment, then the page |
//! | `POST /orders/{id}/pay/card` | `token`: the card Stripe.js tokenised, confirmed with Stripe |

use std::sync::Arc;

use poem::{
    Response, handler,
    http::{HeaderValue, StatusCode, header},
    web::{Data, Path, Query},
};
use print::format;
use serde::Deserialize;
use serde_json::{Value, json};
use store::{CardConfirmation, PaymentPage, PaymentSettings, StoreError};

use super::{
    super::{PageError, Site, Submission, Visitor, answer, see_other},
    shop_error,
};

/// Where the page's script lives (served by the pages' static route).
pub(crate) const SCRIPT: &str = "/static/pay.js";

/// `?step=authenticate` after a confirm the bank wants authenticated.
#[derive(Deserialize)]
pub(crate) struct Step {
    step: Option<String>,
}

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL, if it has one that may go
/// in a header.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{host}"))
}

/// The payment page's policy: the site's own, plus Stripe.js's origin for scripts, frames and
/// the calls it makes (Stripe's own API beside it when Stripe.js is Stripe's).
pub(crate) fn payment_csp(js_url: &str) -> String {
    let stripe = origin(js_url).unwrap_or_default();
    let (connect, frames) = if stripe == "https://js.stripe.com" {
        (
            format!("{stripe} https://api.stripe.com"),
            format!("{stripe} https://hooks.stripe.com"),
        )
    } else {
        (stripe.clone(), stripe.clone())
    };
    format!(
        "default-src 'self'; script-src 'self' {stripe}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: https:; font-src 'self'; connect-src 'self' {connect}; \
         frame-src {frames}; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The page's context for one state of the payment.
fn page_json(
    site: &Site,
    v: &Visitor,
    order_id: i64,
    page: Option<&PaymentPage>,
    settings: &PaymentSettings,
    authenticate: bool,
    error: Option<String>,
) -> Value {
    let lang = v.lang;
    let margin = rust_decimal::Decimal::new(i64::from(settings.weight_margin_bp), 2)
        .normalize()
        .to_string();
    let mut out = json!({
        "id": order_id,
        "takes_cards": settings.takes_cards(),
        "cash_too": settings.mode != store::PaymentMode::Online,
        "margin": margin,
        "error": error,
        "pay": null,
        "authorised": null,
        "captured": null,
    });
    match page {
        Some(PaymentPage::Pay {
            amount,
            client_secret,
            publishable_key,
            js_url,
        }) => {
            out["pay"] = json!({
                "amount": format::money(*amount, lang),
                "secret": client_secret,
                "key": publishable_key,
                "js": js_url,
                "script": SCRIPT,
                "authenticate": authenticate,
                "failed": site.t(lang, "pay-card-failed"),
            });
        }
        Some(PaymentPage::Authorised(m)) => out["authorised"] = json!(format::money(*m, lang)),
        Some(PaymentPage::Captured(m)) => out["captured"] = json!(format::money(*m, lang)),
        None => {}
    }
    out
}

/// Renders the page; with Stripe.js on it, under the policy that lets it run.
fn render(site: &Site, v: &Visitor, status: StatusCode, order_id: i64, ctx: Value) -> Response {
    let title = site.t_with(v.lang, "pay-title", &[("id", order_id.to_string())]);
    let js = ctx["pay"]["js"].as_str().map(str::to_owned);
    let mut res = site.render(v, status, "shop/pay", &title, ctx);
    if let Some(js) = js
        && let Ok(policy) = HeaderValue::from_str(&payment_csp(&js))
    {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    res
}

async fn show(
    site: &Site,
    v: &Visitor,
    id: i64,
    status: StatusCode,
    authenticate: bool,
    error: Option<String>,
) -> Result<Response, PageError> {
    let actor = v.actor()?;
    let (page, settings) = site.store.payment_page(actor, id).await?;
    let ctx = page_json(site, v, id, page.as_ref(), &settings, authenticate, error);
    Ok(render(site, v, status, id, ctx))
}

/// `GET /orders/{id}/pay`: the card form, or what is already done.
#[handler]
pub(crate) async fn pay_page(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(id): Path<i64>,
    Query(step): Query<Step>,
) -> Response {
    let authenticate = step.step.as_deref() == Some("authenticate");
    let r = show(&site, &v, id, StatusCode::OK, authenticate, None).await;
    answer(&site, &v, r)
}

/// The page again with a store error said on it (Stripe unreachable, refused...).
async fn again(site: &Site, v: &Visitor, id: i64, e: &StoreError) -> Result<Response, PageError> {
    let status = super::super::site::store_status(e);
    let message = match e {
        StoreError::Unavailable { .. } => site.t(v.lang, "pay-unreachable"),
        e => shop_error(site, v.lang, e),
    };
    show(site, v, id, status, false, Some(message)).await
}

/// `POST /orders/{id}/pay`: opens the basket's card payment (or takes the open one up
/// again), then the page. Stripe unreachable: the page says so, the order kept unpaid.
#[handler]
pub(crate) async fn start(
    site: Data<&Arc<Site>>,
    Path(id): Path<i64>,
    sub: Submission,
) -> Response {
    let v = sub.visitor;
    let r = async {
        let actor = v.actor()?;
        match site.store.start_online_payment(actor, id).await {
            Ok(_) => Ok(see_other(&v, &format!("/orders/{id}/pay"))),
            Err(
                e @ (StoreError::Conflict { .. }
                | StoreError::Invalid { .. }
                | StoreError::Unavailable { .. }),
            ) => again(&site, &v, id, &e).await,
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// `POST /orders/{id}/pay/card`: the token of the card typed in Stripe.js's field, confirmed
/// with Stripe; then the order page, or 3-D Secure on this page.
#[handler]
pub(crate) async fn card(site: Data<&Arc<Site>>, Path(id): Path<i64>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.actor()?;
        match site.store.confirm_card(actor, id, form.get("token")).await {
            Ok(CardConfirmation::Sent) => {
                Ok(see_other(&v, &format!("/orders/{id}?done=payment-sent")))
            }
            Ok(CardConfirmation::Authenticate) => Ok(see_other(
                &v,
                &format!("/orders/{id}/pay?step=authenticate"),
            )),
            Err(
                e @ (StoreError::Conflict { .. }
                | StoreError::Invalid { .. }
                | StoreError::Unavailable { .. }),
            ) => again(&site, &v, id, &e).await,
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// `/static/pay.js`: the payment page's script.
#[handler]
pub(crate) fn script() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(include_str!("../../../../../templates/static/pay.js"))
}

/// The payment's state as the order page shows it: for a market taking cards, what Stripe
/// last said (read back from Stripe on the way when a card payment is still pending, since
/// its webhook may be on the way), and whether the consumer may pay by card from here.
pub(crate) async fn order_state(
    site: &Site,
    v: &Visitor,
    o: &store::OrderView,
    market_id: i64,
    mine: bool,
) -> Result<Value, PageError> {
    let actor = v.actor()?;
    let settings = site.store.payment_settings(market_id).await?;
    let mut rows = site.store.online_payments(actor, o.id).await?;
    if !settings.takes_cards() && rows.is_empty() {
        return Ok(json!(null));
    }
    if rows
        .iter()
        .any(|r| r.status == "requires_payment" && r.intent_id.is_some())
    {
        // Stripe unreachable: the state stays as last known, said as pending.
        if let Ok(fresh) = site.store.refresh_online_payment(actor, o.id).await {
            rows = fresh;
        }
    }
    let lang = v.lang;
    let refunded: i64 = rows.iter().map(|r| r.refunded.cents()).sum();
    let (state, amount) = match rows
        .iter()
        .find(|r| r.status == "captured" || r.status == "authorised")
    {
        Some(r) if r.status == "captured" => (
            site.t_with(
                lang,
                "pay-captured",
                &[("amount", format::money(r.captured, lang))],
            ),
            true,
        ),
        Some(r) => (
            site.t_with(
                lang,
                "pay-authorised",
                &[("amount", format::money(r.amount, lang))],
            ),
            true,
        ),
        None if rows.iter().any(|r| r.status == "requires_payment") => {
            (site.t(lang, "pay-state-pending"), false)
        }
        None if rows.iter().any(|r| r.status == "cancelled") => {
            (site.t(lang, "pay-state-released"), false)
        }
        None => (site.t(lang, "pay-state-none"), false),
    };
    let placed = o.status != "cancelled";
    Ok(json!({
        "state": state,
        "done": amount,
        "refunded": (refunded > 0).then(|| site.t_with(
            lang,
            "pay-state-refunded",
            &[("amount", format::money(domain::Money::from_cents(refunded), lang))],
        )),
        "may_pay": placed && mine && !amount && settings.takes_cards(),
        "cash_too": settings.mode != store::PaymentMode::Online,
    }))
}

#[cfg(test)]
mod tests {
    use super::{origin, payment_csp};

    #[test]
    fn the_origin_is_scheme_and_host_only() {
        assert_eq!(
            origin("https://js.stripe.com/v3/").as_deref(),
            Some("https://js.stripe.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:4242/js.stripe.com/v3/").as_deref(),
            Some("http://127.0.0.1:4242")
        );
        assert_eq!(origin("javascript:alert(1)"), None);
        assert_eq!(origin("https://evil.example; script-src *"), None);
    }

    #[test]
    fn the_payment_policy_lets_stripe_in_and_nothing_else() {
        let p = payment_csp("https://js.stripe.com/v3/");
        assert!(p.contains("script-src 'self' https://js.stripe.com;"));
        assert!(p.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"));
        assert!(p.contains("connect-src 'self' https://js.stripe.com https://api.stripe.com;"));
        assert!(p.contains("frame-ancestors 'none'"));
        let local = payment_csp("http://127.0.0.1:4242/js.stripe.com/v3/");
        assert!(local.contains("script-src 'self' http://127.0.0.1:4242;"));
        assert!(!local.contains("stripe.com "));
    }
}
