//! HTML output: Handlebars templates from `templates/print/*.hbs`, embedded
//! in the binary with `include_str!`, rendered from the [`view`](crate::view)
//! models.
//!
//! One registry is built on first use and shared ([`OnceLock`]). It runs in
//! strict mode (a template naming a field the view lacks is an error, not an
//! empty string) and keeps Handlebars' default HTML escaping, so a consumer
//! called `<script>` prints as text. The pages need no JavaScript and carry
//! their own print CSS (A4, margins, repeated table headers, page breaks).
//!
//! Formatting helpers are registered for template authors; they take raw
//! values and a language code (prefixed `fmt_` so they never shadow a view
//! field such as `quantity`):
//! `{{fmt_money "12.6" "fr"}}` → `12,60 €`, `{{fmt_quantity "1.500" "fr"}}` → `1,5`,
//! `{{fmt_datetime "2026-11-26T16:30:00Z" "Europe/Paris" "fr"}}` →
//! `jeudi 26 novembre 2026, 17:30`. The shipped templates print the
//! pre-formatted strings of the views, so HTML and PDF always agree.

use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::format;
use crate::{Lang, PrintError};

const STYLES: &str = include_str!("../../../templates/print/styles.hbs");
const PICKING: &str = include_str!("../../../templates/print/picking.hbs");
const LABELS: &str = include_str!("../../../templates/print/labels.hbs");
const SHEET: &str = include_str!("../../../templates/print/sheet.hbs");
const ROUND: &str = include_str!("../../../templates/print/round.hbs");
const RECEIPT: &str = include_str!("../../../templates/print/receipt.hbs");
const SETTLEMENT: &str = include_str!("../../../templates/print/settlement.hbs");

/// Name of the picking list template.
pub(crate) const T_PICKING: &str = "picking";
/// Name of the labels template.
pub(crate) const T_LABELS: &str = "labels";
/// Name of the distribution sheet template.
pub(crate) const T_SHEET: &str = "sheet";
/// Name of the round template.
pub(crate) const T_ROUND: &str = "round";
/// Name of the receipt template.
pub(crate) const T_RECEIPT: &str = "receipt";
/// Name of the settlement template.
pub(crate) const T_SETTLEMENT: &str = "settlement";

static REGISTRY: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();

fn build() -> Result<Handlebars<'static>, String> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.set_prevent_indent(true);
    hb.register_partial("styles", STYLES)
        .map_err(|e| e.to_string())?;
    for (name, source) in [
        (T_PICKING, PICKING),
        (T_LABELS, LABELS),
        (T_SHEET, SHEET),
        (T_ROUND, ROUND),
        (T_RECEIPT, RECEIPT),
        (T_SETTLEMENT, SETTLEMENT),
    ] {
        hb.register_template_string(name, source)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    register_text_helper(&mut hb, "fmt_money", money);
    register_text_helper(&mut hb, "fmt_quantity", quantity);
    register_text_helper(&mut hb, "fmt_datetime", datetime);
    Ok(hb)
}

fn registry() -> Result<&'static Handlebars<'static>, PrintError> {
    REGISTRY
        .get_or_init(build)
        .as_ref()
        .map_err(|e| PrintError::TemplateSetup(e.clone()))
}

/// Renders a view with one of the templates.
pub(crate) fn render<T: Serialize>(template: &str, view: &T) -> Result<Vec<u8>, PrintError> {
    let html = registry()?.render(template, view)?;
    Ok(html.into_bytes())
}

/// A parameter as text: strings as they are, numbers in their JSON form.
fn param_text(h: &Helper<'_>, index: usize, helper: &'static str) -> Result<String, PrintError> {
    match h.param(index).map(|p| p.value()) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        _ => Err(PrintError::Helper(format!(
            "{helper}: parameter {} must be a string or a number",
            index + 1
        ))),
    }
}

fn param_lang(h: &Helper<'_>, index: usize, helper: &'static str) -> Result<Lang, PrintError> {
    Lang::from_str(&param_text(h, index, helper)?)
}

fn helper_error(e: PrintError) -> handlebars::RenderError {
    RenderErrorReason::Other(e.to_string()).into()
}

/// A parameter parsed with `parse`, its error said in the helper's name.
fn param_parsed<T, E: std::fmt::Display>(
    h: &Helper<'_>,
    index: usize,
    helper: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, PrintError> {
    parse(&param_text(h, index, helper)?).map_err(|e| PrintError::Helper(format!("{helper}: {e}")))
}

/// Registers a helper that formats its parameters as text, written HTML-escaped.
fn register_text_helper(
    hb: &mut Handlebars<'static>,
    name: &'static str,
    format: fn(&Helper<'_>) -> Result<String, PrintError>,
) {
    hb.register_helper(
        name,
        Box::new(
            move |h: &Helper<'_>,
                  _: &Handlebars<'_>,
                  _: &Context,
                  _: &mut RenderContext<'_, '_>,
                  out: &mut dyn Output|
                  -> HelperResult {
                let text = format(h).map_err(helper_error)?;
                out.write(&handlebars::html_escape(&text))?;
                Ok(())
            },
        ),
    );
}

fn money(h: &Helper<'_>) -> Result<String, PrintError> {
    let amount = param_parsed(h, 0, "money", Decimal::from_str)?;
    let lang = param_lang(h, 1, "money")?;
    Ok(format::money(domain::round_cents(amount), lang))
}

fn quantity(h: &Helper<'_>) -> Result<String, PrintError> {
    let value = param_parsed(h, 0, "quantity", Decimal::from_str)?;
    let q =
        domain::Quantity::new(value).map_err(|e| PrintError::Helper(format!("quantity: {e}")))?;
    let lang = param_lang(h, 1, "quantity")?;
    Ok(format::quantity(q, lang))
}

fn datetime(h: &Helper<'_>) -> Result<String, PrintError> {
    let at = param_parsed(h, 0, "datetime", DateTime::parse_from_rfc3339)?.with_timezone(&Utc);
    let tz = param_parsed(h, 1, "datetime", chrono_tz::Tz::from_str)?;
    let lang = param_lang(h, 2, "datetime")?;
    Ok(format::date_time(at, tz, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_inline(source: &str) -> String {
        let Ok(hb) = registry() else {
            panic!("registry builds");
        };
        match hb.render_template(source, &serde_json::json!({})) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn every_template_compiles_in_strict_mode() {
        assert!(registry().is_ok(), "{:?}", registry().err());
    }

    #[test]
    fn the_money_helper_formats_french_amounts() {
        assert_eq!(
            render_inline(r#"{{fmt_money "12.6" "fr"}}"#),
            "12,60\u{a0}€"
        );
        assert_eq!(render_inline(r#"{{fmt_money "1234.5" "en"}}"#), "€1,234.50");
    }

    #[test]
    fn the_quantity_and_datetime_helpers_format_like_the_views() {
        assert_eq!(render_inline(r#"{{fmt_quantity "1.500" "fr"}}"#), "1,5");
        assert_eq!(
            render_inline(r#"{{fmt_datetime "2026-11-26T16:30:00Z" "Europe/Paris" "fr"}}"#),
            "jeudi 26 novembre 2026, 17:30"
        );
    }

    #[test]
    fn a_helper_with_a_bad_parameter_is_an_error_not_a_guess() {
        let Ok(hb) = registry() else {
            panic!("registry builds");
        };
        assert!(
            hb.render_template(r#"{{fmt_money "douze" "fr"}}"#, &serde_json::json!({}))
                .is_err()
        );
    }
}
