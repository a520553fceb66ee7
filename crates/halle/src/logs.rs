//! Log lines on standard output, filtered by `RUST_LOG` (default: info, quiet database crates),
//! as text for a person or as one JSON object a line for a log collector (`--log-format json`
//! or `HALLE_LOG_FORMAT=json`). Every line written while a request is served carries that
//! request's id (the `request` span of `web`, whose `id` is also the answer's `X-Request-Id`).
//!
//! The lines are formatted where they happen and written in batches by a thread of their own
//! (`web::LogBuffer`, at most 50 ms later): a request no longer waits for a `write` to standard
//! output. Keep the [`web::LogGuard`] until the process ends: dropping it writes the rest.

/// How log lines are written.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the current span's fields (the request id among them).
    Json,
}

/// Installs the process's log subscriber, writing to standard output; keep the guard until the
/// process ends.
pub fn init(format: LogFormat) -> anyhow::Result<web::LogGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let (buffer, guard) = web::LogBuffer::new(std::io::stdout())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || buffer.clone());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Ok(guard)
}
