//! The pages: server-rendered HTML for consumers, producers, coordinators, volunteers, hosts
//! and admins, French first and English second, working without JavaScript.
//!
//! Every page goes through the same `store` use cases as the JSON API. A page that changes
//! something is a form POSTed with its CSRF token ([`visitor::Submission`]), answered by a
//! redirect to a GET (post/redirect/get), or by the form again with each error next to its
//! field. A GET never changes anything.
//!
//! Routes, by who uses them (each area is a module of this folder, its templates under
//! `templates/pages/<area>/` and its words in `templates/locales/{fr,en}/<area>.ftl`):
//!
//! | path | what |
//! |------|------|
//! | `/` | the markets, and a way in for each kind of user |
//! | `/login`, `/logout`, `/signup` | sessions (`next=` comes back to a page after login) |
//! | `/account`, `/account/password` | profile (name, phone, language), password |
//! | `/photos/{product}.jpg` | a product's uploaded photo (public, cached by its version) |
//! | `/language` | POST `lang=fr|en`, `next=`: the language switch |
//! | `/static/style-<hash>.css` | the one stylesheet, cached for a year |
//! | `/m/{slug}` | a market's home: who runs it, the open cycle, next slots (cancelled or moved ones said so), producers |
//! | `/shop/{cycle}` | the shop (`?q=` filters), one form of quantities -> the draft basket |
//! | `/shop/{cycle}/basket` | the basket: quantities, totals and VAT, pickup slot, confirm |
//! | `/orders`, `/orders/{id}` | the member's orders; one order (printable) |
//! | `/orders/{id}/cancel` | cancel an order, after a confirmation step |
//! | `/orders/{id}/pay`, `/orders/{id}/pay/card`, `/static/pay.js` | pay by card (Stripe.js): the one page that needs JavaScript |
//! | `/desk/members` | mediation: find or create a member (`?q=`), order for them |
//! | `/desk/members/{id}/act`, `/desk/members/stop` | POST: start or stop ordering for a member |
//! | `/producer` | a producer's home: its markets' cycles, to publish or to prepare |
//! | `/producer/products`, `/producer/products/new`, `/producer/products/{id}` | its catalogue: create, edit; `POST .../{id}/archive` |
//! | `/producer/week/{cycle_id}` | the week's offer on one screen, saved with one submit |
//! | `/producer/cycles/{cycle_id}` | after close: documents, weights (`POST .../lines/{line_id}/weights`), sales |
//! | `/producer/cycles/{cycle_id}/{picking,labels}.{html,pdf,csv}` | its picking list and labels |
//! | `/checkout` | volunteers: the distributions of today and the next days in their market |
//! | `/checkout/{slot}` | one slot's baskets, alphabetically, `?q=` name or phone |
//! | `/checkout/{slot}/baskets/{order}` | POST a tap: `action=collected|not_collected|pending|paid` (`method`, `amount`, `key`) |
//! | `/host` | hosts: their venue's slots, baskets expected, dates flagged (staff: `?point=`) |
//! | `/host/closures` | POST `point`, `day`, `reason`, `move_to`: flag a date the venue is unavailable |
//! | `/desk` | coordinators: the market at a glance, what to do next |
//! | `/desk/cycles`, `/desk/cycles/{id}` | cycles: create from slot rules, open, close, distributed; who published, orders, rounds |
//! | `/desk/cycles/{id}/{sheets,picking,labels}.{html,pdf,csv}` | a cycle's documents, to the session |
//! | `/desk/cycles/{id}/state`, `/slots`, `/rounds` | POST: move the cycle on, slots from rules, plan a round |
//! | `/desk/rounds/{id}`, `/desk/rounds/{id}/round.{html,pdf,csv}`, `/replan` | a co-delivery round |
//! | `/desk/points`, `/desk/points/rules` | pickup points and weekly slot rules |
//! | `/desk/vehicles`, `/desk/vehicles/{id}[/archive]` | the market's vehicles for rounds: add, change, archive |
//! | `/desk/staff`, `/desk/staff/invitations[/{id}/revoke]` | staff and producers; invite, revoke |
//! | `/invitations/{token}` | public: accept an invitation (410 once used or expired) |
//! | `/desk/mail` | what the market's mail sent to whom, what failed and why (`?state=`) |
//! | `/desk/audit` | who changed a price, a stock, a weight, a check-out, a cycle, a slot (`?kind=&from=&to=&page=`) |
//! | `/unsubscribe/{token}` | an announcement's unsubscribe link; POST is also RFC 8058's one-click |
//! | `/admin`, `/admin/markets/{id}[/invitations]` | admins: markets, their coordinators |
//! | `/admin/markets/{id}/desk` | POST: an admin works at that market's desk |
//! | `/directory` | the directory: search by postcode, town or position, radius, filters |
//! | `/directory/producers/{id}`, `/directory/points/{id}` | a producer's entry; a pickup point |
//! | `/directory/producers/{id}/edit`, `.../hide` | the entry's form (producer, coordinators); POST hide (admins) |
//! | `/directory/alerts`, `/directory/alerts/{confirm,unsubscribe}/{token}` | alerts: sign up, confirm, unsubscribe |
//! | `/admin/alerts` | admins: the alerts' notices recorded (until the mail outbox sends them) |
//! | `/static/leaflet/*` | the map library, when a tile server is configured |
//! | `/catalogue`, `/catalogue/export.csv` | producers and coordinators: the catalogue as CSV |
//! | `/catalogue/import`, `/catalogue/import/confirm` | POST (multipart): preview an upload, then apply it |
//! | `/recipes` (`?month=`), `/recipes/{slug}` (`?lat=&lon=&km=`) | public: recipes in season; one, and where its ingredients are on sale |
//! | `/password-reset` (`?sent=1`), `/password-reset/{token}` | public: ask for a reset link (same answer for any address); set a new password through it (410 once used or expired) |
//! | `/orders/{id}/receipt.{html,pdf}` | a basket's receipt (its consumer, the market's staff) |
//! | `/producer/settlements/{cycle}.{html,pdf,csv}`, `/desk/cycles/{id}/settlements.{html,pdf,csv}` | settlements: a producer's own; every producer's |
//! | `/desk/cycles/{id}/commission` | POST `commission` (percent, 0 to 50): the market's commission on its producers' sales |
//!
//! After login, each role starts at its own page ([`home_of`]).

mod account;
mod admin;
mod catalogue;
mod checkout;
mod desk;
mod directory;
mod host;
mod i18n;
mod mail;
mod mediation;
mod money;
mod password_reset;
mod producer;
mod recipes;
mod shop;
mod site;
mod visitor;

use std::sync::Arc;

use poem::{
    Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Response, Route, get, handler,
    http::{StatusCode, header},
    post,
    web::Data,
};
use store::{Role, Store, StoreError};

pub(crate) use catalogue::{
    UPLOAD_LIMIT as CATALOGUE_UPLOAD_LIMIT, is_upload as is_catalogue_upload,
};
pub(crate) use recipes::DEFAULT_RADIUS_KM as DEFAULT_RECIPE_RADIUS_KM;
pub(crate) use site::{PageError, Site, local_path, see_other};
pub(crate) use visitor::{Submission, Visitor};

use crate::throttle::LoginThrottle;

/// The route tree of the pages, sharing `store` and the login throttle with the API.
pub(crate) fn routes(
    store: Store,
    throttle: Arc<LoginThrottle>,
    options: crate::WebOptions,
) -> Result<impl Endpoint<Output = Response>, String> {
    let mut site = Site::new(store, throttle)?;
    site.shop_in_full = options.shop_in_full;
    site.map_tiles = options.map_tiles;
    let site = Arc::new(site);
    let style_path = site.style.1;
    let limit = options.request_timeout;
    Ok(Route::new()
        .at("/", get(account::home))
        .at("/photos/:file", get(product_photo))
        .at("/login", get(account::login_form).post(account::login))
        .at("/logout", post(account::logout))
        .at("/signup", get(account::signup_form).post(account::signup))
        .at(
            "/account",
            get(account::profile_form).post(account::profile),
        )
        .at(
            "/account/password",
            get(account::password_form).post(account::password),
        )
        .at("/language", post(account::language))
        // Consumers' pages and mediation (shop.rs, mediation.rs).
        .at("/m/:slug", get(shop::market))
        .at("/shop/:cycle_id", get(shop::shop).post(shop::shop_save))
        .at(
            "/shop/:cycle_id/basket",
            get(shop::basket).post(shop::basket_save),
        )
        .at("/orders", get(shop::orders::list))
        .at("/orders/:id", get(shop::orders::show))
        .at("/orders/:id/receipt.html", get(money::receipt_html))
        .at("/orders/:id/receipt.pdf", get(money::receipt_pdf))
        .at(
            "/producer/settlements/:file",
            get(money::producer_settlement),
        )
        .at(
            "/orders/:id/cancel",
            get(shop::orders::cancel_form).post(shop::orders::cancel),
        )
        .at(
            "/orders/:id/pay",
            get(shop::pay::pay_page).post(shop::pay::start),
        )
        .at("/orders/:id/pay/card", post(shop::pay::card))
        .at(shop::pay::SCRIPT, get(shop::pay::script))
        .at(
            "/desk/members",
            get(mediation::members).post(mediation::create),
        )
        .at("/desk/members/stop", post(mediation::stop))
        .at("/desk/members/:id/act", post(mediation::act))
        .at("/producer", get(producer::home))
        .at(
            "/producer/products",
            get(producer::product_list).post(producer::create_product),
        )
        .at("/producer/products/new", get(producer::new_product_form))
        .at(
            "/producer/products/:id",
            get(producer::edit_product_form).post(producer::update_product),
        )
        .at(
            "/producer/products/:id/archive",
            post(producer::archive_product),
        )
        .at(
            "/producer/week/:id",
            get(producer::week_form).post(producer::publish_week),
        )
        .at("/producer/cycles/:id", get(producer::cycle_page))
        .at("/producer/cycles/:id/:doc", get(producer::document))
        .at(
            "/producer/cycles/:id/lines/:line/weights",
            post(producer::weights),
        )
        .at("/checkout", get(checkout::distributions))
        .at("/checkout/:slot_id", get(checkout::slot_baskets))
        .at(
            "/checkout/:slot_id/baskets/:order_id",
            post(checkout::check_out),
        )
        .at("/host", get(host::venue_page))
        .at("/host/closures", post(host::flag))
        // Coordinators' desk, invitations, admin.
        .at("/desk", get(desk::home))
        .at(
            "/desk/cycles",
            get(desk::cycles::list).post(desk::cycles::create),
        )
        .at("/desk/cycles/:id", get(desk::cycles::show))
        .at("/desk/cycles/:id/state", post(desk::cycles::transition))
        .at("/desk/cycles/:id/slots", post(desk::cycles::generate_slots))
        .at("/desk/cycles/:id/rounds", post(desk::rounds::create_round))
        .at("/desk/cycles/:id/commission", post(money::set_commission))
        .at("/desk/cycles/:id/:file", get(desk::cycles::document))
        .at("/desk/rounds/:id", get(desk::rounds::show_round))
        .at("/desk/rounds/:id/replan", post(desk::rounds::replan))
        .at("/desk/rounds/:id/:file", get(desk::rounds::round_document))
        .at(
            "/desk/points",
            get(desk::places::list).post(desk::places::create_point),
        )
        .at("/desk/points/rules", post(desk::places::create_rule))
        .at(
            "/desk/vehicles",
            get(desk::vehicles::list).post(desk::vehicles::create),
        )
        .at(
            "/desk/vehicles/:id",
            get(desk::vehicles::edit_form).post(desk::vehicles::update),
        )
        .at("/desk/vehicles/:id/archive", post(desk::vehicles::archive))
        .at("/desk/staff", get(desk::staff::list))
        .at("/desk/mail", get(mail::desk))
        .at(
            "/unsubscribe/:token",
            get(mail::unsubscribe_form).post(mail::unsubscribe),
        )
        .at("/desk/staff/invitations", post(desk::staff::invite))
        .at(
            "/desk/staff/invitations/:id/revoke",
            post(desk::staff::revoke),
        )
        .at(
            "/invitations/:token",
            get(desk::staff::accept_form).post(desk::staff::accept),
        )
        .at("/admin", get(admin::home).post(admin::create_market))
        .at("/admin/markets/:id", get(admin::market))
        .at("/admin/markets/:id/invitations", post(admin::invite))
        .at("/admin/markets/:id/desk", post(admin::open_desk))
        // The directory and its alerts (directory/).
        .at("/directory", get(directory::search))
        .at("/directory/producers/:id", get(directory::producer))
        .at(
            "/directory/producers/:id/edit",
            get(directory::edit_form).post(directory::edit),
        )
        .at("/directory/producers/:id/hide", post(directory::hide))
        .at("/directory/points/:id", get(directory::point))
        .at(
            "/directory/alerts",
            get(directory::alerts::sign_up_form).post(directory::alerts::sign_up),
        )
        .at(
            "/directory/alerts/confirm/:token",
            get(directory::alerts::confirm_page).post(directory::alerts::confirm),
        )
        .at(
            "/directory/alerts/unsubscribe/:token",
            get(directory::alerts::unsubscribe_page).post(directory::alerts::unsubscribe),
        )
        .at("/admin/alerts", get(directory::alerts::admin_notices))
        .at("/static/leaflet/:file", get(directory::map::leaflet))
        .at("/catalogue", get(catalogue::catalogue_page))
        .at("/catalogue/export.csv", get(catalogue::export_csv))
        .at("/catalogue/import", post(catalogue::import_preview))
        .at("/catalogue/import/confirm", post(catalogue::import_confirm))
        .at("/recipes", get(recipes::recipe_list))
        .at("/recipes/:slug", get(recipes::recipe_page))
        .at(
            "/password-reset",
            get(password_reset::request_form).post(password_reset::request),
        )
        .at(
            "/password-reset/:token",
            get(password_reset::new_password_form).post(password_reset::new_password),
        )
        .at("/account/mail", get(mail::wishes_form).post(mail::wishes))
        .at(
            "/desk/mail/settings",
            get(mail::settings_form).post(mail::settings),
        )
        .at(style_path, get(stylesheet))
        .at("/desk/audit", get(desk::audit::list))
        .around(move |ep, req| async move {
            crate::deadline::within(&ep, req, limit, crate::deadline::Answer::Page).await
        })
        .around(html_errors)
        .data(site)
        .with(poem::middleware::CookieJarManager::new())
        .map_to_response()
        .into_endpoint())
}

/// What the routes themselves refuse (an unknown address, an id that is not a number) as a
/// page in the visitor's language, not the API's JSON.
async fn html_errors<E: Endpoint>(ep: Arc<E>, req: poem::Request) -> poem::Result<Response> {
    let Some(site) = req.data::<Arc<Site>>().cloned() else {
        return ep.call(req).await.map(IntoResponse::into_response);
    };
    let v = Visitor::without_session(&site, &req);
    match ep.call(req).await {
        Ok(r) => Ok(r.into_response()),
        Err(e) if e.is_from_response() => Err(e),
        Err(e) => {
            let status = e.status();
            let error = match status {
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => PageError::NotFound,
                StatusCode::SERVICE_UNAVAILABLE => PageError::Store(StoreError::Unavailable {
                    message: e.to_string(),
                    retry_after_secs: 1,
                }),
                s if s.is_client_error() => {
                    PageError::BadRequest(site.t(v.lang, "error-bad-request"))
                }
                _ => {
                    tracing::error!(error = %e, "a page failed");
                    PageError::Internal
                }
            };
            let mut page = site.error_page(&v, &error);
            page.set_status(status);
            Ok(page)
        }
    }
}

#[handler]
fn stylesheet(site: Data<&Arc<Site>>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .body(site.style.0.clone())
}

/// `/photos/{product}.jpg?v={version}`: a product's uploaded photo. Public, like the shop
/// that shows it. Its address changes with the photo, so it is cached for a year; an old
/// version asked for gets the current photo, briefly cached.
#[handler]
async fn product_photo(
    site: Data<&Arc<Site>>,
    poem::web::Path(file): poem::web::Path<String>,
    req: &poem::Request,
) -> Response {
    let id = file
        .strip_suffix(".jpg")
        .and_then(|id| id.parse::<i64>().ok());
    let photo = match id {
        Some(id) => site.store.product_photo(id).await,
        None => Ok(None),
    };
    match photo {
        Ok(Some(p)) => {
            let asked = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("v="))
                .unwrap_or_default();
            let cache = if asked == p.version {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=60"
            };
            Response::builder()
                .status(StatusCode::OK)
                .content_type(p.content_type)
                .header(header::CACHE_CONTROL, cache)
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .body(p.bytes)
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a product photo could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Where an account lands after login.
pub(crate) fn home_of(role: Role) -> &'static str {
    match role {
        Role::Consumer => "/",
        Role::Producer => "/producer",
        Role::Coordinator => "/desk",
        Role::Volunteer => "/checkout",
        Role::Host => "/host",
        Role::Admin => "/admin",
    }
}

/// A page's answer: the response, or the error page of what went wrong.
pub(crate) fn answer(site: &Site, v: &Visitor, r: Result<Response, PageError>) -> Response {
    r.unwrap_or_else(|e| site.error_page(v, &e))
}
