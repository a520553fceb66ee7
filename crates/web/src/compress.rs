//! gzip for large textual answers (CSV and HTML documents, lists, the API docs, pages to come)
//! when the client accepts it.
//!
//! Not poem's `compression` feature: it takes async-compression with gzip, deflate, brotli *and*
//! zstd, a C library built by `cc` (minutes of build on two cores, a C toolchain in every
//! build) for codings no answer needs; flate2 (pure Rust, miniz_oxide) is already built for
//! the PDF documents. gzip is what every browser and HTTP client accepts.
//!
//! The cycle's JSON (`api::cycle_json`) comes gzipped once per version and passes through
//! untouched, as does anything already encoded, small (under [`MIN_BYTES`]: the gain is less
//! than the headers) or not textual (PDF is compressed already).

use std::io::Write;

use bytes::Bytes;
use flate2::{Compression, write::GzEncoder};
use poem::{
    Body, Endpoint, Request, Response,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};

/// Answers shorter than this go as they are.
const MIN_BYTES: usize = 1024;

/// Bodies larger than this are compressed on a blocking thread, off the async workers.
const BLOCKING_BYTES: usize = 64 * 1024;

/// Whether answers of this media type are worth compressing.
fn compressible(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || matches!(
            media.as_str(),
            "application/json" | "application/javascript" | "image/svg+xml"
        )
}

/// Calls `ep` and gzips its answer when the request accepts gzip and the answer is worth it.
pub(crate) async fn gzip_answer<E: Endpoint>(ep: &E, req: Request) -> poem::Result<Response> {
    let wants_gzip = accepts_gzip(req.headers());
    let resp = ep.get_response(req).await;
    let textual = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(compressible);
    let status = resp.status();
    if !textual
        || resp.headers().contains_key(header::CONTENT_ENCODING)
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(resp);
    }
    let (mut parts, body) = resp.into_parts();
    let varies = parts
        .headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("accept-encoding"));
    if !varies {
        parts
            .headers
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if !wants_gzip {
        return Ok(Response::from_parts(parts, body));
    }
    let bytes = body.into_bytes().await?;
    if bytes.len() < MIN_BYTES {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    }
    let gz = if bytes.len() > BLOCKING_BYTES {
        let level = Compression::default();
        let input = bytes.clone();
        match tokio::task::spawn_blocking(move || gzip(&input, level)).await {
            Ok(gz) => gz,
            Err(_) => return Ok(Response::from_parts(parts, Body::from(bytes))),
        }
    } else {
        gzip(&bytes, Compression::default())
    };
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.remove(header::CONTENT_LENGTH);
    // Other bytes, so not the same strong validator.
    if let Some(tag) = parts.headers.get(header::ETAG).cloned()
        && let Ok(tag) = tag.to_str()
        && !tag.starts_with("W/")
        && let Ok(weak) = HeaderValue::from_str(&format!("W/{tag}"))
    {
        parts.headers.insert(header::ETAG, weak);
    }
    Ok(Response::from_parts(parts, Body::from(gz)))
}

/// Gzips `bytes` (into memory, which cannot fail).
pub(crate) fn gzip(bytes: &[u8], level: Compression) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), level);
    // Writing to a Vec never fails; should it, the body goes uncompressed rather than lost.
    match encoder.write_all(bytes).and_then(|()| encoder.finish()) {
        Ok(gz) => Bytes::from(gz),
        Err(_) => Bytes::copy_from_slice(bytes),
    }
}

/// Whether the client takes gzip: `gzip` (or `*`) listed in `Accept-Encoding` without `q=0`.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}
