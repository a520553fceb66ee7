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
//! 200 connections on 2 cores, five alternated runs each): p99 20.2–31.6 ms (mean 24.7) with
//! 61, 17.8–21.5 (mean 20.5) with 4, 16.8–22.7 (mean 19.1) with 2, at the same rate. Lower
//! than 4 did not help more and seemed to cost the shop page on PostgreSQL some pages per
//! second (its session probes, shared by the pages that wait for them, answer fewer at a
//! time); 4 served it as 61 did (17,500–19,900 pages/s against 18,200–19,500).
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
