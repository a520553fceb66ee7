//! Serving connections, with idle HTTP/1.1 connections parked: the accept loop and graceful
//! shutdown that poem's `Server` gave, and what it could not give, a keep-alive connection that
//! costs next to nothing while it waits.
//!
//! hyper keeps, for as long as an HTTP/1.1 connection is open, a read buffer and a write buffer
//! of 8 KiB each and its connection state; with poem's task around it, an idle keep-alive
//! connection held some 30 KB (18,000 of them took a node from 29 MiB to 560 MiB; see
//! BENCHMARKS.md). Here, once a connection has answered its requests and has waited
//! [`PARK_AFTER`] for the next one, hyper's connection is closed down to its socket
//! (`graceful_shutdown` of an idle connection ends it at once, `into_parts` gives the socket
//! back, with any bytes of a next request already read) and its task waits for the socket to
//! become readable, holding nothing else; the next request starts a new hyper connection on the
//! same socket. The client sees one keep-alive connection, as before.
//!
//! Why wait before parking: a client that sends its next request at once (a browser fetching a
//! page's stylesheet, a busy API client, a load test) would otherwise pay a new hyper
//! connection for every request. Parked at once, the shop page was served 8 – 13 % less often
//! under a rush (read bench, side by side); the wait costs no timer per request (one per
//! connection, re-armed at most every [`PARK_AFTER`]).
//!
//! Cleartext HTTP/2 (a client that starts with the HTTP/2 preface) is served by hyper's HTTP/2
//! connection for the connection's life, with poem's settings.
//!
//! Shutdown: on the signal the listener closes, parked connections close, busy ones finish the
//! request in hand (answered `Connection: close`), and [`serve`] returns when the last one has,
//! or after the grace period, dropping what is left.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use bytes::{Buf, Bytes};
use hyper_util::rt::{TokioExecutor, TokioIo};
use poem::{
    Endpoint, IntoResponse, Response,
    http::uri::Scheme,
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{mpsc, watch},
};

/// What every connection serves.
pub(crate) type SharedEndpoint = Arc<poem::endpoint::BoxEndpoint<'static, Response>>;

/// The body of an answer, as poem hands it to hyper.
type AnswerBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// An answer on its way.
type Answering = Pin<
    Box<dyn std::future::Future<Output = Result<hyper::Response<AnswerBody>, Infallible>> + Send>,
>;

/// How far along the server's shutdown is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stop {
    Running,
    /// Finish the requests in hand, take no new ones.
    Graceful,
    /// The grace period is over: drop every connection.
    Now,
}

/// How long an HTTP/1.1 connection waits idle for its next request before it is parked.
const PARK_AFTER: Duration = Duration::from_millis(250);

/// The client's first bytes on an HTTP/2 connection with prior knowledge.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Accepts connections from `acceptor` and serves `ep` on them until `signal` completes, then
/// lets the requests in hand finish, for `grace` at most.
pub(crate) async fn serve<A>(
    mut acceptor: A,
    ep: SharedEndpoint,
    signal: impl std::future::Future<Output = ()> + Send,
    grace: Duration,
) -> std::io::Result<()>
where
    A: Acceptor<Io = TcpStream>,
{
    let (stop_tx, stop_rx) = watch::channel(Stop::Running);
    // Each connection's task holds a sender; `recv` returns None once the last is gone.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            accepted = acceptor.accept() => match accepted {
                Ok((stream, local, remote, scheme)) => {
                    let conn = Connection {
                        ep: ep.clone(),
                        local,
                        remote,
                        scheme,
                        stop: stop_rx.clone(),
                        _alive: alive_tx.clone(),
                    };
                    tokio::spawn(conn.run(stream));
                }
                Err(e) => {
                    // Out of file descriptors, most likely: say so, and let some close rather
                    // than spin on the error.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(acceptor);
    stop_tx.send_replace(Stop::Graceful);
    drop(alive_tx);
    if tokio::time::timeout(grace, alive_rx.recv()).await.is_err() {
        tracing::warn!("requests still in hand after the grace period: dropped");
        stop_tx.send_replace(Stop::Now);
        // Dropped connections go at once; a moment for their tasks to see it.
        let _ = tokio::time::timeout(Duration::from_secs(1), alive_rx.recv()).await;
    }
    Ok(())
}

/// One accepted connection.
struct Connection {
    ep: SharedEndpoint,
    local: LocalAddr,
    remote: RemoteAddr,
    scheme: Scheme,
    stop: watch::Receiver<Stop>,
    _alive: mpsc::Sender<()>,
}

impl Connection {
    async fn run(mut self, mut stream: TcpStream) {
        match self.is_h2(&stream).await {
            Some(true) => Box::pin(self.h2(stream)).await,
            Some(false) => {
                let activity = Arc::new(Activity::default());
                let mut unread = Bytes::new();
                loop {
                    if unread.is_empty() {
                        // Parked: nothing but the socket until the next request comes.
                        tokio::select! {
                            ready = stream.readable() => if ready.is_err() { return },
                            () = self.stopping() => return,
                        }
                    }
                    match Box::pin(self.h1_round(&mut stream, unread, &activity)).await {
                        Some(rest) => unread = rest,
                        None => return,
                    }
                }
            }
            None => {}
        }
    }

    /// Resolves once the server is shutting down.
    async fn stopping(&self) {
        reached(self.stop.clone(), Stop::Graceful).await;
    }

    /// Whether the client speaks HTTP/2 with prior knowledge; None when it goes away first.
    async fn is_h2(&self, stream: &TcpStream) -> Option<bool> {
        let mut first = [0u8; H2_PREFACE.len()];
        loop {
            let n = tokio::select! {
                n = stream.peek(&mut first) => n.ok()?,
                () = self.stopping() => return None,
            };
            match n {
                0 => return None,
                n if first[..n] != H2_PREFACE[..n] => return Some(false),
                n if n == H2_PREFACE.len() => return Some(true),
                // A prefix of the preface so far: wait for more.
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    /// Serves an HTTP/2 connection to its end.
    async fn h2(self, stream: TcpStream) {
        let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        // poem's settings.
        builder
            .max_pending_accept_reset_streams(20)
            .max_header_list_size(16384);
        let service = self.service(None);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            () = self.stopping() => {}
        }
        if *self.stop.borrow() == Stop::Graceful {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = reached(self.stop.clone(), Stop::Now) => {}
            }
        }
    }

    /// The service of one hyper connection: poem's request from hyper's, and back. With
    /// `activity`, counts the requests in hand.
    fn service(
        &self,
        activity: Option<Arc<Activity>>,
    ) -> impl hyper::service::Service<
        hyper::Request<hyper::body::Incoming>,
        Response = hyper::Response<AnswerBody>,
        Error = Infallible,
        Future = Answering,
    > + Unpin
    + use<> {
        let (ep, local, remote, scheme) = (
            self.ep.clone(),
            self.local.clone(),
            self.remote.clone(),
            self.scheme.clone(),
        );
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let ep = ep.clone();
            let req = poem::Request::from((req, local.clone(), remote.clone(), scheme.clone()));
            let activity = activity.clone();
            if let Some(a) = &activity {
                a.in_hand.fetch_add(1, Ordering::AcqRel);
                a.served.fetch_add(1, Ordering::AcqRel);
            }
            let answer: Pin<Box<dyn std::future::Future<Output = _> + Send>> =
                Box::pin(async move {
                    let resp = ep.get_response(req).await.into_response();
                    if let Some(a) = &activity {
                        a.in_hand.fetch_sub(1, Ordering::AcqRel);
                    }
                    Ok::<_, Infallible>(hyper::Response::<AnswerBody>::from(resp))
                });
            answer
        })
    }

    /// One hyper HTTP/1.1 connection on `stream`, from the bytes `unread` (already read from
    /// the socket) on, until the connection goes idle (returns what it had read of a next
    /// request: the connection parks) or ends (None: the socket closes).
    async fn h1_round(
        &mut self,
        stream: &mut TcpStream,
        unread: Bytes,
        activity: &Arc<Activity>,
    ) -> Option<Bytes> {
        activity.served.store(0, Ordering::Release);
        let io = Watched {
            stream,
            unread,
            activity: activity.clone(),
        };
        let service = self.service(Some(activity.clone()));
        let mut conn =
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
        let mut idle = Idle {
            timer: Box::pin(tokio::time::sleep(PARK_AFTER)),
            armed_at: None,
        };
        let mut parking = false;
        let mut closing = false;
        loop {
            let want = if closing { Stop::Now } else { Stop::Graceful };
            tokio::select! {
                done = std::future::poll_fn(|cx| drive(&mut conn, cx, activity, &mut idle, &mut parking, closing)) => {
                    if done.is_err() || !parking {
                        return None;
                    }
                    break;
                }
                s = reached(self.stop.clone(), want) => {
                    if s == Stop::Now {
                        return None;
                    }
                    // Finish the request in hand, answered `Connection: close`.
                    closing = true;
                    Pin::new(&mut conn).graceful_shutdown();
                }
            }
        }
        let parts = conn.into_parts();
        let watched = parts.io.into_inner();
        // What hyper read but did not use, then what it was not given yet.
        let mut rest = parts.read_buf;
        if watched.unread.has_remaining() {
            let mut all = Vec::with_capacity(rest.len() + watched.unread.len());
            all.extend_from_slice(&rest);
            all.extend_from_slice(&watched.unread);
            rest = Bytes::from(all);
        }
        Some(rest)
    }
}

/// Resolves once the server's shutdown has reached `want` (or the server is gone).
async fn reached(mut stop: watch::Receiver<Stop>, want: Stop) -> Stop {
    match stop.wait_for(|s| *s >= want).await {
        Ok(s) => *s,
        Err(_) => Stop::Now,
    }
}

type H1Conn<'a, S> = hyper::server::conn::http1::Connection<TokioIo<Watched<'a>>, S>;

/// When an HTTP/1.1 connection may be parked.
struct Idle {
    /// Fires [`PARK_AFTER`] after it was armed.
    timer: Pin<Box<tokio::time::Sleep>>,
    /// How many requests the connection had been given when the timer was armed; `None`
    /// until it first waits idle.
    armed_at: Option<u64>,
}

impl Idle {
    /// Whether the connection, waiting idle now, has waited since the timer was armed with no
    /// request in between: armed on its first wait, and armed again when requests came
    /// meanwhile (so a busy connection re-arms once per [`PARK_AFTER`], not once a request).
    fn elapsed(&mut self, cx: &mut Context<'_>, served: u64) -> bool {
        let Some(armed_at) = self.armed_at else {
            self.rearm(served);
            return self.timer.as_mut().poll(cx).is_ready();
        };
        if self.timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        if armed_at == served {
            return true;
        }
        self.rearm(served);
        self.timer.as_mut().poll(cx).is_ready()
    }

    fn rearm(&mut self, served: u64) {
        self.timer
            .as_mut()
            .reset(tokio::time::Instant::now() + PARK_AFTER);
        self.armed_at = Some(served);
    }
}

/// Polls a hyper HTTP/1.1 connection; once it has waited [`PARK_AFTER`] for a next request
/// with nothing in hand, ends it (graceful shutdown of an idle connection ends it at once) and
/// notes it `parking`.
fn drive<S>(
    conn: &mut H1Conn<'_, S>,
    cx: &mut Context<'_>,
    activity: &Activity,
    idle: &mut Idle,
    parking: &mut bool,
    closing: bool,
) -> Poll<hyper::Result<()>>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = AnswerBody> + Unpin,
    S::Future: Unpin,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    activity.reading.store(false, Ordering::Release);
    activity.writing.store(false, Ordering::Release);
    let polled = conn.poll_without_shutdown(cx);
    let served = activity.served.load(Ordering::Acquire);
    if polled.is_pending()
        && !*parking
        && !closing
        && served > 0
        && activity.in_hand.load(Ordering::Acquire) == 0
        && activity.reading.load(Ordering::Acquire)
        && !activity.writing.load(Ordering::Acquire)
        && idle.elapsed(cx, served)
    {
        *parking = true;
        Pin::new(conn).graceful_shutdown();
        cx.waker().wake_by_ref();
    }
    polled
}

/// What one connection is doing, as its hyper connection's last poll left it.
#[derive(Default)]
struct Activity {
    /// Requests of this round handed to the service.
    served: AtomicU64,
    /// Requests whose answer is not made yet.
    in_hand: AtomicU64,
    /// The last read found nothing to read.
    reading: AtomicBool,
    /// The last write or flush could not finish.
    writing: AtomicBool,
}

/// The socket as one hyper connection sees it: first the bytes a previous one left unread, and
/// whether hyper is waiting on it.
struct Watched<'a> {
    stream: &'a mut TcpStream,
    unread: Bytes,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.unread.has_remaining() {
            let n = this.unread.len().min(buf.remaining());
            buf.put_slice(&this.unread[..n]);
            this.unread.advance(n);
            return Poll::Ready(Ok(()));
        }
        let polled = Pin::new(&mut *this.stream).poll_read(cx, buf);
        this.activity
            .reading
            .store(polled.is_pending(), Ordering::Release);
        polled
    }
}

impl AsyncWrite for Watched<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut *this.stream).poll_write(cx, buf);
        this.note_write(polled.is_pending());
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut *this.stream).poll_write_vectored(cx, bufs);
        this.note_write(polled.is_pending());
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut *this.stream).poll_flush(cx);
        this.note_write(polled.is_pending());
        polled
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_shutdown(cx)
    }
}

impl Watched<'_> {
    fn note_write(&self, pending: bool) {
        if pending {
            self.activity.writing.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use poem::{
        EndpointExt, Route, get, handler,
        listener::{Acceptor, Listener, TcpListener},
    };
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpStream,
    };

    use super::serve;

    #[handler]
    fn hello() -> &'static str {
        "hello"
    }

    /// Reads from `stream` until `n` answers ending in "hello" have come.
    async fn answers(stream: &mut TcpStream, n: usize) -> std::io::Result<String> {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while String::from_utf8_lossy(&got).matches("hello").count() < n {
            let read = stream.read(&mut buf).await?;
            if read == 0 {
                break;
            }
            got.extend_from_slice(&buf[..read]);
        }
        Ok(String::from_utf8_lossy(&got).into_owned())
    }

    #[tokio::test]
    async fn a_parked_connection_serves_again_and_pipelined_requests_are_kept()
    -> std::io::Result<()> {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let ep = Arc::new(Route::new().at("/", get(hello)).map_to_response().boxed());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            acceptor,
            ep,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(2),
        ));
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut stream = TcpStream::connect(addr).await?;
        for _ in 0..3 {
            stream.write_all(request).await?;
            let got = answers(&mut stream, 1).await?;
            assert!(got.starts_with("HTTP/1.1 200"), "{got}");
            assert!(
                !got.to_ascii_lowercase().contains("connection: close"),
                "{got}"
            );
            // Time to go idle and park between requests.
            tokio::time::sleep(super::PARK_AFTER + Duration::from_millis(100)).await;
        }
        // Two requests in one write, then a third split in two writes across a pause.
        stream
            .write_all(&[&request[..], &request[..]].concat())
            .await?;
        assert_eq!(
            answers(&mut stream, 2)
                .await?
                .matches("HTTP/1.1 200")
                .count(),
            2
        );
        stream.write_all(&request[..10]).await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(&request[10..]).await?;
        assert!(answers(&mut stream, 1).await?.starts_with("HTTP/1.1 200"));
        // Shutting down closes the idle connection and returns.
        let _ = stop.send(());
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
            .await
            .map_err(|_| std::io::Error::other("the connection stayed open"))?;
        assert_eq!(closed?, 0);
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .map_err(|_| std::io::Error::other("serve did not return"))?
            .map_err(std::io::Error::other)??;
        Ok(())
    }
}
