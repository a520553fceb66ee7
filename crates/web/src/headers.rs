//! Security headers on every answer: a Content-Security-Policy (the pages run no inline script
//! and load nothing from elsewhere but product photos), `frame-ancestors 'none'` (no page may be
//! framed, against click-jacking), `X-Content-Type-Options: nosniff` and a `Referrer-Policy`
//! that sends no path to other sites.
//!
//! The policy is per route when it must be: an answer that already carries a
//! `Content-Security-Policy` keeps it. [`with_csp`] gives a whole subtree its own (the API docs'
//! Swagger UI runs inline script; a payment page will need `https://js.stripe.com`).

use poem::{
    Endpoint, EndpointExt, Response,
    http::{HeaderValue, header},
};

/// The policy of every answer that sets none of its own. Inline `style` stays allowed: the
/// printable documents (`print`) carry their styles inline so that a saved file is whole;
/// scripts come from this origin only.
pub(crate) const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

/// The API docs (poem-openapi's Swagger UI): its page starts with an inline script.
pub(crate) const SWAGGER_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; object-src 'none'; \
     base-uri 'self'; frame-ancestors 'none'";

/// Adds the headers an answer lacks (called by the outermost layer, `ops::observe`, on every
/// answer).
pub(crate) fn secure(res: &mut Response) {
    let headers = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// `ep` with its own Content-Security-Policy on every answer, instead of [`DEFAULT_CSP`].
pub(crate) fn with_csp<E: Endpoint + 'static>(ep: E, policy: &'static str) -> impl Endpoint {
    ep.map_to_response().after(move |res| async move {
        let mut res = res?;
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
        Ok(res)
    })
}
