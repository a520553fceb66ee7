//! Log lines on standard output, filtered by `RUST_LOG` (default: info, quiet database crates),
//! as text for a person or as one JSON object a line for a log collector (`--log-format json`
//! or `HALLE_LOG_FORMAT=json`). Every line written while a request is served carries that
//! request's id (the `request` span of `web`, whose `id` is also the answer's `X-Request-Id`).

/// How log lines are written.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the current span's fields (the request id among them).
    Json,
}

/// Installs the process's log subscriber.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
