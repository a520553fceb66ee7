//! The consumers' pages: a market's home, the shop of an open cycle, the basket, and the
//! orders (see `orders.rs`).
//!
//! The basket a visitor fills is a draft kept by the store per (account, cycle)
//! (`Store::save_draft_basket`), so it survives a reload and a new login; it is confirmed on
//! the basket page into an order (`place_order`, or `modify_order` when the account already has
//! an order in the cycle), and the draft is then forgotten. With no draft, the shop and the
//! basket start from the account's order in the cycle: "change my order" is the shop again.
//!
//! A mediator ordering for a member (`Session::acting_for`) fills the member's basket: every
//! store call gets `for_member`, and the order is placed `on_behalf_of` the member.

mod kept;
mod offers;
pub(crate) mod orders;
pub(crate) mod pay;
mod slots;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::Utc;
use chrono_tz::Tz;
use domain::{PricedLine, Quantity, QuantityError, RequestedLine, basket_totals};
use poem::{
    IntoResponse, Response, handler,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    web::{Data, Path, Query},
};
use print::format;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use store::{Actor, CycleView, IdempotencyKey, OrderRequest, Placed, Store, StoreError, Viewer};

pub(crate) use kept::KeptPages;
pub(crate) use offers::ShopOffers;

use super::{
    PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other, site::store_status,
};

/// `?q=`: a text filter.
#[derive(Deserialize)]
pub(crate) struct Filter {
    q: Option<String>,
}

/// The member a mediator is ordering for, if any.
pub(crate) fn member_of(v: &Visitor) -> Option<i64> {
    v.session.as_ref().and_then(|s| s.acting_for)
}

/// A market's time zone (Europe/Paris when it does not parse).
pub(crate) fn tz_of(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::Paris)
}

/// A store error in the shop's words: `shop-error-<code>` when there is one, the site's
/// translation otherwise.
pub(crate) fn shop_error(site: &Site, lang: Lang, e: &StoreError) -> String {
    if let StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } = e {
        let id = format!("shop-error-{}", code.replace('_', "-"));
        if site.words.has(lang, &id) {
            return site.t(lang, &id);
        }
    }
    site.store_error(lang, e)
}

/// Why a quantity is refused, in the visitor's words.
fn quantity_error(site: &Site, lang: Lang, e: &QuantityError) -> String {
    match e {
        QuantityError::NotPositive | QuantityError::Negative => site.t(lang, "shop-qty-negative"),
        QuantityError::TooPrecise => site.t(lang, "shop-qty-too-precise"),
        QuantityError::TooLarge { max } => site.t_with(
            lang,
            "shop-qty-too-large",
            &[("max", format::quantity(*max, lang))],
        ),
        QuantityError::NotWhole { .. } => site.t(lang, "shop-qty-not-whole"),
        QuantityError::NotMultipleOfStep { step } => site.t_with(
            lang,
            "shop-qty-step",
            &[("step", format::quantity(*step, lang))],
        ),
    }
}

/// A typed quantity: `None` for blank or zero (not in the basket).
fn parse_quantity(text: &str) -> Result<Option<Quantity>, QuantityError> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    let d: Decimal = text.parse().map_err(|_| QuantityError::Negative)?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(QuantityError::Negative);
    }
    let q = Quantity::new(d)?;
    Ok((!q.is_zero()).then_some(q))
}

/// The basket to show: the draft if there is one, else the lines of the account's order in the
/// cycle; with that order's id.
pub(crate) async fn current_basket(
    store: &Store,
    actor: &Actor,
    member: Option<i64>,
    cycle_id: i64,
) -> Result<(BTreeMap<i64, Quantity>, Option<i64>), StoreError> {
    let b = store.current_basket(actor, member, cycle_id).await?;
    Ok((
        b.lines.iter().map(|l| (l.offer_id, l.quantity)).collect(),
        b.order_id,
    ))
}

/// Reads the `q_<offer>` fields of a form over `lines`: a field present replaces its line (blank
/// or zero removes it); lines without a field stay. Also returns the text typed in each field,
/// and the errors of those that do not parse.
fn read_quantities(
    site: &Site,
    lang: Lang,
    form: &super::visitor::Form,
    lines: &mut BTreeMap<i64, Quantity>,
) -> (HashMap<i64, String>, HashMap<i64, String>) {
    let mut typed = HashMap::new();
    let mut errors = HashMap::new();
    for (k, value) in form.pairs() {
        let Some(id) = k.strip_prefix("q_").and_then(|id| id.parse::<i64>().ok()) else {
            continue;
        };
        typed.insert(id, value.trim().to_owned());
        match parse_quantity(value) {
            Ok(Some(q)) => {
                lines.insert(id, q);
            }
            Ok(None) => {
                lines.remove(&id);
            }
            Err(e) => {
                errors.insert(id, quantity_error(site, lang, &e));
            }
        }
    }
    (typed, errors)
}

fn requested(lines: &BTreeMap<i64, Quantity>) -> Vec<RequestedLine> {
    lines
        .iter()
        .map(|(offer_id, quantity)| RequestedLine {
            offer_id: *offer_id,
            quantity: *quantity,
        })
        .collect()
}

/// Saves a draft; the lines refused, with their message, if any.
async fn save(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    cycle_id: i64,
    lines: &BTreeMap<i64, Quantity>,
) -> Result<HashMap<i64, String>, StoreError> {
    let problems = site
        .store
        .save_draft_basket(actor, member_of(v), cycle_id, requested(lines))
        .await?;
    Ok(problems
        .into_iter()
        .map(|p| (p.offer_id, quantity_error(site, v.lang, &p.error)))
        .collect())
}

/// `/m/{slug}`: a market's home.
#[handler]
pub(crate) async fn market(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(slug): Path<String>,
) -> Response {
    let r = async {
        let m = site.store.market_by_slug(&slug).await?;
        let tz = tz_of(&m.timezone);
        let viewer = match v.session.as_ref() {
            Some(s) => Viewer::Actor(&s.actor),
            None => Viewer::Anonymous,
        };
        let coordinators = site.store.market_coordinators(m.id).await?;
        let cycles = site.store.list_cycles(viewer, m.id).await?;
        let now = Utc::now();
        let open = cycles
            .iter()
            .filter(|c| c.state == domain::CycleState::Open && c.opens_at <= now)
            .min_by_key(|c| c.closes_at);
        let points: HashMap<i64, store::PickupPointView> = site
            .store
            .list_pickup_points(m.id)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let (cycle, slots) = match open {
            Some(c) => {
                let view = site.store.cycle(viewer, c.id).await?;
                let slots: Vec<Value> = view
                    .slots
                    .iter()
                    .filter(|s| s.ends_at > now)
                    .take(8)
                    .map(|s| {
                        let p = points.get(&s.pickup_point_id);
                        // Cancelled and moved slots stay, said so: who planned on them sees it.
                        let mut slot = slots::slot_json(&site, v.lang, tz, s);
                        slot["host"] = json!(p.map(|p| p.host_name.clone()));
                        slot["access"] =
                            json!(p.map(|p| p.access_notes.clone()).filter(|a| !a.is_empty()));
                        slot
                    })
                    .collect();
                (
                    Some(json!({
                        "id": c.id,
                        "name": c.name,
                        "closes": format::date_time(c.closes_at, tz, v.lang),
                        "offers": view.offers.len(),
                    })),
                    slots,
                )
            }
            None => (None, vec![]),
        };
        let producers: Vec<Value> = site
            .store
            .list_producers(m.id)
            .await?
            .into_iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "farmer": p.farmer_name,
                    "description": p.description,
                    "city": p.city,
                    "phone": p.phone,
                    "email": p.email,
                    "website": p.website.filter(|w| w.starts_with("https://") || w.starts_with("http://")),
                })
            })
            .collect();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "shop/market",
            &m.name,
            json!({
                "market": { "name": m.name, "city": m.city, "description": m.description },
                "coordinators": coordinators.join(", "),
                "cycle": cycle,
                "slots": slots,
                "producers": producers,
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// The shop's cycle and its market's time zone, for who may read it.
async fn shop_cycle(
    site: &Site,
    v: &Visitor,
    cycle_id: i64,
) -> Result<(CycleView, Tz), StoreError> {
    let viewer = match v.session.as_ref() {
        Some(s) => Viewer::Actor(&s.actor),
        None => Viewer::Anonymous,
    };
    let cycle = site.store.cycle(viewer, cycle_id).await?;
    let m = site.store.market(cycle.cycle.market_id).await?;
    Ok((cycle, tz_of(&m.timezone)))
}

/// What the shop page shows besides the offers.
struct ShopState {
    q: String,
    typed: HashMap<i64, String>,
    errors: HashMap<i64, String>,
    form_error: Option<String>,
    status: StatusCode,
    /// The client takes gzip (the kept page then comes deflated from its kept chunks).
    gzip: bool,
}

async fn render_shop(
    site: &Site,
    v: &Visitor,
    cycle_id: i64,
    state: ShopState,
) -> Result<Response, PageError> {
    let viewer = match v.session.as_ref() {
        Some(s) => Viewer::Actor(&s.actor),
        None => Viewer::Anonymous,
    };
    // From memory, as the cycle's JSON: a change shows on the next load here, within a
    // second on another node.
    let shown = site.store.shown_cycle(viewer, cycle_id).await?;
    let held = match &v.session {
        Some(s) => Some(current_basket(&site.store, &s.actor, member_of(v), cycle_id).await?),
        None => None,
    };
    let plain = !site.shop_in_full
        && state.q.is_empty()
        && state.typed.is_empty()
        && state.errors.is_empty()
        && state.form_error.is_none();
    let key = (shown.view.cycle.id, v.lang, v.session.is_some());
    if plain && let Some(kept) = kept_shop(site, v, key, &shown, held.as_ref()).await? {
        return Ok(kept_page(
            site,
            v,
            &state,
            held.as_ref(),
            &kept,
            key,
            shown.version,
        ));
    }
    full_shop(site, v, &shown, held.as_ref(), state).await
}

/// The shop's offers for a visitor, and the page's `shop` context and title.
struct ShopPart {
    html: String,
    meta: Value,
    title: String,
}

/// The kept offers (see kept.rs), if they can show this basket.
async fn kept_shop(
    site: &Site,
    v: &Visitor,
    key: kept::Key,
    shown: &store::ShownCycle,
    held: Option<&(BTreeMap<i64, Quantity>, Option<i64>)>,
) -> Result<Option<Arc<kept::KeptOffers>>, StoreError> {
    let kept = match site.shop_pages.get(key, shown.version) {
        Some(k) => k,
        None => {
            let _one = site.shop_pages.rendering.lock().await;
            if let Some(k) = site.shop_pages.get(key, shown.version) {
                return Ok(held.is_none_or(|(lines, _)| k.shows(lines)).then_some(k));
            }
            let m = site.store.market(shown.view.cycle.market_id).await?;
            let offers = ShopOffers::build(site, v.lang, tz_of(&m.timezone), &shown.view);
            let Some(k) = kept::KeptOffers::render(site, v.lang, key.2, &offers) else {
                return Ok(None);
            };
            let k = Arc::new(k);
            site.shop_pages.keep(key, shown.version, k.clone());
            k
        }
    };
    let shows = held.is_none_or(|(lines, _)| kept.shows(lines));
    Ok(shows.then_some(kept))
}

/// Where the offers go in the page rendered around them (never in a page's text: checked).
const OFFERS_GO_HERE: &str = "\u{1}halle-shop-offers\u{1}";

/// The shop page from the kept offers: the page around them for this visitor (rendered around
/// a mark, once, then kept: see `kept::Around`), and the offers spliced into it as slices of the
/// kept HTML, or (`gzip`) as the kept deflated chunks; nothing of the offers is copied.
fn kept_page(
    site: &Site,
    v: &Visitor,
    state: &ShopState,
    held: Option<&(BTreeMap<i64, Quantity>, Option<i64>)>,
    kept: &kept::KeptOffers,
    key: kept::Key,
    version: u64,
) -> Response {
    let empty = BTreeMap::new();
    let lines = held.map_or(&empty, |(l, _)| l);
    // Everything the page around the offers is rendered from, besides the kept offers'
    // (cycle, version, language, logged in) and the templates.
    let around_key = format!(
        "{}|{version}|{}|{}|{}|{:?}|{}|{}",
        key.0,
        key.1.code(),
        key.2,
        state.status.as_u16(),
        held.and_then(|(_, o)| *o),
        lines.len(),
        v.context_key(site),
    );
    let around = match site.shop_pages.around(&around_key) {
        Some(a) => a,
        None => {
            let part = ShopPart {
                html: OFFERS_GO_HERE.to_owned(),
                meta: kept.meta.clone(),
                title: kept.title.clone(),
            };
            let Some(html) =
                site.page_html(v, "shop/shop", &kept.title, page_json(state, held, part))
            else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let mut parts = html.split(OFFERS_GO_HERE);
            let (Some(prefix), Some(suffix), None) = (parts.next(), parts.next(), parts.next())
            else {
                // The mark is not there once: the offers go in as a page's value would.
                let mut offers = String::new();
                kept.splice_into(lines, &mut offers);
                return page_of(
                    site,
                    v,
                    state,
                    held,
                    ShopPart {
                        html: offers,
                        meta: kept.meta.clone(),
                        title: kept.title.clone(),
                    },
                );
            };
            let a = Arc::new(kept::Around::new(prefix, suffix));
            site.shop_pages.keep_around(around_key, a.clone());
            a
        }
    };
    if state.gzip
        && let Some(gz) = kept.gzip_page(&around, lines)
    {
        let mut r = site.respond(v, state.status, gz.into_body());
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r.headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        return r;
    }
    site.respond(v, state.status, kept.plain_page(&around, lines).into_body())
}

/// The offers rendered for this visitor alone: a filter, the form again after an error, a
/// sold-out offer kept in the held.
async fn full_shop(
    site: &Site,
    v: &Visitor,
    shown: &store::ShownCycle,
    held: Option<&(BTreeMap<i64, Quantity>, Option<i64>)>,
    mut state: ShopState,
) -> Result<Response, PageError> {
    let m = site.store.market(shown.view.cycle.market_id).await?;
    let offers = ShopOffers::build(site, v.lang, tz_of(&m.timezone), &shown.view);
    if let Some((lines, _)) = held {
        for (id, q) in lines {
            state
                .typed
                .entry(*id)
                .or_insert_with(|| offers::dot_decimal(*q));
        }
    }
    let mut meta = offers.for_visitor(&state.q, &state.typed, &state.errors);
    let html = site
        .render_part(
            v.lang,
            "shop/offers",
            json!({ "shop": meta, "logged_in": v.session.is_some() }),
        )
        .ok_or(PageError::Internal)?;
    if let Some(m) = meta.as_object_mut() {
        m.remove("producers");
    }
    let page = ShopPart {
        html,
        meta,
        title: offers.name.clone(),
    };
    Ok(page_of(site, v, &state, held, page))
}

/// The shop page around its offers.
fn page_of(
    site: &Site,
    v: &Visitor,
    state: &ShopState,
    held: Option<&(BTreeMap<i64, Quantity>, Option<i64>)>,
    part: ShopPart,
) -> Response {
    let title = part.title.clone();
    site.render(
        v,
        state.status,
        "shop/shop",
        &title,
        page_json(state, held, part),
    )
}

/// The shop page's context.
fn page_json(
    state: &ShopState,
    held: Option<&(BTreeMap<i64, Quantity>, Option<i64>)>,
    part: ShopPart,
) -> Value {
    let cycle_id = part.meta["cycle_id"].as_i64().unwrap_or_default();
    json!({
        "shop": part.meta,
        "offers_html": part.html,
        "q": state.q,
        "logged_in": held.is_some(),
        "order": held.and_then(|(_, o)| *o),
        "in_basket": held.map_or(0, |(l, _)| l.len()),
        "next": format!("/shop/{cycle_id}"),
        "errors": { "form": state.form_error },
    })
}

/// `/shop/{cycle_id}`: the offers, one form with a quantity per offer.
#[handler]
pub(crate) async fn shop(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(cycle_id): Path<i64>,
    Query(f): Query<Filter>,
    headers: &HeaderMap,
) -> Response {
    let state = ShopState {
        gzip: crate::compress::accepts_gzip(headers),
        q: f.q.unwrap_or_default().trim().to_owned(),
        typed: HashMap::new(),
        errors: HashMap::new(),
        form_error: None,
        status: StatusCode::OK,
    };
    let r = render_shop(&site, &v, cycle_id, state).await;
    answer(&site, &v, r)
}

/// Saves the shop's form into the draft basket and goes to the basket; the shop again with
/// each refused quantity next to its line.
#[handler]
pub(crate) async fn shop_save(
    site: Data<&Arc<Site>>,
    Path(cycle_id): Path<i64>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.actor()?;
        let (mut lines, _) = current_basket(&site.store, actor, member_of(&v), cycle_id).await?;
        let (typed, mut errors) = read_quantities(&site, v.lang, &form, &mut lines);
        let mut state = ShopState {
            q: form.get("q").to_owned(),
            typed,
            errors: HashMap::new(),
            form_error: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
            gzip: false,
        };
        if errors.is_empty() {
            match save(&site, &v, actor, cycle_id, &lines).await {
                Ok(refused) if refused.is_empty() => {
                    return Ok(see_other(&v, &format!("/shop/{cycle_id}/basket")));
                }
                Ok(refused) => errors = refused,
                Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                    state.status = store_status(&e);
                    state.form_error = Some(shop_error(&site, v.lang, &e));
                }
                Err(e) => return Err(e.into()),
            }
        }
        if state.form_error.is_none() {
            state.form_error = Some(site.t(v.lang, "shop-fix-lines"));
        }
        state.errors = errors;
        render_shop(&site, &v, cycle_id, state).await
    }
    .await;
    answer(&site, &v, r)
}

/// What the basket page shows besides the lines.
struct BasketState {
    typed: HashMap<i64, String>,
    errors: HashMap<i64, String>,
    form_error: Option<String>,
    slot: Option<i64>,
    slot_error: Option<String>,
    status: StatusCode,
}

impl BasketState {
    fn new(status: StatusCode) -> Self {
        Self {
            typed: HashMap::new(),
            errors: HashMap::new(),
            form_error: None,
            slot: None,
            slot_error: None,
            status,
        }
    }
}

async fn render_basket(
    site: &Site,
    v: &Visitor,
    cycle_id: i64,
    mut state: BasketState,
) -> Result<Response, PageError> {
    let actor = v.actor()?;
    let lang = v.lang;
    let (cycle, tz) = shop_cycle(site, v, cycle_id).await?;
    let (lines, order_id) = current_basket(&site.store, actor, member_of(v), cycle_id).await?;
    let order = match order_id {
        Some(_) => {
            site.store
                .order_in_cycle(actor, member_of(v), cycle_id)
                .await?
        }
        None => None,
    };
    let offers: HashMap<i64, &store::OfferView> = cycle.offers.iter().map(|o| (o.id, o)).collect();
    let ordered: HashMap<i64, Quantity> = order
        .iter()
        .flat_map(|o| o.lines.iter().map(|l| (l.offer_id, l.quantity)))
        .collect();
    let mut priced = Vec::new();
    let mut rows = Vec::new();
    for (offer_id, q) in &lines {
        let Some(o) = offers.get(offer_id) else {
            continue;
        };
        priced.push(PricedLine {
            offer_id: *offer_id,
            quantity: *q,
            unit_price: o.pricing.unit_price(),
            vat: o.pricing.vat,
        });
        // What this basket may take: what is left, plus what its order already holds.
        let may_take = o
            .stock_left
            .checked_add(ordered.get(offer_id).copied().unwrap_or(Quantity::ZERO))
            .unwrap_or(Quantity::MAX);
        let unit = if o.pricing.is_variable_weight() {
            domain::Unit::Piece
        } else {
            o.pricing.unit
        };
        let warning = state
            .errors
            .remove(offer_id)
            .or_else(|| (*q > may_take).then(|| offers::left_label(site, lang, unit, may_take)));
        rows.push(json!({
            "id": offer_id,
            "name": o.product_name,
            "producer": o.producer_name,
            "qty": state.typed.get(offer_id).cloned().unwrap_or_else(|| offers::dot_decimal(*q)),
            "step": offers::dot_decimal(o.step),
            "inputmode": if unit.is_countable() { "numeric" } else { "decimal" },
            "unit": format::unit_label(unit, *q, lang),
            "price": offers::price_label(site, lang, &o.pricing),
            "weighed": offers::weighed_label(site, lang, &o.pricing),
            "error": warning,
        }));
    }
    let totals = basket_totals(&priced);
    for (row, total) in rows.iter_mut().zip(&totals.lines) {
        row["total"] = json!(format::money(*total, lang));
    }
    let vat: Vec<Value> = totals
        .vat
        .iter()
        .map(|l| {
            json!({
                "rate": format!("{} %", format::quantity(Quantity::new(l.rate.percent()).unwrap_or(Quantity::ZERO), lang)),
                "net": format::money(l.net, lang),
                "vat": format::money(l.vat, lang),
            })
        })
        .collect();
    let chosen = state.slot.or(order.as_ref().map(|o| o.slot.id));
    let open_slots: Vec<&store::SlotView> = cycle.slots.iter().filter(|s| !s.cancelled).collect();
    let only = (open_slots.len() == 1).then(|| open_slots[0].id);
    let chosen = chosen
        .filter(|id| open_slots.iter().any(|s| s.id == *id))
        .or(only);
    // A cancelled slot is shown, without a choice, so that who had it sees why it is gone.
    let slots: Vec<Value> = cycle
        .slots
        .iter()
        .map(|s| {
            let mut slot = slots::slot_json(site, lang, tz, s);
            slot["checked"] = json!(Some(s.id) == chosen);
            slot
        })
        .collect();
    let open = cycle.cycle.state == domain::CycleState::Open && cycle.cycle.opens_at <= Utc::now();
    let basket_products: Vec<i64> = lines
        .keys()
        .filter_map(|id| offers.get(id).map(|o| o.product_id))
        .collect();
    let recipes = super::recipes::basket_suggestions(site, lang, &basket_products).await;
    if state.slot_error.is_some() && state.form_error.is_none() {
        state.form_error = state.slot_error.clone();
    }
    Ok(site.render(
        v,
        state.status,
        "shop/basket",
        "shop-basket-title",
        json!({
            "cycle": {
                "id": cycle_id,
                "name": cycle.cycle.name,
                "closes": format::date_time(cycle.cycle.closes_at, tz, lang),
                "open": open,
            },
            "lines": rows,
            "total": format::money(totals.total, lang),
            "vat": vat,
            "has_variable": lines.keys().any(|id| offers.get(id).is_some_and(|o| o.pricing.is_variable_weight())),
            "slots": slots,
            "order": order.as_ref().map(|o| o.id),
            "key": hex::encode(rand::random::<[u8; 16]>()),
            "errors": { "form": state.form_error, "slot": state.slot_error },
            "recipes": recipes,
        }),
    ))
}

/// Whether a basket just confirmed goes on to the payment page: its market takes cards. Its
/// card payment is opened on the way (the order is committed); if Stripe cannot be reached,
/// the payment page says so and offers to try again.
async fn pays_by_card(site: &Site, actor: &Actor, cycle_id: i64, order_id: i64) -> bool {
    let Ok(labels) = site.store.cycle_labels([cycle_id]).await else {
        return false;
    };
    let Some(label) = labels.get(&cycle_id) else {
        return false;
    };
    if !site
        .store
        .market_takes_cards(label.market_id)
        .await
        .unwrap_or(false)
    {
        return false;
    }
    if let Err(e) = site.store.start_online_payment(actor, order_id).await {
        tracing::warn!(order_id, error = %e, "the card payment could not be opened");
    }
    true
}

/// `/shop/{cycle_id}/basket`: the lines, totals, VAT and the pickup slot.
#[handler]
pub(crate) async fn basket(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(cycle_id): Path<i64>,
) -> Response {
    let r = render_basket(&site, &v, cycle_id, BasketState::new(StatusCode::OK)).await;
    answer(&site, &v, r)
}

/// Saves the basket's quantities; with `action=confirm`, places the order (or changes the one
/// already placed in this cycle) and goes to its page. Not enough stock: the basket again with
/// "only N left" next to that line, the basket kept.
#[handler]
pub(crate) async fn basket_save(
    site: Data<&Arc<Site>>,
    Path(cycle_id): Path<i64>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.actor()?;
        let member = member_of(&v);
        let (mut lines, order) = current_basket(&site.store, actor, member, cycle_id).await?;
        let (typed, errors) = read_quantities(&site, v.lang, &form, &mut lines);
        if let Some(id) = form.opt("remove").and_then(|id| id.parse::<i64>().ok()) {
            lines.remove(&id);
        }
        let mut state = BasketState::new(StatusCode::UNPROCESSABLE_ENTITY);
        state.slot = form.opt("slot").and_then(|s| s.parse().ok());
        if !errors.is_empty() {
            state.typed = typed;
            state.errors = errors;
            state.form_error = Some(site.t(v.lang, "shop-fix-lines"));
            return render_basket(&site, &v, cycle_id, state).await;
        }
        match save(&site, &v, actor, cycle_id, &lines).await {
            Ok(refused) if refused.is_empty() => {}
            Ok(refused) => {
                state.typed = typed;
                state.errors = refused;
                state.form_error = Some(site.t(v.lang, "shop-fix-lines"));
                return render_basket(&site, &v, cycle_id, state).await;
            }
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                state.status = store_status(&e);
                state.form_error = Some(shop_error(&site, v.lang, &e));
                return render_basket(&site, &v, cycle_id, state).await;
            }
            Err(e) => return Err(e.into()),
        }
        if form.get("action") != "confirm" {
            return Ok(see_other(
                &v,
                &format!("/shop/{cycle_id}/basket?done=basket-saved"),
            ));
        }
        if lines.is_empty() {
            state.form_error = Some(site.t(v.lang, "shop-basket-empty-error"));
            return render_basket(&site, &v, cycle_id, state).await;
        }
        let Some(slot_id) = state.slot else {
            state.slot_error = Some(site.t(v.lang, "shop-slot-required"));
            return render_basket(&site, &v, cycle_id, state).await;
        };
        let request = OrderRequest {
            slot_id,
            lines: requested(&lines),
        };
        let done = match &order {
            Some(id) => site
                .store
                .modify_order(actor, *id, request)
                .await
                .map(|o| (o.id, "order-changed")),
            None => {
                let key = form
                    .opt("key")
                    .filter(|k| k.len() <= 64)
                    .map(|k| IdempotencyKey::new(format!("page-{k}"), cycle_id, member, &request));
                site.store
                    .place_order(actor, cycle_id, member, request, key)
                    .await
                    .map(|p| match p {
                        Placed::Created(o) | Placed::Replayed(o) => (o.id, "order-placed"),
                    })
            }
        };
        match done {
            Ok((id, what)) => {
                site.store
                    .clear_draft_basket(actor, member, cycle_id)
                    .await?;
                if pays_by_card(&site, actor, cycle_id, id).await {
                    return Ok(see_other(&v, &format!("/orders/{id}/pay?done={what}")));
                }
                Ok(see_other(&v, &format!("/orders/{id}?done={what}")))
            }
            Err(StoreError::InsufficientStock {
                offer_id,
                available,
                ..
            }) => {
                state.status = StatusCode::CONFLICT;
                let unit = site
                    .store
                    .cycle(Viewer::Actor(actor), cycle_id)
                    .await?
                    .offers
                    .iter()
                    .find(|o| o.id == offer_id)
                    .map_or(domain::Unit::Piece, |o| {
                        if o.pricing.is_variable_weight() {
                            domain::Unit::Piece
                        } else {
                            o.pricing.unit
                        }
                    });
                // A changed order may keep what it already holds, besides what is left.
                let held = site
                    .store
                    .order_in_cycle(actor, member, cycle_id)
                    .await?
                    .iter()
                    .flat_map(|o| o.lines.iter())
                    .find(|l| l.offer_id == offer_id)
                    .map_or(Quantity::ZERO, |l| l.quantity);
                let available = available.checked_add(held).unwrap_or(available);
                state
                    .errors
                    .insert(offer_id, offers::left_label(&site, v.lang, unit, available));
                state.form_error = Some(site.t(v.lang, "shop-fix-lines"));
                render_basket(&site, &v, cycle_id, state).await
            }
            Err(
                e @ (StoreError::Invalid { .. }
                | StoreError::Conflict { .. }
                | StoreError::NotFound { .. }),
            ) => {
                state.status = store_status(&e);
                let message = shop_error(&site, v.lang, &e);
                // A slot cancelled (or not of this cycle) is said next to the slots.
                if let StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } = &e
                    && (*code == "slot_cancelled" || *code == "unknown_slot")
                {
                    state.slot_error = Some(message);
                } else {
                    state.form_error = Some(message);
                }
                render_basket(&site, &v, cycle_id, state).await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}
