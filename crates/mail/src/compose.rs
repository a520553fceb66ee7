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
