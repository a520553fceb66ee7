//! `/catalogue`: a catalogue as CSV, for a producer (its own) or a producers' group (a
//! coordinator: every producer of its market, a `producteur` column naming each line's).
//!
//! Export (`/catalogue/export.csv`) writes what LibreOffice opens as it is; import is an upload
//! (`POST /catalogue/import`, `multipart/form-data`: `csrf`, `file`) answered by a preview, what
//! would be created, updated or refused with an error per cell naming its line and column, and
//! a confirm (`POST /catalogue/import/confirm`, the same file carried back in a hidden field)
//! that applies it and redirects to `/catalogue?done=catalogue-imported`.
//!
//! Both are read, CSRF token first, by [`Submission`] as every form is. The edge lets these two
//! addresses send up to [`UPLOAD_LIMIT`] bytes and leaves their NUL check to it (see
//! `startup.rs`): it checks the text fields, and the file is judged here, since a spreadsheet
//! saved as .ods or .xlsx, or a CSV in UTF-16, holds NUL bytes, and deserves a page saying to
//! save it as CSV in UTF-8 rather than the edge's JSON 422.

use std::sync::Arc;

use poem::{
    IntoResponse, Response, handler,
    http::{StatusCode, header},
    web::Data,
};
use serde_json::{Value, json};
use store::{
    Role,
    catalogue_csv::{CellError, ImportPlan, RowAction},
};

use super::{PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other, visitor::Form};

/// The largest CSV file the import takes (and the edge lets through on its two addresses):
/// some 30,000 product lines, far above a producers' group's catalogue.
pub(crate) const UPLOAD_LIMIT: usize = 4 * 1024 * 1024;

/// Whether a request to `path` is a catalogue upload (the edge's larger limit, NUL checked
/// here).
pub(crate) fn is_upload(path: &str) -> bool {
    matches!(path, "/catalogue/import" | "/catalogue/import/confirm")
}

/// Who may use these pages: producers and coordinators (and admins).
fn manager(v: &Visitor) -> Result<&store::Actor, PageError> {
    v.with_role(&[Role::Producer, Role::Coordinator])
}

/// The back link: the producer's products, or the coordinator's desk.
fn back_of(a: &store::Actor) -> &'static str {
    if a.role == Role::Producer {
        "/producer/products"
    } else {
        "/desk"
    }
}

/// `/catalogue`: export link, upload form.
#[handler]
pub(crate) async fn catalogue_page(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let a = manager(&v)?;
        let producers = site.store.catalogue_producers(a).await?;
        Ok(upload_page(&site, &v, StatusCode::OK, a, &producers, None))
    }
    .await;
    answer(&site, &v, r)
}

fn upload_page(
    site: &Site,
    v: &Visitor,
    status: StatusCode,
    a: &store::Actor,
    producers: &[(i64, String)],
    error: Option<String>,
) -> Response {
    site.render(
        v,
        status,
        "catalogue/index",
        "catalogue-title",
        json!({
            "group": producers.len() > 1,
            "producers": producers.iter().map(|(_, n)| n).collect::<Vec<_>>(),
            "back": back_of(a),
            "error": error,
        }),
    )
}

/// `/catalogue/export.csv`: the active products as CSV (French: `;` and decimal commas).
#[handler]
pub(crate) async fn export_csv(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let a = manager(&v)?;
        let group = site.store.catalogue_producers(a).await?.len() > 1;
        let products = site.store.catalogue_export(a).await?;
        let bytes =
            store::catalogue_csv::export(&products, v.lang == Lang::Fr, group).map_err(|e| {
                tracing::error!(error = %e, "a catalogue export failed");
                PageError::Internal
            })?;
        let name = if v.lang == Lang::Fr {
            "catalogue.csv"
        } else {
            "products.csv"
        };
        Ok(v.finish(
            Response::builder()
                .status(StatusCode::OK)
                .content_type("text/csv; charset=utf-8")
                .header(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                )
                .header(header::CACHE_CONTROL, "no-store")
                .body(bytes)
                .into_response(),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// The file as text, or the message saying why it is not one we read.
fn text_of(site: &Site, lang: Lang, bytes: Option<Vec<u8>>) -> Result<String, String> {
    let bytes = bytes.unwrap_or_default();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(site.t(lang, "catalogue-error-empty"));
    }
    if bytes.contains(&0) {
        return Err(site.t(lang, "catalogue-error-not-csv"));
    }
    String::from_utf8(bytes).map_err(|_| site.t(lang, "catalogue-error-not-utf8"))
}

/// One refused cell in words: "line 3, column « prix »: « abc » is not a number".
fn cell_error(site: &Site, lang: Lang, e: &CellError) -> String {
    site.t_with(
        lang,
        "catalogue-cell-error",
        &[
            ("line", e.line.to_string()),
            ("column", e.column.clone()),
            ("value", e.value.clone()),
            (
                "problem",
                site.t(lang, &format!("import-problem-{}", e.problem.code())),
            ),
        ],
    )
}

fn preview_page(
    site: &Site,
    v: &Visitor,
    a: &store::Actor,
    plan: &ImportPlan,
    text: &str,
) -> Response {
    let lang = v.lang;
    let rows: Vec<Value> = plan
        .rows
        .iter()
        .map(|r| {
            let (action, errors) = match &r.action {
                RowAction::Create => (site.t(lang, "catalogue-action-create"), Vec::new()),
                RowAction::Update { .. } => (site.t(lang, "catalogue-action-update"), Vec::new()),
                RowAction::Refused(errors) => (
                    site.t(lang, "catalogue-action-refused"),
                    errors.iter().map(|e| cell_error(site, lang, e)).collect(),
                ),
            };
            json!({
                "line": r.line,
                "producer": r.producer.as_ref().map(|p| p.1.clone()),
                "name": Some(r.name.clone()).filter(|n| !n.is_empty()),
                "reference": r.product.as_ref().and_then(|p| p.reference.clone()),
                "action": action,
                "refused": matches!(r.action, RowAction::Refused(_)),
                "errors": errors,
            })
        })
        .collect();
    let accepted = plan.creates() + plan.updates();
    let status = if plan.missing_columns.is_empty() && accepted > 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    site.render(
        v,
        status,
        "catalogue/preview",
        "catalogue-preview-title",
        json!({
            "missing": (!plan.missing_columns.is_empty()).then(|| plan.missing_columns.join(", ")),
            "creates": plan.creates(),
            "updates": plan.updates(),
            "refused": plan.refused(),
            "accepted": accepted,
            "rows": rows,
            "group": rows.iter().any(|r| r["producer"].is_string()) && a.role != Role::Producer,
            "csv": text,
            "back": back_of(a),
        }),
    )
}

/// The posted file as text: the upload's `file`, or the confirm's `csv` carried back (a hidden
/// field, or a file for a client that sends it so).
fn posted_text(site: &Site, lang: Lang, form: &mut Form) -> Result<String, String> {
    let bytes = match form.take_file("file").or_else(|| form.take_file("csv")) {
        Some(upload) => Some(upload.bytes),
        None => form
            .pairs()
            .find(|(name, _)| *name == "csv")
            .map(|(_, text)| text.as_bytes().to_vec()),
    };
    text_of(site, lang, bytes)
}

/// `POST /catalogue/import`: the preview of an uploaded file.
#[handler]
pub(crate) async fn import_preview(site: Data<&Arc<Site>>, s: Submission) -> Response {
    let Submission {
        visitor: v,
        mut form,
    } = s;
    let r = async {
        let text = posted_text(&site, v.lang, &mut form);
        let a = manager(&v)?;
        match text {
            Ok(text) => {
                let plan = site.store.plan_catalogue_import(a, &text).await?;
                Ok(preview_page(&site, &v, a, &plan, &text))
            }
            Err(message) => {
                let producers = site.store.catalogue_producers(a).await?;
                Ok(upload_page(
                    &site,
                    &v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    a,
                    &producers,
                    Some(message),
                ))
            }
        }
    }
    .await;
    answer(&site, &v, r)
}

/// `POST /catalogue/import/confirm`: applies the previewed file, then back to `/catalogue`.
#[handler]
pub(crate) async fn import_confirm(site: Data<&Arc<Site>>, s: Submission) -> Response {
    let Submission {
        visitor: v,
        mut form,
    } = s;
    let r = async {
        let text = posted_text(&site, v.lang, &mut form);
        let a = manager(&v)?;
        let text = text.map_err(PageError::BadRequest)?;
        site.store.import_catalogue(a, &text).await?;
        Ok(see_other(&v, "/catalogue?done=catalogue-imported"))
    }
    .await;
    answer(&site, &v, r)
}
