//! The answer of the document endpoints (lists, labels, sheets, rounds): one rendered document
//! whose media type depends on the format asked. poem-openapi's derive gives one payload type
//! per response, and `Binary` documents itself as `application/octet-stream`; this response
//! declares the four media types it really sends.

use poem::{IntoResponse, Response, http::header};
use poem_openapi::{
    ApiResponse,
    payload::Binary,
    registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef},
};

/// The media types a document comes in, with the schema of each body.
pub(crate) const MEDIA_TYPES: [&str; 4] = [
    "application/json",
    "text/html",
    "text/csv",
    "application/pdf",
];

/// A rendered list or sheet: the bytes, their `Content-Type` and their `Content-Disposition`.
pub(crate) enum Document {
    /// The document, in the format asked.
    Ok(Binary<Vec<u8>>, String, String),
}

impl IntoResponse for Document {
    fn into_response(self) -> Response {
        let Document::Ok(Binary(bytes), content_type, disposition) = self;
        Response::builder()
            .content_type(content_type)
            .header(header::CONTENT_DISPOSITION, disposition)
            .body(bytes)
    }
}

fn schema(media_type: &str) -> MetaSchemaRef {
    let schema = match media_type {
        // Each list has its own JSON shape, the same values as the printed document.
        "application/json" => MetaSchema::ANY,
        "application/pdf" => MetaSchema::new_with_format("string", "binary"),
        _ => MetaSchema::new("string"),
    };
    MetaSchemaRef::Inline(Box::new(schema))
}

impl ApiResponse for Document {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The document, in the format asked (`?format=`, else the `Accept` \
                              header, else JSON): application/json, text/html, text/csv (UTF-8 \
                              with BOM, `;` separator and decimal comma in French) or \
                              application/pdf.",
                status: Some(200),
                status_range: None,
                content: MEDIA_TYPES
                    .iter()
                    .map(|&content_type| MetaMediaType {
                        content_type,
                        schema: schema(content_type),
                    })
                    .collect(),
                headers: vec![MetaHeader {
                    name: "Content-Disposition".to_owned(),
                    description: Some(
                        "inline for JSON and HTML, attachment for CSV and PDF, with a file name"
                            .to_owned(),
                    ),
                    required: true,
                    deprecated: false,
                    schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
                }],
            }],
        }
    }

    fn register(_registry: &mut poem_openapi::registry::Registry) {}
}
