//! Mail, on the store's floor: the outbox ([`outbox`]: enqueue in the caller's transaction,
//! claim, record the outcome, list for the coordinators), who wants a market's announcements
//! ([`subscriptions`]), and what a message needs to be rendered ([`context`]). Rendering and
//! SMTP live in the `mail` crate; nothing here knows of templates or of lettre.

pub mod context;
pub mod notices;
pub mod outbox;
pub mod subscriptions;
