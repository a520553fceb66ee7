//! Subject, text and HTML of a message from the handlebars templates of `templates/mail/`,
//! embedded in the binary: `{lang}/{kind}.subject.hbs`, `{lang}/{kind}.txt.hbs` and
//! `{lang}/{kind}.html.hbs`, plus the HTML frame shared by every message (`layout.html.hbs`,
//! used as a partial block). Pure: the same value gives the same bytes.
//!
//! Subjects and text parts are rendered without HTML escaping (they are not HTML); the HTML
//! part escapes everything it is given. Strict mode: a template naming a value the data lacks
//! is an error, not an empty string.

use handlebars::Handlebars;
use serde_json::Value;

use crate::MailError;

#[derive(rust_embed::Embed)]
#[folder = "../../templates/mail/"]
struct Templates;

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part.
    pub html: String,
}

/// The templates, loaded once.
pub struct Renderer {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl Renderer {
    /// Loads every template of `templates/mail/`.
    pub fn new() -> Result<Self, MailError> {
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        for file in Templates::iter() {
            let Some(name) = file.strip_suffix(".hbs") else {
                continue;
            };
            let body = Templates::get(&file)
                .map(|f| String::from_utf8_lossy(&f.data).into_owned())
                .ok_or_else(|| MailError::Template(format!("{file} vanished")))?;
            let registry = if name.ends_with(".html") {
                &mut html
            } else {
                &mut text
            };
            registry
                .register_template_string(name, body)
                .map_err(|e| MailError::Template(format!("{file}: {e}")))?;
        }
        Ok(Self { text, html })
    }

    /// Whether templates exist for `kind` in `lang`.
    pub fn knows(&self, kind: &str, lang: &str) -> bool {
        self.text.has_template(&format!("{lang}/{kind}.subject"))
            && self.text.has_template(&format!("{lang}/{kind}.txt"))
            && self.html.has_template(&format!("{lang}/{kind}.html"))
    }

    /// Renders `kind` in `lang` ("fr" or "en") from `data`.
    pub fn render(&self, kind: &str, lang: &str, data: &Value) -> Result<Rendered, MailError> {
        let one = |hb: &Handlebars<'static>, part: &str| {
            hb.render(&format!("{lang}/{kind}.{part}"), data)
                .map_err(|e| MailError::Template(format!("{lang}/{kind}.{part}: {e}")))
        };
        let subject = one(&self.text, "subject")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Rendered {
            subject,
            text: one(&self.text, "txt")?,
            html: one(&self.html, "html")?,
        })
    }
}

#[cfg(test)]
#[expect(
    clippy::unwrap_used,
    reason = "a test that cannot set itself up stops there"
)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_three_parts_in_both_languages() {
        let r = Renderer::new().unwrap();
        for kind in [
            store::outbox::kind::ORDER_PLACED,
            store::outbox::kind::ORDER_CHANGED,
            store::outbox::kind::ORDER_CANCELLED,
            store::outbox::kind::CYCLE_OPEN,
            store::outbox::kind::INVITATION,
            store::outbox::kind::PASSWORD_RESET,
            store::outbox::kind::SLOT_CHANGED,
            store::outbox::kind::FINAL_AMOUNT,
            store::outbox::kind::CLOSING_REMINDER,
            store::outbox::kind::PICKUP_DAY_BEFORE,
            store::outbox::kind::PICKUP_HOURS_BEFORE,
            store::outbox::kind::PICKING_LIST,
            store::outbox::kind::DIRECTORY_ALERT_CONFIRM,
            store::outbox::kind::DIRECTORY_ALERT,
            store::outbox::kind::DIRECTORY_ALERT_DIGEST,
        ] {
            for lang in ["fr", "en"] {
                assert!(r.knows(kind, lang), "{lang}/{kind} is missing a part");
            }
        }
    }
}
