//! Who is asking: the session cookie, the language, the CSRF token, and the form a page posts.
//!
//! - `halle_session`: the secret of a database session (see `store::Session`), `HttpOnly`,
//!   `SameSite=Lax`, `Secure` when the request came over HTTPS, for [`store::SESSION_DAYS`].
//! - `halle_csrf`: for visitors without a session, the token their forms carry (the form's
//!   `csrf` field must equal the cookie: a page of another site can neither read nor set it).
//!   With a session, the token is the session's own, kept in the database.
//! - `halle_lang`: a visitor's chosen language; an account's is kept with the account.
//!
//! Every POST is a [`Submission`]: its session is read fresh from the database (a session
//! ended on any node is refused at once), and its `csrf` field is checked before the page
//! sees it. A POST without the right token gets 403 and changes nothing.

use poem::{
    FromRequest, Request, RequestBody, Response,
    http::{HeaderValue, Method, header},
    web::cookie::{Cookie, SameSite},
};
use serde::Serialize;
use serde_json::Value;
use store::{Role, Session};

use super::{
    i18n::{Lang, from_accept_language, lang_of},
    site::{PageError, Site},
};

pub(crate) const SESSION_COOKIE: &str = "halle_session";
const CSRF_COOKIE: &str = "halle_csrf";
pub(crate) const LANG_COOKIE: &str = "halle_lang";
/// The market whose desk an admin works at.
pub(crate) const DESK_MARKET_COOKIE: &str = "halle_desk_market";

/// The visitor of a page.
pub(crate) struct Visitor {
    /// The page's language.
    pub(crate) lang: Lang,
    /// The session, when logged in.
    pub(crate) session: Option<Session>,
    /// The session cookie's secret, when logged in.
    pub(crate) secret: Option<String>,
    /// The token this visitor's forms carry.
    pub(crate) csrf: String,
    /// A CSRF cookie to set with the response (a visitor's first page).
    new_csrf: bool,
    /// Path and query of the request (to come back after login).
    pub(crate) path: String,
    /// The request came over HTTPS (directly, or said so by a trusted proxy).
    pub(crate) secure: bool,
}

impl Visitor {
    async fn read(site: &Site, req: &Request) -> poem::Result<Self> {
        let fresh = req.method() != Method::GET && req.method() != Method::HEAD;
        let secret = req
            .cookie()
            .get(SESSION_COOKIE)
            .map(|c| c.value_str().to_owned());
        let session = match &secret {
            // A cookie that is not even a secret's shape costs no query.
            Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                match site.store.session(s, fresh).await {
                    Ok(found) => found,
                    Err(e) => {
                        tracing::error!(error = ?e, "a session could not be read");
                        return Err(poem::Error::from_status(
                            poem::http::StatusCode::SERVICE_UNAVAILABLE,
                        ));
                    }
                }
            }
            _ => None,
        };
        Ok(Self::build(site, req, session, secret))
    }

    /// The visitor of a request whose session is not looked up (an error page of the edge:
    /// unknown address, malformed path): the language of its cookie or browser.
    pub(crate) fn without_session(site: &Site, req: &Request) -> Self {
        Self::build(site, req, None, None)
    }

    fn build(
        site: &Site,
        req: &Request,
        mut session: Option<Session>,
        secret: Option<String>,
    ) -> Self {
        // An admin works at the desk of the market it chose (`/admin/markets/{id}/desk`), as
        // if it coordinated it: admins may do everything anyway, this only says where.
        if let Some(s) = session.as_mut()
            && s.actor.role == Role::Admin
            && let Some(m) = req
                .cookie()
                .get(DESK_MARKET_COOKIE)
                .and_then(|c| c.value_str().parse::<i64>().ok())
        {
            s.actor.market_id = Some(m);
        }
        let lang = match &session {
            Some(s) => lang_of(&s.language),
            None => match req.cookie().get(LANG_COOKIE) {
                Some(c) => lang_of(c.value_str()),
                None => from_accept_language(
                    req.headers()
                        .get(header::ACCEPT_LANGUAGE)
                        .and_then(|h| h.to_str().ok()),
                ),
            },
        };
        let (csrf, new_csrf) = match &session {
            Some(s) => (s.csrf.clone(), false),
            None => match req.cookie().get(CSRF_COOKIE) {
                Some(c) if c.value_str().len() == 48 => (c.value_str().to_owned(), false),
                _ => (hex_token(), true),
            },
        };
        let secure = req.uri().scheme_str() == Some("https")
            || (site.throttle.trusts_proxy()
                && req
                    .headers()
                    .get("x-forwarded-proto")
                    .is_some_and(|v| v.as_bytes() == b"https"));
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Self {
            lang,
            secret: secret.filter(|_| session.is_some()),
            session,
            csrf,
            new_csrf,
            path,
            secure,
        }
    }

    /// The logged-in account, or a redirect to the login page.
    pub(crate) fn actor(&self) -> Result<&store::Actor, PageError> {
        self.session
            .as_ref()
            .map(|s| &s.actor)
            .ok_or(PageError::LogIn)
    }

    /// The logged-in account if it has one of `roles` (admins always do); 403 otherwise.
    pub(crate) fn with_role(&self, roles: &[Role]) -> Result<&store::Actor, PageError> {
        let a = self.actor()?;
        if a.role == Role::Admin || roles.contains(&a.role) {
            Ok(a)
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// The context every template sees.
    pub(crate) fn context(&self, site: &Site) -> Value {
        serde_json::to_value(self.seen(site)).unwrap_or(Value::Null)
    }

    /// [`Visitor::context`] as JSON text: a key for what was rendered from it (the shop keeps
    /// the page around its offers per key). Written straight from the fields, without building
    /// the JSON tree first. (Strings and numbers cannot fail to serialize; if they did, a key
    /// of its own: nothing shared with another visitor.)
    pub(crate) fn context_key(&self, site: &Site) -> String {
        serde_json::to_string(&self.seen(site)).unwrap_or_else(|_| hex_token())
    }

    fn seen<'a>(&'a self, site: &'a Site) -> Seen<'a> {
        let session = self.session.as_ref();
        Seen {
            lang: self.lang.code(),
            other_lang: match self.lang {
                Lang::Fr => "en",
                Lang::En => "fr",
            },
            csrf: &self.csrf,
            me: session.map(|s| Me {
                id: s.actor.account_id,
                name: &s.actor.name,
                email: &s.actor.email,
                role: s.actor.role.as_str(),
                phone: s.phone.as_deref(),
                market_id: s.actor.market_id,
                producer_id: s.actor.producer_id,
            }),
            acting_for: session.and_then(|s| s.acting_for),
            acting_for_name: session.and_then(|s| s.acting_for_name.as_deref()),
            path: &self.path,
            style: site.style.1,
        }
    }

    /// Adds what the visitor's browser must keep (a new CSRF cookie) to a response.
    pub(crate) fn finish(&self, mut r: Response) -> Response {
        if self.new_csrf {
            let c = self.cookie(CSRF_COOKIE, &self.csrf, None);
            append_cookie(&mut r, &c);
        }
        r
    }

    /// A cookie as this site sets them: `Path=/`, `HttpOnly`, `SameSite=Lax`, `Secure` over
    /// HTTPS; `max_age` in seconds (`None`: until the browser closes; `Some(0)`: removed).
    pub(crate) fn cookie(&self, name: &str, value: &str, max_age: Option<u64>) -> Cookie {
        let mut c = Cookie::new_with_str(name, value);
        c.set_path("/");
        c.set_http_only(true);
        c.set_same_site(SameSite::Lax);
        c.set_secure(self.secure);
        if let Some(secs) = max_age {
            c.set_max_age(std::time::Duration::from_secs(secs));
        }
        c
    }
}

/// Adds a `Set-Cookie` header.
pub(crate) fn append_cookie(r: &mut Response, c: &Cookie) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// What every template sees of the visitor ([`Visitor::context`]).
#[derive(Serialize)]
struct Seen<'a> {
    lang: &'a str,
    other_lang: &'a str,
    csrf: &'a str,
    me: Option<Me<'a>>,
    acting_for: Option<i64>,
    acting_for_name: Option<&'a str>,
    path: &'a str,
    style: &'a str,
}

/// The logged-in account, as templates see it.
#[derive(Serialize)]
struct Me<'a> {
    id: i64,
    name: &'a str,
    email: &'a str,
    role: &'a str,
    phone: Option<&'a str>,
    market_id: Option<i64>,
    producer_id: Option<i64>,
}

fn hex_token() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

impl<'a> FromRequest<'a> for Visitor {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let site = req.data::<std::sync::Arc<Site>>().ok_or_else(|| {
            poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR)
        })?;
        Visitor::read(site, req).await
    }
}

/// A posted form whose CSRF token was checked, with its visitor. Without the right token the
/// extractor answers the 403 page itself: the handler never runs, and nothing changes.
pub(crate) struct Submission {
    /// Who posted it.
    pub(crate) visitor: Visitor,
    /// What it posted.
    pub(crate) form: Form,
}

/// The fields of a posted form, in order (a name may repeat), and the files it sent (a form
/// with `enctype="multipart/form-data"`).
pub(crate) struct Form(Vec<(String, String)>, Vec<Upload>);

/// A file sent with a form. A file input left empty sends no [`Upload`].
pub(crate) struct Upload {
    /// The form field's name.
    pub(crate) name: String,
    /// The file's content.
    pub(crate) bytes: Vec<u8>,
}

impl Form {
    /// Takes the file sent as `name` out of the form.
    pub(crate) fn take_file(&mut self, name: &str) -> Option<Upload> {
        let at = self.1.iter().position(|f| f.name == name)?;
        Some(self.1.swap_remove(at))
    }

    /// The first value of `name`, trimmed; `""` when absent.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The value of `name`, `None` when absent or blank.
    pub(crate) fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// Every (name, value), in order.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The fields as a JSON object (to show a form again as it was sent; no passwords).
    pub(crate) fn echo(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.0 {
            if !k.contains("password") && k != "csrf" {
                m.entry(k.clone())
                    .or_insert_with(|| Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }
}

impl<'a> FromRequest<'a> for Submission {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let visitor = Visitor::from_request(req, body).await?;
        let site = req.data::<std::sync::Arc<Site>>().ok_or_else(|| {
            poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR)
        })?;
        let multipart = req.content_type().is_some_and(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
        let (fields, files) = if multipart {
            read_multipart(req, body).await.map_err(|e| {
                poem::Error::from_response(
                    site.error_page(&visitor, &PageError::BadRequest(e.to_string())),
                )
            })?
        } else {
            let bytes = body.take()?.into_vec().await.unwrap_or_default();
            (
                form_urlencoded::parse(&bytes).into_owned().collect(),
                Vec::new(),
            )
        };
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        if visitor.new_csrf || !sent.is_some_and(|s| constant_eq(s, &visitor.csrf)) {
            return Err(poem::Error::from_response(
                site.error_page(&visitor, &PageError::Csrf),
            ));
        }
        Ok(Self {
            visitor,
            form: Form(fields, files),
        })
    }
}

/// Reads a `multipart/form-data` body: its text fields, and its files (an empty file input
/// sends a part with no file name and no bytes: it is left out). The edge lets such a body
/// through with NUL bytes (a file holds any byte), so the text fields are checked here.
async fn read_multipart(
    req: &Request,
    body: &mut RequestBody,
) -> poem::Result<(Vec<(String, String)>, Vec<Upload>)> {
    let mut parts = poem::web::Multipart::from_request(req, body).await?;
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(part) = parts.next_field().await? {
        let name = part.name().unwrap_or_default().to_owned();
        if part.file_name().is_some() {
            let bytes = part.bytes().await?;
            if !bytes.is_empty() {
                files.push(Upload { name, bytes });
            }
        } else {
            let text = part.text().await?;
            if text.contains('\0') {
                return Err(poem::Error::from_string(
                    format!("the field {name} contains a NUL character"),
                    poem::http::StatusCode::BAD_REQUEST,
                ));
            }
            fields.push((name, text));
        }
    }
    Ok((fields, files))
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}
