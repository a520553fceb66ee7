//! The SMTP side: settings, the pooled transport, DKIM, and how a failed send is classed.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, Tokio1Executor,
    message::{
        dkim::{
            DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
            DkimSigningKey,
        },
        header::HeaderName,
    },
    transport::smtp::{
        PoolConfig,
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};

use crate::MailError;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP, upgraded with STARTTLS (required): port 587, the usual submission.
    StartTls,
    /// TLS from the first byte ("implicit TLS", SMTPS): port 465.
    Tls,
    /// No encryption at all: only for a relay on the same machine or a test server.
    None,
}

impl std::str::FromStr for Security {
    type Err = MailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            other => Err(MailError::Config(format!(
                "SMTP security {other:?}: use starttls, tls or none"
            ))),
        }
    }
}

/// The headers a DKIM signature covers: who, what and when, and the one-click unsubscribe
/// headers, which RFC 8058 wants signed (those absent from a message sign as absent).
const SIGNED_HEADERS: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// DKIM signing: the key and where its public half is published (`SELECTOR._domainkey.DOMAIN`).
#[derive(Clone, Debug)]
pub struct DkimSettings {
    /// The selector.
    pub selector: String,
    /// The signing domain (usually the sender's).
    pub domain: String,
    /// The private key: an RSA key in PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), or an
    /// Ed25519 key as base64 of its 32 bytes.
    pub private_key: String,
}

impl DkimSettings {
    /// The lettre configuration; an error says what is wrong with the key.
    pub fn config(&self) -> Result<DkimConfig, MailError> {
        let algorithm = if self.private_key.contains("BEGIN") {
            DkimSigningAlgorithm::Rsa
        } else {
            DkimSigningAlgorithm::Ed25519
        };
        let key = DkimSigningKey::new(self.private_key.trim(), algorithm)
            .map_err(|e| MailError::Config(format!("DKIM key: {e}")))?;
        // Relaxed header canonicalization, not lettre's default (simple): lettre hashes its
        // DKIM-Signature header folded as it is with `b=` empty, then writes it folded anew
        // with the signature in; under simple canonicalization that refolding alone broke
        // every signature (found by dkimpy, tests/e2e/mail_transport.rs).
        Ok(DkimConfig::new(
            self.selector.clone(),
            self.domain.clone(),
            key,
            SIGNED_HEADERS
                .iter()
                .map(|h| HeaderName::new_from_ascii_str(h))
                .collect(),
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        ))
    }
}

/// Where and how to send.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// The server's host name (checked against its certificate with TLS and STARTTLS).
    pub host: String,
    /// Its port (587 for STARTTLS, 465 for TLS, 25 for a local relay).
    pub port: u16,
    /// STARTTLS, TLS or none.
    pub security: Security,
    /// Login, when the server asks for one.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<String>,
    /// Connections kept open to the server, used by the sends in flight.
    pub pool_size: u32,
    /// How long a command may take before the send counts as failed (and is tried again).
    pub timeout: Duration,
}

impl SmtpSettings {
    /// A pooled async transport over these settings, trusting the system's certificate
    /// authorities.
    pub fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
        self.transport_trusting(None)
    }

    /// A pooled async transport over these settings that also trusts the certificates of
    /// `ca_pem` (PEM, one or more): a private authority, or a test server's self-signed
    /// certificate. The server's certificate is still checked, and its name against
    /// [`SmtpSettings::host`]: there is no way to turn the check off.
    pub fn transport_trusting(
        &self,
        ca_pem: Option<&[u8]>,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
        let tls = |required: bool| {
            let mut params = TlsParameters::builder(self.host.clone());
            if let Some(pem) = ca_pem {
                let ca = Certificate::from_pem(pem)
                    .map_err(|e| MailError::Config(format!("SMTP CA certificate: {e}")))?;
                params = params.add_root_certificate(ca);
            }
            params
                .build()
                .map(|p| {
                    if required {
                        Tls::Required(p)
                    } else {
                        Tls::Wrapper(p)
                    }
                })
                .map_err(|e| MailError::Config(format!("TLS for {}: {e}", self.host)))
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
                .port(self.port)
                .timeout(Some(self.timeout))
                .pool_config(PoolConfig::new().max_size(self.pool_size.max(1)));
        builder = match self.security {
            Security::StartTls => builder.tls(tls(true)?),
            Security::Tls => builder.tls(tls(false)?),
            Security::None => builder.tls(Tls::None),
        };
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }
}

/// How a failed send is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server said no for good (5xx): recorded, never tried again.
    Permanent,
    /// Try again later: a 4xx, a connection refused or lost, a timeout.
    Transient,
}

/// Classes a lettre SMTP error.
pub fn classify(e: &lettre::transport::smtp::Error) -> Failure {
    if e.is_permanent() {
        Failure::Permanent
    } else {
        Failure::Transient
    }
}
