//! The mail flags of `halle serve` and `halle demo` (each also read from the environment):
//! where the SMTP server is, who sends, where links point, DKIM, how often reminders are
//! looked for. Without `--smtp-host` no worker runs: mail is still written to the outbox, and
//! waits there.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;

/// How Halle sends its email.
#[derive(clap::Args, Clone, Debug)]
pub struct MailArgs {
    /// SMTP server (e.g. smtp.example.org). No mail is sent without it: it waits in the outbox.
    #[arg(long, env = "HALLE_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port: 587 for STARTTLS, 465 for TLS, 25 for a local relay.
    #[arg(long, env = "HALLE_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// starttls (required), tls (implicit, port 465) or none (a local relay only).
    #[arg(long, env = "HALLE_SMTP_SECURITY", default_value = "starttls")]
    pub smtp_security: String,
    /// SMTP login, when the server asks for one.
    #[arg(long, env = "HALLE_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// SMTP password (better given through the environment than on the command line).
    #[arg(long, env = "HALLE_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// Connections kept open to the SMTP server, and sends in flight at once.
    #[arg(long, env = "HALLE_SMTP_POOL", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub smtp_pool: u32,
    /// The sender: `Marché de Parthenay <halle@example.org>`.
    #[arg(
        long,
        env = "HALLE_MAIL_FROM",
        default_value = "Halle <halle@localhost>"
    )]
    pub mail_from: String,
    /// Where the links in messages point: the address people open Halle at.
    #[arg(long, env = "HALLE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// DKIM private key file: RSA in PKCS#1 PEM, or an Ed25519 key as base64.
    #[arg(long, env = "HALLE_DKIM_KEY")]
    pub dkim_key: Option<PathBuf>,
    /// DKIM selector (the key is published at SELECTOR._domainkey.DOMAIN).
    #[arg(long, env = "HALLE_DKIM_SELECTOR", default_value = "halle")]
    pub dkim_selector: String,
    /// DKIM signing domain; the sender's domain by default.
    #[arg(long, env = "HALLE_DKIM_DOMAIN")]
    pub dkim_domain: Option<String>,
    /// First wait before sending again after a temporary failure (doubles each time, 1 h at most).
    #[arg(long, env = "HALLE_MAIL_RETRY_SECS", default_value_t = 30)]
    pub mail_retry_secs: u64,
    /// How often an empty outbox is looked at again, in milliseconds.
    #[arg(long, env = "HALLE_MAIL_POLL_MS", default_value_t = 2000)]
    pub mail_poll_ms: u64,
    /// A certificate authority (PEM) to trust for the SMTP server's certificate, besides the
    /// system's: a private CA, or a relay's self-signed certificate. The certificate and the
    /// host name are still checked.
    #[arg(long, env = "HALLE_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// How often reminders and picking lists due are written to the outbox, in seconds (0:
    /// never, on this node). Written with or without `--smtp-host`.
    #[arg(long, env = "HALLE_MAIL_SCHEDULE_SECS", default_value_t = 60)]
    pub mail_schedule_secs: u64,
}

impl MailArgs {
    /// Starts the mail worker when an SMTP server is configured; `bind_url` is where links
    /// point unless `--public-url` says otherwise.
    pub fn start(
        &self,
        store: &store::Store,
        bind_url: &str,
    ) -> anyhow::Result<Option<mail::Worker>> {
        let Some(host) = &self.smtp_host else {
            tracing::info!("no --smtp-host: mail is kept in the outbox, not sent");
            return Ok(None);
        };
        let dkim = match &self.dkim_key {
            Some(path) => {
                let key = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the DKIM key {}", path.display()))?;
                let from: mail::Mailbox = self
                    .mail_from
                    .parse()
                    .map_err(|e| anyhow::anyhow!("sender {:?}: {e}", self.mail_from))?;
                Some(mail::DkimSettings {
                    selector: self.dkim_selector.clone(),
                    domain: self
                        .dkim_domain
                        .clone()
                        .unwrap_or_else(|| from.email.domain().to_owned()),
                    private_key: key,
                })
            }
            None => None,
        };
        let config = mail::MailConfig {
            smtp: mail::SmtpSettings {
                host: host.clone(),
                port: self.smtp_port,
                security: self.smtp_security.parse()?,
                username: self.smtp_user.clone(),
                password: self.smtp_password.clone(),
                pool_size: self.smtp_pool,
                timeout: Duration::from_secs(30),
            },
            from: self.mail_from.clone(),
            base_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| bind_url.to_owned()),
            dkim,
            worker: mail::WorkerOptions {
                concurrency: usize::try_from(self.smtp_pool).unwrap_or(8),
                retry_base: Duration::from_secs(self.mail_retry_secs.max(1)),
                poll: Duration::from_millis(self.mail_poll_ms.max(10)),
                ..Default::default()
            },
        };
        let ca = match &self.smtp_ca_file {
            Some(path) => Some(std::fs::read(path).with_context(|| {
                format!("cannot read the SMTP CA certificate {}", path.display())
            })?),
            None => None,
        };
        let transport = config.smtp.transport_trusting(ca.as_deref())?;
        let worker = config.start_with(store.clone(), transport)?;
        tracing::info!(smtp = %host, port = self.smtp_port, "mail worker started");
        Ok(Some(worker))
    }

    /// Starts the task that writes reminders and picking lists when due, unless
    /// `--mail-schedule-secs 0`.
    pub fn start_schedule(&self, store: &store::Store) -> Option<mail::Scheduler> {
        if self.mail_schedule_secs == 0 {
            tracing::info!("--mail-schedule-secs 0: no reminders written by this node");
            return None;
        }
        Some(mail::Scheduler::start(
            store.clone(),
            Duration::from_secs(self.mail_schedule_secs),
        ))
    }
}
