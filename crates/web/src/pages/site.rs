//! What every page shares: the store, the templates, the words, and how a page becomes a
//! response (the layout around it, its status, its headers).
//!
//! Templates are `templates/pages/**/*.hbs`, embedded in the binary and named by their path
//! without the extension (`account/login`). Each page renders its own template with its own
//! context under `page`, then the layout (`layout.hbs`) around it; both see `lang`, `csrf`,
//! `me` (the logged-in account, if any), `acting_for` and `path`. Strict mode is on: a
//! template naming a field its context lacks fails loudly in tests instead of printing
//! nothing. Shared partials: `field` (a labelled input with its error, announced), `csrf`.

use std::sync::Arc;

use handlebars::Handlebars;
use poem::{
    Body, IntoResponse, Response,
    http::{StatusCode, header},
};
use rust_embed::Embed;
use serde::Serialize;
use serde_json::{Value, json};
use store::{Store, StoreError};

use super::{
    i18n::{Catalogue, Lang, TranslateHelper},
    visitor::Visitor,
};
use crate::throttle::LoginThrottle;

#[derive(Embed)]
#[folder = "../../templates/pages/"]
struct Templates;

/// The pages' shared state.
pub(crate) struct Site {
    pub(crate) store: Store,
    pub(crate) words: Arc<Catalogue>,
    pub(crate) throttle: Arc<LoginThrottle>,
    hb: Handlebars<'static>,
    /// The stylesheet, and the hash-named path it is served at (cached for a year).
    pub(crate) style: (String, &'static str),
    /// The shop's offers kept rendered (shop/kept.rs).
    pub(crate) shop_pages: super::shop::KeptPages,
    /// Every shop page rendered in full (`WebOptions::shop_in_full`).
    pub(crate) shop_in_full: bool,
    /// The directory map's tile URL (`WebOptions::map_tiles`); no map when `None`.
    pub(crate) map_tiles: Option<&'static str>,
}

impl Site {
    /// Loads the templates and words; an error names what does not parse.
    pub(crate) fn new(store: Store, throttle: Arc<LoginThrottle>) -> Result<Self, String> {
        let words = Arc::new(Catalogue::load()?);
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_helper("t", Box::new(TranslateHelper(words.clone())));
        hb.register_helper("eq", Box::new(eq_helper));
        let mut style = String::new();
        for file in Templates::iter() {
            let Some(data) = Templates::get(&file) else {
                continue;
            };
            let source = String::from_utf8_lossy(&data.data).into_owned();
            if let Some(name) = file.strip_suffix(".hbs") {
                if let Some(partial) = name.strip_prefix("partials/") {
                    hb.register_partial(partial, source)
                        .map_err(|e| format!("{file}: {e}"))?;
                } else {
                    hb.register_template_string(name, source)
                        .map_err(|e| format!("{file}: {e}"))?;
                }
            } else if file == "style.css" {
                style = source;
            }
        }
        let digest = style.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let path: &'static str =
            Box::leak(format!("/static/style-{digest:016x}.css").into_boxed_str());
        Ok(Self {
            store,
            words,
            throttle,
            hb,
            style: (style, path),
            shop_pages: super::shop::KeptPages::default(),
            shop_in_full: false,
            map_tiles: None,
        })
    }

    /// A message in the visitor's language.
    pub(crate) fn t(&self, lang: Lang, id: &str) -> String {
        self.words.text(lang, id, None)
    }

    /// A message with arguments.
    pub(crate) fn t_with(&self, lang: Lang, id: &str, pairs: &[(&str, String)]) -> String {
        let args = super::i18n::args(pairs);
        self.words.text(lang, id, Some(&args))
    }

    /// Renders `template` with `page` as its context inside the layout, with the status given.
    /// `title` is a message id or an already translated title.
    pub(crate) fn render(
        &self,
        v: &Visitor,
        status: StatusCode,
        template: &str,
        title: &str,
        page: impl Serialize,
    ) -> Response {
        match self.page_html(v, template, title, page) {
            Some(html) => self.respond(v, status, html),
            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }

    /// A page's HTML, layout included, as [`Site::render`] answers it; `None` (logged) when a
    /// template fails.
    pub(crate) fn page_html(
        &self,
        v: &Visitor,
        template: &str,
        title: &str,
        page: impl Serialize,
    ) -> Option<String> {
        let title = if self.words.has(v.lang, title) {
            self.t(v.lang, title)
        } else {
            title.to_owned()
        };
        let mut root = v.context(self);
        root["page"] = json!(page);
        root["title"] = json!(title);
        root["notice"] = json!(self.notice(v));
        let body = match self.hb.render(template, &root) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(template, error = %e, "a page failed to render");
                return None;
            }
        };
        root["body"] = Value::String(body);
        match self.hb.render("layout", &root) {
            Ok(html) => Some(html),
            Err(e) => {
                tracing::error!(template, error = %e, "the layout failed to render");
                None
            }
        }
    }

    /// A page's answer, from its HTML (or its gzip, with `Content-Encoding` set by the caller).
    pub(crate) fn respond(
        &self,
        v: &Visitor,
        status: StatusCode,
        body: impl Into<Body>,
    ) -> Response {
        v.finish(
            Response::builder()
                .status(status)
                .content_type("text/html; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-store")
                .body(body),
        )
    }

    /// A part of a page (no layout): `template` with `root` and the language, `None` (logged)
    /// when it fails to render.
    pub(crate) fn render_part(
        &self,
        lang: Lang,
        template: &str,
        mut root: Value,
    ) -> Option<String> {
        root["lang"] = json!(lang.code());
        match self.hb.render(template, &root) {
            Ok(html) => Some(html),
            Err(e) => {
                tracing::error!(template, error = %e, "a part of a page failed to render");
                None
            }
        }
    }

    /// The confirmation a redirect asked for with `?done=<what>`: the message `done-<what>`,
    /// when the catalogue has it.
    fn notice(&self, v: &Visitor) -> Option<String> {
        let query = v.path.split_once('?')?.1;
        let (_, what) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "done")?;
        let id = format!("done-{what}");
        self.words.has(v.lang, &id).then(|| self.t(v.lang, &id))
    }

    /// The error page of a failure, in the visitor's language, with its status.
    pub(crate) fn error_page(&self, v: &Visitor, e: &PageError) -> Response {
        let (status, message) = match e {
            PageError::NotFound => (StatusCode::NOT_FOUND, self.t(v.lang, "error-not-found")),
            PageError::Forbidden => (StatusCode::FORBIDDEN, self.t(v.lang, "error-forbidden")),
            PageError::Csrf => (StatusCode::FORBIDDEN, self.t(v.lang, "error-csrf")),
            PageError::LogIn => {
                let back = urlencode(&v.path);
                return v.finish(
                    Response::builder()
                        .status(StatusCode::SEE_OTHER)
                        .header(header::LOCATION, format!("/login?next={back}"))
                        .finish(),
                );
            }
            PageError::Store(e) => (store_status(e), self.store_error(v.lang, e)),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                self.t(v.lang, "error-internal"),
            ),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR
            && let PageError::Store(e) = e
        {
            tracing::error!(error = ?e, "a page failed");
        }
        let mut r = self.render(
            v,
            status,
            "error",
            "error-title",
            json!({ "message": message }),
        );
        let retry_after = match e {
            PageError::Store(StoreError::Busy {
                retry_after_secs, ..
            }) => Some(*retry_after_secs),
            PageError::Store(StoreError::Unavailable {
                retry_after_secs, ..
            }) => Some(u64::from(*retry_after_secs)),
            _ => None,
        };
        if let Some(secs) = retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, poem::http::HeaderValue::from(secs));
        }
        r
    }

    /// A store error in the visitor's words: `error-<code>` when the catalogue has it, with
    /// the error's details as arguments; the store's own sentence otherwise.
    pub(crate) fn store_error(&self, lang: Lang, e: &StoreError) -> String {
        match e {
            StoreError::InsufficientStock {
                product, available, ..
            } => self.t_with(
                lang,
                "error-insufficient-stock",
                &[
                    ("product", product.clone()),
                    ("available", print::format::quantity(*available, lang)),
                ],
            ),
            StoreError::NotFound { .. } => self.t(lang, "error-not-found"),
            StoreError::Forbidden(_) => self.t(lang, "error-forbidden"),
            StoreError::Unauthenticated(_) => self.t(lang, "error-login-failed"),
            StoreError::Busy { .. } | StoreError::Unavailable { .. } => self.t(lang, "error-busy"),
            StoreError::Db(_) => self.t(lang, "error-internal"),
            StoreError::Invalid { code, message } | StoreError::Conflict { code, message } => {
                let id = format!("error-{}", code.replace('_', "-"));
                if self.words.has(lang, &id) {
                    self.t(lang, &id)
                } else {
                    message.clone()
                }
            }
        }
    }
}

/// `{{#if (eq a b)}}`.
fn eq_helper(
    h: &handlebars::Helper<'_>,
    _: &Handlebars<'_>,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let a = h.param(0).map(|p| p.value());
    let b = h.param(1).map(|p| p.value());
    if a.is_some() && a == b {
        out.write("true")?;
    }
    Ok(())
}

/// Why a page could not be shown.
#[derive(Debug)]
#[allow(
    dead_code,
    reason = "the area pages landing next construct every variant"
)]
pub(crate) enum PageError {
    /// Not there, or not the visitor's to see.
    NotFound,
    /// Seen, but not the visitor's to change.
    Forbidden,
    /// A form came without its CSRF token, or with another session's.
    Csrf,
    /// The page needs a logged-in visitor: off to the login page, and back after.
    LogIn,
    /// The request itself is malformed (not a form field the page knows).
    BadRequest(String),
    /// What the store said.
    Store(StoreError),
    /// A template failed: logged, and an opaque 500.
    Internal,
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unauthenticated(_) => PageError::LogIn,
            e => PageError::Store(e),
        }
    }
}

/// The status of a store error on a page.
pub(crate) fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
        StoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        StoreError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        StoreError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        StoreError::Conflict { .. } | StoreError::InsufficientStock { .. } => StatusCode::CONFLICT,
        StoreError::Busy { .. } | StoreError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        StoreError::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A 303 to `to` (post/redirect/get).
pub(crate) fn see_other(v: &Visitor, to: &str) -> Response {
    v.finish(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, to)
            .finish(),
    )
}

/// `to` if it is a path of this site, `/` otherwise (no open redirect through `next=`).
pub(crate) fn local_path(to: Option<&str>) -> String {
    match to {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Percent-encodes a query value.
pub(crate) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
