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
        Attachment, Mailbox, MultiPart,
        dkim::DkimConfig,
        header::{ContentType, HeaderName, HeaderValue},
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

/// A file sent with a message.
#[derive(Clone, Debug)]
pub struct MailAttachment {
    /// Its name, as the mail client offers to save it.
    pub file_name: String,
    /// `application/pdf`...
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
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
            "unsubscribe_url": ctx.unsubscribe_token.as_ref().map(|t| format!("{base}/unsubscribe/{t}"))
                .or_else(|| ctx.payload.get("unsubscribe_path").and_then(Value::as_str).map(|p| format!("{base}{p}"))),
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
        // The announcement of an opening and the reminder before close both point to the shop.
        if ctx.mail.kind == kind::CYCLE_OPEN || ctx.mail.kind == kind::CLOSING_REMINDER {
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
        if let Some(p) = &ctx.pickup {
            data["pickup"] = json!({
                "point": p.name,
                "address": p.address,
                "postal_code": p.postal_code,
                "city": p.city,
                "access_notes": Some(p.access_notes.trim()).filter(|n| !n.is_empty()),
            });
        }
        if let Some(list) = &ctx.picking_list {
            data["picking"] = picking_data(list, tz, lang);
            data["producer_url"] = json!(format!("{base}/producer/cycles/{}", list.cycle.id));
        }
        data["wishes_url"] = json!(format!("{base}/account/mail"));
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
        self.alert_data(ctx, lang, &mut data);
        data
    }

    /// What the directory's alert mails add: absolute links, distances in km in the
    /// recipient's language.
    fn alert_data(&self, ctx: &MailContext, lang: Lang, data: &mut Value) {
        let base = &self.base_url;
        let km = |m: Option<i64>| {
            let km = format!("{:.1}", m.unwrap_or(0) as f64 / 1000.0);
            if lang == Lang::Fr {
                km.replace('.', ",")
            } else {
                km
            }
        };
        let url = |p: &Value, key: &str| {
            p.get(key)
                .and_then(Value::as_str)
                .map(|p| format!("{base}{p}"))
        };
        match ctx.mail.kind.as_str() {
            kind::DIRECTORY_ALERT_CONFIRM => {
                data["confirm_url"] = json!(url(&ctx.payload, "confirm_path"));
            }
            kind::DIRECTORY_ALERT => {
                data["producer_url"] = json!(url(&ctx.payload, "producer_path"));
                data["distance"] = json!(km(ctx.payload.get("distance_m").and_then(Value::as_i64)));
            }
            kind::DIRECTORY_ALERT_DIGEST => {
                let producers: Vec<Value> = ctx
                    .payload
                    .get("producers")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .map(|p| {
                                json!({
                                    "name": p.get("name").cloned().unwrap_or_default(),
                                    "city": p.get("city").cloned().unwrap_or_default(),
                                    "url": url(p, "path"),
                                    "distance": km(p.get("distance_m").and_then(Value::as_i64)),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                data["producers"] = json!(producers);
            }
            _ => {}
        }
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
        let body = MultiPart::alternative_plain_html(text, html);
        let files = self.attachments(ctx)?;
        let body = if files.is_empty() {
            body
        } else {
            files.into_iter().try_fold(
                MultiPart::mixed().multipart(body),
                |mixed, f| -> Result<MultiPart, MailError> {
                    let content_type = ContentType::parse(&f.content_type)
                        .map_err(|e| MailError::Message(format!("{}: {e}", f.content_type)))?;
                    Ok(mixed.singlepart(Attachment::new(f.file_name).body(f.bytes, content_type)))
                },
            )?
        };
        let mut message = builder
            .multipart(body)
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

impl Composer {
    /// The files `ctx` goes with: a producer's picking list as PDF, in the recipient's
    /// language.
    pub fn attachments(&self, ctx: &MailContext) -> Result<Vec<MailAttachment>, MailError> {
        let Some(list) = &ctx.picking_list else {
            return Ok(Vec::new());
        };
        let lang = lang_of(&ctx.mail.language);
        let pdf = print::picking_lists(std::slice::from_ref(list), print::Format::Pdf, lang)
            .map_err(|e| MailError::Message(format!("picking list PDF: {e}")))?;
        Ok(vec![MailAttachment {
            file_name: pdf.file_name,
            content_type: pdf.content_type.to_owned(),
            bytes: pdf.bytes,
        }])
    }
}

/// A picking list as the mail templates read it: the totals per product, then one crate per
/// slot.
fn picking_data(list: &store::mail::context::PickingList, tz: Tz, lang: Lang) -> Value {
    let qty = |q, unit, kg: Option<_>| {
        let mut s = format::quantity_with_unit(q, unit, lang);
        if let Some(kg) = kg {
            s.push_str(&format!(" ({})", format::kg(kg, lang, true)));
        }
        s
    };
    let products: Vec<Value> = list
        .products
        .iter()
        .map(|p| {
            json!({
                "product": p.product_name,
                "quantity": qty(p.total_quantity, p.unit, p.estimated_kg),
            })
        })
        .collect();
    let points: Vec<Value> = list
        .points
        .iter()
        .map(|c| {
            json!({
                "point": c.slot.pickup_point_name,
                "address": c.slot.address,
                "slot": format::range(c.slot.starts_at, c.slot.ends_at, tz, lang),
                "items": c.items.iter().map(|i| json!({
                    "product": i.product_name,
                    "quantity": qty(i.quantity, i.unit, i.estimated_kg),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "cycle": list.cycle.name,
        "producer": list.producer_name,
        "products": products,
        "points": points,
        "baskets": list.labels.len(),
        "total": format::money(list.total_estimated, lang),
    })
}
