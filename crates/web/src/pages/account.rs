//! Sessions and accounts: the home page, login, logout, sign-up, profile, password, and the
//! language switch.

use std::sync::Arc;

use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{NewAccount, Role, SESSION_DAYS, StoreError};

use super::{
    PageError, Site, Submission, Visitor, answer, home_of, local_path, see_other,
    visitor::{LANG_COOKIE, SESSION_COOKIE, append_cookie},
};

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// `/`: the markets, and where each kind of user goes.
#[handler]
pub(crate) async fn home(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let markets = site.store.list_markets().await?;
        let markets: Vec<Value> = markets
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "slug": m.slug,
                    "city": m.city,
                    "description": m.description,
                })
            })
            .collect();
        let home = v.session.as_ref().map(|s| home_of(s.actor.role));
        Ok(site.render(
            &v,
            StatusCode::OK,
            "home",
            "home-title",
            json!({ "markets": markets, "home": home.filter(|h| *h != "/") }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// The `next` a login form carries: a local path, or nothing (then the role's page).
fn login_next(next: Option<&str>) -> String {
    next.filter(|n| !n.is_empty())
        .map(|n| local_path(Some(n)))
        .unwrap_or_default()
}

/// The login form.
#[handler]
pub(crate) fn login_form(site: Data<&Arc<Site>>, v: Visitor, q: Query<Next>) -> Response {
    // No `next`: the form sends none, and the login goes to the role's own page.
    let next = login_next(q.next.as_deref());
    site.render(
        &v,
        StatusCode::OK,
        "account/login",
        "login-title",
        json!({ "next": next, "form": {}, "errors": {} }),
    )
}

/// Checks the email and password, opens a session, and goes to `next` or the role's page. A
/// failure says so without telling whether the email has an account.
#[handler]
pub(crate) async fn login(
    site: Data<&Arc<Site>>,
    req: &poem::Request,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let email = form.get("email");
    let again = |status, error: String| {
        site.render(
            &v,
            status,
            "account/login",
            "login-title",
            json!({
                "next": login_next(form.opt("next")),
                "form": form.echo(),
                "errors": { "form": error },
            }),
        )
    };
    if site.throttle.address(site.throttle.client(req)).is_err()
        || site.throttle.account(email).is_err()
    {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            site.t(v.lang, "error-too-many-attempts"),
        );
    }
    match site.store.log_in(email, form.get("password")).await {
        Ok(grant) => {
            let to = match form.opt("next") {
                Some(n) => local_path(Some(n)),
                None => home_of(grant.session.actor.role).to_owned(),
            };
            with_session(&v, see_other(&v, &to), &grant.secret)
        }
        Err(StoreError::Unauthenticated(_)) => again(
            StatusCode::UNAUTHORIZED,
            site.t(v.lang, "error-login-failed"),
        ),
        Err(e) => site.error_page(&v, &PageError::from(e)),
    }
}

/// Ends this session, on every node.
#[handler]
pub(crate) async fn logout(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let v = sub.visitor;
    if let Some(secret) = &v.secret
        && let Err(e) = site.store.end_session(secret).await
    {
        return site.error_page(&v, &PageError::from(e));
    }
    let mut r = see_other(&v, "/");
    append_cookie(&mut r, &v.cookie(SESSION_COOKIE, "", Some(0)));
    r
}

/// The sign-up form (consumers).
#[handler]
pub(crate) fn signup_form(site: Data<&Arc<Site>>, v: Visitor, q: Query<Next>) -> Response {
    site.render(
        &v,
        StatusCode::OK,
        "account/signup",
        "signup-title",
        json!({ "next": local_path(q.next.as_deref()), "form": {}, "errors": {},
                "min_password": store::MIN_PASSWORD_CHARS }),
    )
}

/// The field of the sign-up or profile form an account error belongs to.
fn field_of(e: &StoreError) -> &'static str {
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

/// Creates a consumer account in the visitor's language and logs it in.
#[handler]
pub(crate) async fn signup(
    site: Data<&Arc<Site>>,
    req: &poem::Request,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let again = |status, field: &str, error: String| {
        site.render(
            &v,
            status,
            "account/signup",
            "signup-title",
            json!({
                "next": local_path(form.opt("next")),
                "form": form.echo(),
                "errors": { field: error },
                "min_password": store::MIN_PASSWORD_CHARS,
            }),
        )
    };
    if site.throttle.address(site.throttle.client(req)).is_err() {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "form",
            site.t(v.lang, "error-too-many-attempts"),
        );
    }
    let created = site
        .store
        .create_account(NewAccount {
            email: form.get("email").to_owned(),
            password: form.get("password").to_owned(),
            name: form.get("name").to_owned(),
            phone: form.opt("phone").map(str::to_owned),
            role: Role::Consumer,
            producer_id: None,
            market_id: None,
        })
        .await;
    let actor = match created {
        Ok(a) => a,
        Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
            return again(
                super::site::store_status(&e),
                field_of(&e),
                site.store_error(v.lang, &e),
            );
        }
        Err(e) => return site.error_page(&v, &PageError::from(e)),
    };
    let r = async {
        site.store.set_language(&actor, v.lang.code()).await?;
        let grant = site.store.open_session(actor.account_id).await?;
        let to = local_path(form.opt("next"));
        Ok(with_session(&v, see_other(&v, &to), &grant.secret))
    }
    .await;
    answer(&site, &v, r)
}

/// The profile form: name, phone, language.
#[handler]
pub(crate) fn profile_form(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = (|| {
        let s = v.session.as_ref().ok_or(PageError::LogIn)?;
        Ok(site.render(
            &v,
            StatusCode::OK,
            "account/profile",
            "profile-title",
            json!({
                "form": { "name": s.actor.name, "phone": s.phone, "language": s.language },
                "errors": {},
            }),
        ))
    })();
    answer(&site, &v, r)
}

/// Saves the profile.
#[handler]
pub(crate) async fn profile(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.actor()?;
        let lang = match form.get("language") {
            "en" => "en",
            _ => "fr",
        };
        match site
            .store
            .set_profile(actor, form.get("name"), form.opt("phone"), lang)
            .await
        {
            Ok(()) => Ok(see_other(&v, "/account?done=profile")),
            Err(e @ StoreError::Invalid { .. }) => Ok(site.render(
                &v,
                super::site::store_status(&e),
                "account/profile",
                "profile-title",
                json!({ "form": form.echo(), "errors": { field_of(&e): site.store_error(v.lang, &e) } }),
            )),
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// The password form.
#[handler]
pub(crate) fn password_form(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = v.actor().map(|_| {
        site.render(
            &v,
            StatusCode::OK,
            "account/password",
            "password-title",
            json!({ "errors": {}, "min_password": store::MIN_PASSWORD_CHARS }),
        )
    });
    answer(&site, &v, r)
}

/// Changes the password: every session of the account ends, and this browser gets a new one.
#[handler]
pub(crate) async fn password(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.actor()?;
        match site
            .store
            .change_password(
                actor,
                form.get("current_password"),
                form.get("new_password").to_owned(),
            )
            .await
        {
            Ok(()) => {
                let grant = site.store.open_session(actor.account_id).await?;
                Ok(with_session(
                    &v,
                    see_other(&v, "/account?done=password"),
                    &grant.secret,
                ))
            }
            Err(e @ (StoreError::Invalid { .. } | StoreError::Forbidden(_))) => {
                let field = if matches!(e, StoreError::Forbidden(_)) {
                    "current_password"
                } else {
                    "new_password"
                };
                let message = if field == "current_password" {
                    site.t(v.lang, "error-wrong-password")
                } else {
                    site.store_error(v.lang, &e)
                };
                Ok(site.render(
                    &v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "account/password",
                    "password-title",
                    json!({ "errors": { field: message }, "min_password": store::MIN_PASSWORD_CHARS }),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// The language switch: kept with the account, or in a cookie for a visitor.
#[handler]
pub(crate) async fn language(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let lang = if form.get("lang") == "en" { "en" } else { "fr" };
    let to = local_path(form.opt("next"));
    let r = async {
        let mut r = see_other(&v, &to);
        match &v.session {
            Some(s) => site.store.set_language(&s.actor, lang).await?,
            None => append_cookie(&mut r, &v.cookie(LANG_COOKIE, lang, Some(365 * 86_400))),
        }
        Ok(r)
    }
    .await;
    answer(&site, &v, r)
}

/// `r` with the session cookie set.
fn with_session(v: &Visitor, mut r: Response, secret: &str) -> Response {
    let max_age = u64::try_from(SESSION_DAYS * 86_400).unwrap_or(u64::MAX);
    append_cookie(&mut r, &v.cookie(SESSION_COOKIE, secret, Some(max_age)));
    r
}
