//! Halle's email: what the outbox's rows say and how they leave.
//!
//! - [`render`] (pure, no I/O): a message's subject, text and HTML from the handlebars
//!   templates of `templates/mail/{fr,en}/`, in the recipient's language, from a JSON value.
//! - [`compose`] (pure): that JSON value from a row and its context (`store::mail::context`),
//!   with amounts and dates formatted for the language and the market's time zone; and the
//!   whole message (`multipart/alternative`, `Message-ID`, `Date`, `Reply-To`, and
//!   `List-Unsubscribe` on announcements), DKIM-signed when a key is configured.
//! - [`smtp`]: the pooled SMTP transport (lettre) and how its errors are classed: a 5xx is
//!   permanent, a 4xx or a connection failure is tried again later.
//! - [`worker`]: the task that drains the outbox: claims due rows, sends them several at once,
//!   records each outcome.
//! - [`schedule`]: the task that writes time-based mail (reminders, picking lists) when due.
//!
//! Words: each message is written whole per language (`templates/mail/fr/order_placed.txt.hbs`
//! beside `en/...`), not assembled from Fluent strings: a mail is prose, and a translator
//! rewrites a paragraph better than they translate its pieces.

pub mod compose;
pub mod render;
pub mod schedule;
pub mod smtp;
pub mod worker;

pub use compose::Composer;
pub use lettre::message::Mailbox;
pub use render::{Rendered, Renderer};
pub use schedule::Scheduler;
pub use smtp::{DkimSettings, Security, SmtpSettings};
pub use worker::{Worker, WorkerOptions};

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A template is missing or does not render.
    #[error("mail template: {0}")]
    Template(String),
    /// The configuration cannot work (an address that does not parse, a bad DKIM key).
    #[error("mail configuration: {0}")]
    Config(String),
    /// A message cannot be built (an address that does not parse).
    #[error("message: {0}")]
    Message(String),
}

/// Everything the worker needs, as the binary's flags or a test give it.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// The SMTP server.
    pub smtp: SmtpSettings,
    /// `From`: `Halle <halle@example.org>` or a bare address.
    pub from: String,
    /// Where the links in messages point (`https://halle.example.org`).
    pub base_url: String,
    /// DKIM signing, when configured.
    pub dkim: Option<DkimSettings>,
    /// Pace and retries.
    pub worker: WorkerOptions,
}

impl MailConfig {
    /// The composer of these settings (templates, `From`, links, DKIM).
    pub fn composer(&self) -> Result<Composer, MailError> {
        Ok(Composer {
            renderer: Renderer::new()?,
            from: self
                .from
                .parse()
                .map_err(|e| MailError::Config(format!("sender {:?}: {e}", self.from)))?,
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            dkim: self.dkim.as_ref().map(DkimSettings::config).transpose()?,
        })
    }

    /// Starts the worker that drains `store`'s outbox with these settings.
    pub fn start(&self, store: store::Store) -> Result<Worker, MailError> {
        self.start_with(store, self.smtp.transport()?)
    }

    /// Starts the worker over a transport of one's own making: say
    /// [`SmtpSettings::transport_trusting`] a private certificate authority.
    pub fn start_with(
        &self,
        store: store::Store,
        transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    ) -> Result<Worker, MailError> {
        let composer = std::sync::Arc::new(self.composer()?);
        Ok(Worker::start(
            store,
            composer,
            transport,
            self.worker.clone(),
        ))
    }
}
