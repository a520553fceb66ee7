//! The tokio runtime a serving node runs on (`halle serve`, `halle demo`, every command of the
//! `halle` binary, and the benchmarks that host a server, so that they measure what production
//! runs).
//!
//! One setting differs from tokio's defaults: a busy worker looks for ready sockets every
//! [`EVENT_INTERVAL`] tasks instead of every 61. Under a rush every connection is busy, so the
//! workers seldom run out of tasks (the other time they look); with the default, requests
//! whose bytes had arrived waited behind up to 61 tasks before the workers learnt of them, then
//! came in a burst, and some connections were served several times while others waited.
//! Looking more often costs an `epoll_wait` that returns at once every few tasks.
//!
//! Measured side by side (BENCHMARKS.md, 7 December, fourth session; the directory search with
//! 200 connections on 2 cores, alternated runs): p99 mean 26.2 ms over 14 runs with 61
//! (16.6–37.6), 21.7 over 14 with 4 (17.2–27.0), 19.3 over 10 with 2 (16.8–22.7), at the
//! same rate. The price is on the shop page on PostgreSQL, whose session probes are shared by
//! the pages that wait for them: looking sooner answers each probe sooner, so fewer pages
//! share the next (three runs each: plain 17,200 pages/s with 61, 16,500 with 4, 13,200 with
//! 2; gzipped 25,900, 20,800, 18,100). 4 is the compromise; the probing task now yields once
//! before taking its batch (`store::sessions`).
//!
//! `TOKIO_WORKER_THREADS` still sets the number of workers (one per core by default).

/// Tasks a worker runs between two looks at the sockets (tokio's default: 61).
pub const EVENT_INTERVAL: u32 = 4;

/// The multi-threaded runtime of a serving node, with every driver on.
pub fn server_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .event_interval(EVENT_INTERVAL)
        .build()
}
