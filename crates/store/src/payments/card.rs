//! The payment page's two steps on Halle's side: what the page shows (read only: the intent
//! already opened for the basket, if it still fits), and the card Stripe.js tokenised in the
//! browser, put on the intent and confirmed with Stripe. The card number never reaches Halle,
//! only a token; and the answer that counts is Stripe's own (the confirm's answer, a retrieve
//! or a verified webhook), never the browser's.

use domain::Money;

use super::{
    intents::{AUTHORISED, CAPTURED, PaymentPage, REQUIRES_PAYMENT},
    settings::PaymentSettings,
};
use crate::{Actor, Store, StoreError, catalogue::corrupt, rights};

/// What confirming the card did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardConfirmation {
    /// Stripe holds the amount (the order page says so once Halle has read it back).
    Sent,
    /// The bank asks the cardholder to authenticate (3-D Secure): Stripe.js finishes it in
    /// the browser with the intent's client secret.
    Authenticate,
}

/// A Stripe token id as Stripe.js makes it (`tok_` and letters, digits or `_`).
fn check_token(token: &str) -> Result<(), StoreError> {
    let ok = token.starts_with("tok_")
        && token.len() > 4
        && token.len() <= 255
        && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "invalid_token",
            "the card could not be read: type it again",
        ))
    }
}

impl Store {
    /// What the payment page of a basket shows now, without calling Stripe: the intent opened
    /// for it (by [`Store::start_online_payment`]) when it still fits the basket, `None` when
    /// one must be opened first. For the consumer (or who orders for them).
    pub async fn payment_page(
        &self,
        actor: &Actor,
        order_id: i64,
    ) -> Result<(Option<PaymentPage>, PaymentSettings), StoreError> {
        let (o, market_id) = self.visible_order(self.db(), actor, order_id).await?;
        if !rights::may_change_order(actor, &o, market_id) {
            return Err(StoreError::forbidden(
                "only the consumer pays for this basket",
            ));
        }
        let settings = self.payment_settings(market_id).await?;
        if o.status != crate::orders::PLACED || !settings.takes_cards() {
            return Ok((None, settings));
        }
        let hold = self.hold_for(&o, settings.weight_margin_bp).await?;
        for r in self.intent_rows(self.db(), order_id).await? {
            let page = match r.status.as_str() {
                CAPTURED => PaymentPage::Captured(Money::from_cents(r.captured_cents)),
                AUTHORISED if r.amount_cents >= hold => {
                    PaymentPage::Authorised(Money::from_cents(r.amount_cents))
                }
                REQUIRES_PAYMENT if r.amount_cents == hold => PaymentPage::Pay {
                    amount: Money::from_cents(r.amount_cents),
                    client_secret: r
                        .client_secret
                        .clone()
                        .ok_or_else(|| corrupt("client secret", r.id))?,
                    publishable_key: settings.publishable_key.clone().unwrap_or_default(),
                    js_url: settings.js_url.clone(),
                },
                _ => continue,
            };
            return Ok((Some(page), settings));
        }
        Ok((None, settings))
    }

    /// Puts the card Stripe.js tokenised on the basket's open intent and confirms it with
    /// Stripe (each call with an idempotency key of the intent and the token, so a form sent
    /// twice confirms once). The row follows Stripe's answer.
    pub async fn confirm_card(
        &self,
        actor: &Actor,
        order_id: i64,
        token: &str,
    ) -> Result<CardConfirmation, StoreError> {
        check_token(token)?;
        let (o, market_id) = self.visible_order(self.db(), actor, order_id).await?;
        if !rights::may_change_order(actor, &o, market_id) {
            return Err(StoreError::forbidden(
                "only the consumer pays for this basket",
            ));
        }
        let r = self
            .intent_rows(self.db(), order_id)
            .await?
            .into_iter()
            .find(|r| r.status == REQUIRES_PAYMENT && r.intent_id.is_some())
            .ok_or_else(|| {
                StoreError::conflict(
                    "no_payment_open",
                    "this basket has no card payment waiting: open the payment page again",
                )
            })?;
        let intent_id = r
            .intent_id
            .clone()
            .ok_or_else(|| corrupt("intent id", r.id))?;
        let (stripe, _) = self.stripe_for(market_id).await?;
        let card = stripe.retrieve_token(token).await?.card;
        let key = format!("{}:{token}", r.idempotency_key);
        let intent = stripe.confirm_with_card(&key, &intent_id, &card.id).await?;
        self.sync_intent(&r, &intent).await?;
        Ok(if intent.status == "requires_action" {
            CardConfirmation::Authenticate
        } else {
            CardConfirmation::Sent
        })
    }
}

#[cfg(test)]
mod tests {
    use super::check_token;

    #[test]
    fn a_token_is_stripe_s_shape_or_refused() {
        assert!(check_token("tok_1N3T00LkdIwHu7ixt44h1F8k").is_ok());
        assert!(check_token("tok_").is_err());
        assert!(check_token("card_123").is_err());
        assert!(check_token("tok_1 2").is_err());
        assert!(check_token("tok_a/../b").is_err());
        assert!(check_token(&format!("tok_{}", "a".repeat(300))).is_err());
    }
}
