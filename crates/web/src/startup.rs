//! Building the route tree and serving it.

use std::{net::SocketAddr, sync::Arc};

use poem::{
    Endpoint, EndpointExt, Route,
    endpoint::make_sync,
    error::ReadBodyError,
    http::{StatusCode, header},
    listener::{Acceptor, TcpAcceptor},
    web::Json,
};
use store::Store;

use crate::{
    WebOptions,
    api::{contract, openapi_service},
    error::json_errors,
    throttle::LoginThrottle,
};

/// Largest request body accepted (1 MiB): a basket or a week's offers are far smaller.
const MAX_BODY: usize = 1024 * 1024;
/// The largest form with a file a page takes: a phone's full-size photo and the form around it.
const MAX_UPLOAD: usize = store::MAX_PHOTO_BYTES + 64 * 1024;

/// The whole HTTP application for `store`, ready to serve or to test in-process.
pub fn app(store: Store) -> impl Endpoint {
    app_with(store, WebOptions::default())
}

/// [`app`] with options.
pub fn app_with(store: Store, options: WebOptions) -> impl Endpoint {
    let throttle = Arc::new(LoginThrottle::new(options));
    let pages = match crate::pages::routes(store.clone(), throttle.clone(), options) {
        Ok(pages) => pages.boxed(),
        Err(e) => {
            // Templates and words are embedded: this is a build that should not have shipped.
            tracing::error!(error = %e, "the pages could not be loaded");
            make_sync(|_| StatusCode::INTERNAL_SERVER_ERROR)
                .map_to_response()
                .boxed()
        }
    };
    let store_for_hooks = store.clone();
    let store_for_ops = store.clone();
    let api = openapi_service(store, throttle);
    let document = contract::complete(&api.spec());
    let methods = Arc::new(contract::Methods::new(&document, "/api/v1"));
    let spec = make_sync(move |_| Json(document.clone()));
    let docs = api.swagger_ui();
    let (ready_store, metrics_store) = (store_for_ops.clone(), store_for_ops);
    let backlog = crate::ops::BacklogCache::default();
    let limit = options.request_timeout;
    let api = api.around(move |ep, req| async move {
        crate::deadline::within(&ep, req, limit, crate::deadline::Answer::Json).await
    });
    Route::new()
        .nest("/api/v1", api)
        .at("/api/openapi.json", spec)
        .nest(
            "/api/docs",
            crate::headers::with_csp(docs, crate::headers::SWAGGER_CSP),
        )
        .at("/healthz", make_sync(|_| "ok"))
        .at(
            "/stripe/webhooks/:market_id",
            poem::post(crate::stripe_hook::stripe_webhook).data(store_for_hooks),
        )
        .at(
            "/readyz",
            poem::endpoint::make(move |_| {
                let s = ready_store.clone();
                async move { crate::ops::readyz(&s).await }
            }),
        )
        .at(
            "/metrics",
            poem::endpoint::make(move |_| {
                let (s, b) = (metrics_store.clone(), backlog.clone());
                async move { crate::ops::metrics_text(&s, &b).await }
            }),
        )
        .nest("/", pages)
        .around(|ep, req| async move { crate::ops::note_route(&ep, req).await })
        .around(|ep, mut req| async move {
            // A page's form with a file may be larger, and its text fields are checked for NUL
            // by the page; a catalogue upload says itself what a NUL byte means (a spreadsheet
            // saved in another format): see pages/catalogue.rs.
            let catalogue = req.method() == poem::http::Method::POST
                && crate::pages::is_catalogue_upload(req.uri().path());
            let upload = catalogue || is_page_upload(&req);
            let limit = if catalogue {
                crate::pages::CATALOGUE_UPLOAD_LIMIT
            } else if upload {
                MAX_UPLOAD
            } else {
                MAX_BODY
            };
            limit_body(&req, limit)?;
            refuse_nul_in_uri(&req)?;
            // Read the body here, whatever the protocol says of its length: over cleartext
            // HTTP/2 a body may come with neither Content-Length nor Transfer-Encoding.
            let body = req
                .take_body()
                .into_bytes_limit(limit)
                .await
                .map_err(|e| match e {
                    ReadBodyError::PayloadTooLarge => too_large(limit),
                    e => poem::Error::from_string(
                        format!("the request body could not be read: {e}"),
                        StatusCode::BAD_REQUEST,
                    ),
                })?;
            if !upload {
                // A file holds any byte; the form's text fields are checked by the page
                // (`pages::visitor::Submission`).
                refuse_nul_in_body(&body)?;
            }
            req.set_body(body);
            ep.call(req).await
        })
        .around(move |ep, req| {
            let methods = methods.clone();
            async move { methods.answer(&ep, req).await }
        })
        .catch_all_error(json_errors)
        .around(|ep, req| async move { crate::compress::gzip_answer(&ep, req).await })
        .around(|ep, req| async move { crate::ops::observe(&ep, req).await })
}

fn too_large(limit: usize) -> poem::Error {
    poem::Error::from_string(
        format!("the request body is larger than {limit} bytes"),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
}

/// A 422 `invalid_text`: PostgreSQL cannot store a NUL character in text, and no field of
/// ours has a use for one.
fn invalid_text(where_: &str) -> poem::Error {
    let body = serde_json::json!({
        "code": "invalid_text",
        "message": format!("the {where_} contains a NUL character, which no text may hold"),
    });
    poem::Error::from_response(
        poem::Response::builder()
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .content_type("application/json; charset=utf-8")
            .body(body.to_string()),
    )
}

/// Refuses `%00` in the path or the query string (a raw NUL cannot be in a URI).
fn refuse_nul_in_uri(req: &poem::Request) -> poem::Result<()> {
    let uri = req.uri();
    let has_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return Err(invalid_text("address"));
    }
    Ok(())
}

/// True when `body` holds a NUL character: a raw 0 byte, or JSON's escape `\u0000` (the only
/// way JSON carries one), that is `u0000` preceded by an odd number of backslashes. One pass
/// over the bytes, no parsing: this runs on every basket of a rush.
pub(crate) fn holds_nul(body: &[u8]) -> bool {
    if body.contains(&0) {
        return true;
    }
    let mut from = 0;
    while let Some(at) = body[from..].windows(5).position(|w| w == b"u0000") {
        let u = from + at;
        let backslashes = body[..u].iter().rev().take_while(|b| **b == b'\\').count();
        if backslashes % 2 == 1 {
            return true;
        }
        from = u + 1;
    }
    false
}

fn refuse_nul_in_body(body: &[u8]) -> poem::Result<()> {
    if holds_nul(body) {
        return Err(invalid_text("request body"));
    }
    Ok(())
}

/// A page's form sending a file (`multipart/form-data`, outside `/api`): a product photo.
fn is_page_upload(req: &poem::Request) -> bool {
    !req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            })
}

/// Refuses bodies announced over `limit` bytes before reading them. A body of unknown length
/// (chunked) is refused too: every client we serve sends `Content-Length`.
fn limit_body(req: &poem::Request, limit: usize) -> poem::Result<()> {
    let length = req.headers().get(header::CONTENT_LENGTH);
    match length
        .and_then(|v| v.to_str().ok())
        .map(str::parse::<usize>)
    {
        Some(Ok(n)) if n > limit => Err(too_large(limit)),
        Some(Ok(_)) => Ok(()),
        Some(Err(_)) => Err(poem::Error::from_string(
            "invalid Content-Length",
            StatusCode::BAD_REQUEST,
        )),
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            Err(poem::Error::from_string(
                "send the request body with a Content-Length",
                StatusCode::LENGTH_REQUIRED,
            ))
        }
        None => Ok(()),
    }
}

/// poem's TCP acceptor with `TCP_NODELAY` on every connection, as web servers usually do:
/// without it, a response written in several pieces (a PDF, a streamed body) can wait for the
/// client's delayed ACK, some 40 ms, before its last piece leaves.
struct NoDelay(poem::listener::TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(
        Self::Io,
        poem::web::LocalAddr,
        poem::web::RemoteAddr,
        poem::http::uri::Scheme,
    )> {
        let accepted = self.0.accept().await?;
        // A socket that refuses the option still serves, only slower on some answers.
        let _ = accepted.0.set_nodelay(true);
        Ok(accepted)
    }
}

/// Connections waiting to be accepted: a launch opens thousands in the same second, more than
/// tokio's default of 1,024 (the kernel caps it at `net.core.somaxconn`; see BENCHMARKS.md).
const BACKLOG: u32 = 4096;

/// Binds the first address `addr` resolves to that can be bound, with [`BACKLOG`].
async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As tokio's own bind: a restarted node takes its port back at once.
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{addr} names no address"),
        )
    }))
}

/// A bound, not yet running, server.
pub struct Application {
    addr: SocketAddr,
    acceptor: NoDelay,
    store: Store,
    options: WebOptions,
}

impl Application {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: &str, store: Store) -> std::io::Result<Self> {
        Self::bind_with(addr, store, WebOptions::default()).await
    }

    /// [`Application::bind`] with options.
    pub async fn bind_with(addr: &str, store: Store, options: WebOptions) -> std::io::Result<Self> {
        let acceptor = TcpAcceptor::from_tokio(listen(addr).await?)?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("the listener has no socket address"))?;
        Ok(Self {
            addr,
            acceptor: NoDelay(acceptor),
            store,
            options,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the process is stopped.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `signal` completes, then lets requests in flight finish (10 s at most).
    /// Idle keep-alive connections are parked (see `serve.rs`), unless the environment says
    /// `HALLE_PARK_IDLE=off`: then poem's own server serves, as before (the benchmark compares
    /// both; a way back should parking ever misbehave).
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let grace = std::time::Duration::from_secs(10);
        if std::env::var("HALLE_PARK_IDLE").is_ok_and(|v| v == "off") {
            return poem::Server::new_with_acceptor(self.acceptor)
                .run_with_graceful_shutdown(app_with(self.store, self.options), signal, Some(grace))
                .await;
        }
        let ep: crate::serve::SharedEndpoint =
            Arc::new(app_with(self.store, self.options).map_to_response().boxed());
        crate::serve::serve(self.acceptor, ep, signal, grace).await
    }
}

#[cfg(test)]
mod tests {
    use poem::listener::{Acceptor, Listener, TcpListener};

    use super::{NoDelay, holds_nul};

    #[test]
    fn a_nul_is_found_raw_or_escaped_but_not_an_escaped_backslash() {
        assert!(holds_nul(b"{\"name\": \"a\\u0000b\"}"));
        assert!(holds_nul(b"{\"name\": \"a\\\\\\u0000\"}"));
        assert!(holds_nul(b"a\0b"));
        assert!(!holds_nul(b"{\"name\": \"a\\\\u0000b\"}"));
        assert!(!holds_nul(b"{\"name\": \"u0000\"}"));
        assert!(!holds_nul(b"{\"name\": \"\\u0001\"}"));
    }

    #[tokio::test]
    async fn accepted_connections_have_nodelay() -> std::io::Result<()> {
        let mut acceptor = NoDelay(TcpListener::bind("127.0.0.1:0").into_acceptor().await?);
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let client = tokio::net::TcpStream::connect(addr);
        let (accepted, _client) = tokio::join!(acceptor.accept(), client);
        assert!(accepted?.0.nodelay()?);
        Ok(())
    }
}
