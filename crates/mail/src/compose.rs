//! From an outbox row and its context to a whole message: the JSON the templates read (amounts,
//! dates and quantities formatted for the recipient's language, in the market's time zone;
//! links absolute on the public URL), then the lettre `Message`.
//!
//! Headers: `From` (configured), `To` (the recipient, with their name), `Reply-To` (the
//! market's contact, when it has one), `Subject`, `Date`, a `Message-ID` of our own (the row's
//! id and a random part, on the sender's domain), `multipart/alternative` text then HTML.
//! Announcements (`store::outbox::kind::ANNOUNCEMENTS`) also carry `List-Unsubscribe` (the
//! one-click URL) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058);
//! transactional mails do not.

use chrono_tz::Tz;
use lettre::{
    Message,
    message::{
        Mailbox, MultiPart,
        dkim::DkimConfig,
        header::{HeaderName, HeaderValue},
    },
};
use print::{Lang, format};
use serde_json::{Value, json};
use store::{mail::context::MailContext, outbox::kind};

use crate::{MailError, Rendered, Renderer};

/// Everything needed to turn rows into messages.
pub struct Composer {
    /// The templates.
    pub renderer: Renderer,
    /// `From`.
    pub from: Mailbox,
    /// Where links point: `https://halle.example.org`, no trailing slash.
    pub base_url: String,
    /// Signs every message when set.
    pub dkim: Option<DkimConfig>,
}

/// A message ready for the transport.
pub struct Composed {
    /// The message.
    pub message: Message,
    /// Its `Message-ID` (with the angle brackets).
    pub message_id: String,
    /// Its subject.
    pub subject: String,
}

/// A staff role in words.
fn role_name(role: &str, lang: Lang) -> &'static str {
    match (role, lang) {
        ("producer", Lang::Fr) => "producteur ou productrice",
        ("volunteer", Lang::Fr) => "bénévole",
        ("host", Lang::Fr) => "hôte d’un point de retrait",
        ("coordinator", Lang::Fr) => "coordination",
        ("producer", Lang::En) => "producer",
        ("volunteer", Lang::En) => "volunteer",
        ("host", Lang::En) => "host of a pickup point",
        ("coordinator", Lang::En) => "coordinator",
        (_, Lang::Fr) => "équipe",
        (_, Lang::En) => "staff",
    }
}

/// An instant of a payload (RFC 3339), if it is one.
fn instant(payload: &Value, field: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    payload
        .get(field)
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Cents of a payload as an amount for people.
fn amount(payload: &Value, field: &str, lang: Lang) -> Value {
    payload
        .get(field)
        .and_then(Value::as_i64)
        .map_or(Value::Null, |c| {
            json!(format::money(domain::Money::from_cents(c), lang))
        })
}

/// What a slot change's templates read: the old and new times in the market's zone, the
/// place, the note, and which change it is.
fn slot_changed_data(data: &mut Value, payload: &Value, tz: Tz, lang: Lang) {
    let range = |from: &str, to: &str| match (instant(payload, from), instant(payload, to)) {
        (Some(s), Some(e)) => json!(format::range(s, e, tz, lang)),
        _ => Value::Null,
    };
    let change = payload.get("change").and_then(Value::as_str).unwrap_or("");
    data["cancelled"] = json!(change == "cancelled");
    data["restored"] = json!(change == "restored");
    data["moved"] = json!(change == "moved");
    data["old_slot"] = range("old_starts_at", "old_ends_at");
    data["new_slot"] = range("new_starts_at", "new_ends_at");
    data["point"] = payload["point"].clone();
    data["address"] = payload["address"].clone();
    data["note"] = json!(payload.get("note").and_then(Value::as_str).unwrap_or(""));
}

/// What a final amount's templates read: each line as ordered and as weighed, and both totals.
fn final_amount_data(data: &mut Value, payload: &Value, lang: Lang) {
    let lines: Vec<Value> = payload
        .get("lines")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    let unit = l
                        .get("unit")
                        .and_then(Value::as_str)
                        .and_then(|u| u.parse::<domain::Unit>().ok())
                        .unwrap_or(domain::Unit::Piece);
                    let quantity = domain::Quantity::from_milli(
                        l.get("quantity_milli").and_then(Value::as_i64).unwrap_or(0),
                    );
                    let weighed = l
                        .get("weighed_milli")
                        .and_then(Value::as_i64)
                        .map(|m| format::kg(domain::Quantity::from_milli(m), lang, false));
                    json!({
                        "product": l["product"],
                        "quantity": format::quantity_with_unit(quantity, unit, lang),
                        "weighed": weighed.unwrap_or_default(),
                        "estimated": amount(l, "estimated_cents", lang),
                        "final": amount(l, "final_cents", lang),
                        "changed": l.get("estimated_cents") != l.get("final_cents"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    data["lines"] = json!(lines);
    data["estimated"] = amount(payload, "estimated_cents", lang);
    data["final"] = amount(payload, "final_cents", lang);
}

fn lang_of(code: &str) -> Lang {
    if code == "en" { Lang::En } else { Lang::Fr }
}

impl Composer {
    /// The JSON the templates of `ctx`'s kind read.
    pub fn data(&self, ctx: &MailContext) -> Value {
        let lang = lang_of(&ctx.mail.language);
        let tz: Tz = ctx
            .market
            .as_ref()
            .and_then(|m| m.timezone.parse().ok())
            .unwrap_or(chrono_tz::Europe::Paris);
        let base = &self.base_url;
        let mut data = json!({
            "name": ctx.mail.recipient_name,
            "market": ctx.market.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
            "market_url": ctx.market.as_ref().map(|m| format!("{base}/m/{}", m.slug)).unwrap_or_else(|| format!("{base}/")),
            "base_url": base,
            "payload": ctx.payload,
            "unsubscribe_url": ctx.unsubscribe_token.as_ref().map(|t| format!("{base}/unsubscribe/{t}")),
        });
        if let Some(o) = &ctx.order {
            let lines: Vec<Value> = o
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "product": l.product_name,
                        "producer": l.producer_name,
                        "quantity": format::quantity_with_unit(l.quantity, l.pricing.unit, lang),
                        "unit_price": format::money(l.unit_price, lang),
                        "total": format::money(l.total, lang),
                        "estimated": l.pricing.variable_weight.is_some(),
                    })
                })
                .collect();
            let vat: Vec<Value> = o
                .totals
                .vat
                .iter()
                .map(|v| {
                    json!({
                        "rate": v.rate.to_string(),
                        "vat": format::money(v.vat, lang),
                        "net": format::money(v.net, lang),
                    })
                })
                .collect();
            data["order"] = json!({
                "id": o.id,
                "url": format!("{base}/orders/{}", o.id),
                "lines": lines,
                "total": format::money(o.totals.total, lang),
                "vat": vat,
                "slot": format::range(o.slot.starts_at, o.slot.ends_at, tz, lang),
                "point": o.slot.pickup_point_name,
                "address": o.slot.pickup_point_address,
                "cancelled": o.status == "cancelled",
            });
        }
        if ctx.mail.kind == kind::CYCLE_OPEN {
            let cycle = ctx.payload.get("cycle_id").and_then(Value::as_i64);
            data["shop_url"] = json!(cycle.map(|c| format!("{base}/shop/{c}")));
            data["closes"] = json!(
                ctx.payload
                    .get("closes_at")
                    .and_then(Value::as_str)
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| format::date_time(t.with_timezone(&chrono::Utc), tz, lang))
            );
        }
        if ctx.mail.kind == kind::INVITATION {
            let path = ctx
                .payload
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("/");
            data["link"] = json!(format!("{base}{path}"));
            let role = ctx
                .payload
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("");
            data["role"] = json!(role_name(role, lang));
        }
        if ctx.mail.kind == kind::PASSWORD_RESET {
            // No path (the link was used or has expired, and forgotten): strict rendering
            // refuses it, and the row is given up rather than sent without a link.
            if let Some(path) = ctx.payload.get("path").and_then(Value::as_str) {
                data["link"] = json!(format!("{base}{path}"));
            }
            data["minutes"] = ctx.payload["minutes"].clone();
        }
        if ctx.mail.kind == kind::SLOT_CHANGED {
            slot_changed_data(&mut data, &ctx.payload, tz, lang);
        }
        if ctx.mail.kind == kind::FINAL_AMOUNT {
            final_amount_data(&mut data, &ctx.payload, lang);
        }
        data
    }

    /// Renders `ctx` and builds its message.
    pub fn compose(&self, ctx: &MailContext) -> Result<Composed, MailError> {
        let data = self.data(ctx);
        let lang = if ctx.mail.language == "en" {
            "en"
        } else {
            "fr"
        };
        let Rendered {
            subject,
            text,
            html,
        } = self.renderer.render(&ctx.mail.kind, lang, &data)?;
        let to = Mailbox::new(
            Some(ctx.mail.recipient_name.clone()).filter(|n| !n.is_empty()),
            ctx.mail.recipient.parse().map_err(|e| {
                MailError::Message(format!("recipient {:?}: {e}", ctx.mail.recipient))
            })?,
        );
        let domain = self.from.email.domain().to_owned();
        let message_id = format!(
            "<halle.{}.{}@{domain}>",
            ctx.mail.id,
            hex::encode(rand::random::<[u8; 8]>())
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject.clone())
            .message_id(Some(message_id.clone()))
            .date_now();
        if let Some(reply_to) = ctx.reply_to.as_ref().and_then(|r| r.parse().ok()) {
            let name = ctx.market.as_ref().map(|m| m.name.clone());
            builder = builder.reply_to(Mailbox::new(name, reply_to));
        }
        let mut message = builder
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| MailError::Message(e.to_string()))?;
        if kind::ANNOUNCEMENTS.contains(&ctx.mail.kind.as_str())
            && let Some(url) = data["unsubscribe_url"].as_str()
        {
            let headers = message.headers_mut();
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ));
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
        }
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(Composed {
            message,
            message_id,
            subject,
        })
    }
}
