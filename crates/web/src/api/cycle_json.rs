//! The answer of `GET /cycles/{id}`, the read every visitor of a shop makes: serialized once per
//! version of what the cycle shows (see `store::ShownCycle`), gzipped once per version for the
//! clients that accept it, with a strong `ETag` so that a client holding the same bytes gets a
//! `304`. The body is byte for byte what `Json<CycleDto>` would send; the document declares the
//! same schema, plus the `304`.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hasher},
    sync::{Arc, Mutex, OnceLock},
};

use bytes::Bytes;
use flate2::Compression;
use poem::{
    IntoResponse, Response,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};
use poem_openapi::{
    ApiResponse,
    payload::Json,
    registry::{MetaResponse, MetaResponses, Registry},
    types::ToJSON,
};
use store::ShownCycle;

use super::dto::CycleDto;
use crate::{
    ApiError,
    compress::{accepts_gzip, gzip},
    error::ErrorBody,
};

/// The most cycles whose bytes are kept; past it the map starts again empty.
const MAX_CYCLES: usize = 256;

/// One version of a cycle, encoded.
pub(crate) struct Encoded {
    version: u64,
    json: Bytes,
    /// `"<hash of the JSON>"`; the gzip body's tag is this with `-gz` (another representation,
    /// another strong tag).
    etag: String,
    /// Compressed on the first client that accepts gzip, once per version.
    gzip: OnceLock<Bytes>,
}

impl Encoded {
    fn new(shown: &ShownCycle) -> Result<Self, ApiError> {
        let dto = CycleDto::from(shown.view.clone());
        // What `Json<CycleDto>` sends: poem's `Json` over the value `ToJSON` gives.
        let json = serde_json::to_vec(&dto.to_json()).map_err(|e| {
            tracing::error!(error = %e, "serializing a cycle");
            ApiError::Internal(ErrorBody::new(
                "internal",
                "something went wrong on our side; please try again",
            ))
        })?;
        let mut hasher = DefaultHasher::new();
        hasher.write(&json);
        Ok(Self {
            version: shown.version,
            etag: format!("\"{:016x}-{}\"", hasher.finish(), json.len()),
            json: Bytes::from(json),
            gzip: OnceLock::new(),
        })
    }

    fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| gzip(&self.json, Compression::best()))
            .clone()
    }
}

/// The encoded bytes of each cycle's latest version.
#[derive(Default)]
pub(crate) struct CycleBytes {
    cycles: Mutex<HashMap<i64, Arc<Encoded>>>,
}

impl CycleBytes {
    /// The bytes of `shown`, encoded now if this version was not yet.
    pub(crate) fn of(&self, shown: &ShownCycle) -> Result<Arc<Encoded>, ApiError> {
        let id = shown.view.cycle.id;
        if let Some(e) = self.kept(id).filter(|e| e.version == shown.version) {
            return Ok(e);
        }
        // Encoded outside the lock: two readers of a new version may both encode it (a few
        // hundred microseconds), none waits for the other.
        let fresh = Arc::new(Encoded::new(shown)?);
        if let Ok(mut cycles) = self.cycles.lock() {
            if cycles.len() >= MAX_CYCLES {
                cycles.clear();
            }
            match cycles.get(&id) {
                // A newer version was kept meanwhile: keep it, answer with ours.
                Some(kept) if kept.version > fresh.version => {}
                _ => {
                    cycles.insert(id, fresh.clone());
                }
            }
        }
        Ok(fresh)
    }

    fn kept(&self, id: i64) -> Option<Arc<Encoded>> {
        self.cycles.lock().ok()?.get(&id).cloned()
    }
}

/// A cycle's JSON, as the request asked for it.
pub(crate) struct CycleJson {
    encoded: Arc<Encoded>,
    gzip: bool,
    not_modified: bool,
}

impl CycleJson {
    /// The answer to a request with these headers.
    pub(crate) fn answer(encoded: Arc<Encoded>, headers: &HeaderMap) -> Self {
        let gzip = accepts_gzip(headers);
        let etag = etag(&encoded, gzip);
        let not_modified = headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag);
        Self {
            encoded,
            gzip,
            not_modified,
        }
    }
}

fn etag(encoded: &Encoded, gzip: bool) -> String {
    if gzip {
        format!("{}-gz\"", encoded.etag.trim_end_matches('"'))
    } else {
        encoded.etag.clone()
    }
}

impl IntoResponse for CycleJson {
    fn into_response(self) -> Response {
        let tag = etag(&self.encoded, self.gzip);
        let mut builder = Response::builder()
            .header(header::VARY, HeaderValue::from_static("accept-encoding"))
            // Stored by browsers and proxies, but asked again (with the ETag) before each use:
            // stock changes at any time.
            .header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
            .header(header::ETAG, tag);
        if self.not_modified {
            return builder.status(StatusCode::NOT_MODIFIED).finish();
        }
        builder = builder.content_type("application/json; charset=utf-8");
        if self.gzip {
            builder
                .header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))
                .body(self.encoded.gzip())
        } else {
            builder.body(self.encoded.json.clone())
        }
    }
}

impl ApiResponse for CycleJson {
    fn meta() -> MetaResponses {
        let mut meta = Json::<CycleDto>::meta();
        meta.responses.push(MetaResponse {
            description: "Not modified: the client's `If-None-Match` names this very content \
                          (its `ETag`).",
            status: Some(304),
            status_range: None,
            content: vec![],
            headers: vec![],
        });
        meta
    }

    fn register(registry: &mut Registry) {
        Json::<CycleDto>::register(registry);
    }
}
