//! A cycle's settlement statements: what each producer sold, what was collected for it,
//! the market's commission, and what the market owes it.

use distribution::Settlement;

use crate::{Actor, LineFilter, Store, StoreError, reports::ensure_closed, rights};

impl Store {
    /// The settlements of a closed cycle: every producer's (or `producer`'s) for the market's
    /// coordinators and admins; a producer gets only its own, in the markets it sells through.
    pub async fn settlements(
        &self,
        actor: &Actor,
        cycle_id: i64,
        producer: Option<i64>,
    ) -> Result<Vec<Settlement>, StoreError> {
        let c = self.cycle_row(self.db(), cycle_id).await?;
        let scope = rights::settlement_scope(actor, c.market_id, producer)?;
        if let (Some(p), false) = (scope, rights::runs_market(actor, c.market_id))
            && !self.producer_in_market(p, c.market_id).await?
        {
            return Err(StoreError::not_found("cycle", cycle_id));
        }
        ensure_closed(&c, "a settlement is made once the cycle has closed")?;
        let commission_bp = self.payment_settings(c.market_id).await?.commission_bp;
        let commission_bp = u32::try_from(commission_bp).unwrap_or(0);
        // Every line: a basket's payments are shared between all of its producers.
        let data = self.cycle_data(cycle_id, LineFilter::default()).await?;
        self.cpu
            .run(move || {
                let mut all = distribution::settlements(
                    &data.cycle,
                    &data.lines,
                    &data.states,
                    commission_bp,
                );
                if let Some(p) = scope {
                    all.retain(|s| s.producer_id == p);
                }
                all
            })
            .await
    }
}
