//! Receipts and settlements (issue 9, point 8).
//!
//! **Receipts.** Each basket gets one receipt, issued when it is checked out as collected
//! (in the check-out's own transaction), or by the market's staff for a basket settled
//! without being collected (`POST /orders/{id}/receipt`). Its number is the next of the
//! market's one gapless sequence, `YYYY-NNNNNN` (year of issue in the market's time zone, then
//! the sequence, which never restarts): the counter row of the market is incremented in the
//! transaction that inserts the receipt, so two nodes never take the same number (the
//! increment holds the row's lock until commit) and a transaction that rolls back takes its
//! number back with it. Issuing again gives the same receipt; once issued, the basket's lines
//! are final (weights can no longer change). The document is computed from the basket as it
//! is (`distribution::receipt`): the payments recorded since (a refund) show on a reprint.
//!
//! **Settlements.** Per cycle and producer, `distribution::settlements` from the cycle's data
//! and the market's commission (`market_payment_settings.commission_bp`, 0 by default).

mod issue;
mod settlement;

pub use issue::ReceiptView;
