//! Building the route tree and serving it.

use std::{net::SocketAddr, sync::Arc};

use poem::{
    Endpoint, EndpointExt, Route, Server,
    endpoint::make_sync,
    http::{StatusCode, header},
    listener::{Acceptor, Listener, TcpListener},
    middleware::Tracing,
    web::{Json, Redirect},
};
use store::Store;

use crate::{
    api::{contract, openapi_service},
    error::json_errors,
};

/// Largest request body accepted (1 MiB): a basket or a week's offers are far smaller.
const MAX_BODY: usize = 1024 * 1024;

/// The whole HTTP application for `store`, ready to serve or to test in-process.
pub fn app(store: Store) -> impl Endpoint {
    let api = openapi_service(store);
    let document = contract::complete(&api.spec());
    let methods = Arc::new(contract::Methods::new(&document, "/api/v1"));
    let spec = make_sync(move |_| Json(document.clone()));
    let docs = api.swagger_ui();
    Route::new()
        .nest("/api/v1", api)
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .at("/healthz", make_sync(|_| "ok"))
        .at("/", make_sync(|_| Redirect::see_other("/api/docs")))
        .around(|ep, req| async move {
            limit_body(&req)?;
            ep.call(req).await
        })
        .around(move |ep, req| {
            let methods = methods.clone();
            async move { methods.answer(&ep, req).await }
        })
        .catch_all_error(json_errors)
        .with(Tracing)
}

/// Refuses bodies over [`MAX_BODY`] before reading them. A body of unknown length (chunked)
/// is refused too: every client we serve sends `Content-Length`.
fn limit_body(req: &poem::Request) -> poem::Result<()> {
    let length = req.headers().get(header::CONTENT_LENGTH);
    match length
        .and_then(|v| v.to_str().ok())
        .map(str::parse::<usize>)
    {
        Some(Ok(n)) if n > MAX_BODY => Err(poem::Error::from_string(
            format!("the request body is larger than {MAX_BODY} bytes"),
            StatusCode::PAYLOAD_TOO_LARGE,
        )),
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

/// A bound, not yet running, server.
pub struct Application {
    addr: SocketAddr,
    acceptor: NoDelay,
    store: Store,
}

impl Application {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: &str, store: Store) -> std::io::Result<Self> {
        let acceptor = TcpListener::bind(addr.to_owned()).into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("the listener has no socket address"))?;
        Ok(Self {
            addr,
            acceptor: NoDelay(acceptor),
            store,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the process is stopped.
    pub async fn run(self) -> std::io::Result<()> {
        Server::new_with_acceptor(self.acceptor)
            .run(app(self.store))
            .await
    }

    /// Serves until `signal` completes, then lets requests in flight finish.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                app(self.store),
                signal,
                Some(std::time::Duration::from_secs(10)),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use poem::listener::{Acceptor, Listener, TcpListener};

    use super::NoDelay;

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
