//! The directory's script and map library, served from the binary: Leaflet 1.9.4 as npm ships
//! it (`templates/static/leaflet/`, BSD-2-Clause, its LICENSE beside it) and
//! `directory-map.js`, which adds "use my position" and, when a tile server is configured
//! (`--map-tiles`), draws the results of the list on a map. Without JavaScript the list is the
//! whole page.

use poem::{
    Response, handler,
    http::{StatusCode, header},
    web::Path,
};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../templates/static/"]
struct Static;

/// Where the page finds them.
pub(crate) const PATHS: (&str, &str, &str) = (
    "/static/leaflet/leaflet.js",
    "/static/leaflet/leaflet.css",
    "/static/leaflet/directory-map.js",
);

/// `/static/leaflet/{leaflet.js, leaflet.css, directory-map.js}`.
#[handler]
pub(crate) fn leaflet(file: Path<String>) -> Response {
    let (path, kind) = match file.as_str() {
        "leaflet.js" => ("leaflet/leaflet.js", "text/javascript; charset=utf-8"),
        "leaflet.css" => ("leaflet/leaflet.css", "text/css; charset=utf-8"),
        "directory-map.js" => ("directory-map.js", "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into(),
    };
    match Static::get(path) {
        Some(f) => Response::builder()
            .status(StatusCode::OK)
            .content_type(kind)
            .header(header::CACHE_CONTROL, "public, max-age=86400")
            .body(f.data.into_owned()),
        None => StatusCode::NOT_FOUND.into(),
    }
}
