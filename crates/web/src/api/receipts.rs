//! Receipts and settlements (issue 9, point 8): a basket's receipt, numbered in its market's
//! gapless sequence, and the producers' settlement statements of a cycle. Documents come as
//! JSON, printable HTML, CSV or PDF (`?format=`, or the `Accept` header), in French or
//! English (`?lang=`), like the lists.

use poem::http::HeaderMap;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use print::Rendered;
use store::{ReceiptView, Store};

use super::{
    BearerAuth, Tag,
    distribution::{document, language, negotiate},
    document::Document,
};
use crate::ApiError;

pub(crate) struct ReceiptsApi {
    pub(crate) store: Store,
}

/// An issued receipt.
#[derive(Object)]
struct ReceiptDto {
    /// The basket.
    order_id: i64,
    /// As printed: the year of issue, then the market's sequence (`2026-000123`).
    number: String,
    /// Its place in the market's one gapless sequence.
    seq: i64,
    /// When it was issued.
    issued_at: chrono::DateTime<chrono::Utc>,
    /// The basket's total incl. VAT when issued, in euros ("23.40").
    total: String,
}

impl From<ReceiptView> for ReceiptDto {
    fn from(r: ReceiptView) -> Self {
        Self {
            order_id: r.order_id,
            number: r.number,
            seq: r.seq,
            issued_at: r.issued_at,
            total: r.total.amount().to_string(),
        }
    }
}

#[derive(ApiResponse)]
enum Issued {
    /// The basket's receipt: issued now, or the one it already had (same number).
    #[oai(status = 200)]
    Ok(Json<ReceiptDto>),
}

impl ReceiptsApi {
    async fn render(
        &self,
        job: impl FnOnce() -> Result<Rendered, print::PrintError> + Send + 'static,
    ) -> Result<Document, ApiError> {
        document(self.store.run_cpu(job).await?)
    }
}

#[OpenApi(tag = "Tag::Distribution")]
impl ReceiptsApi {
    /// A basket's receipt: market, consumer, date and number, each line (quantity, unit price,
    /// VAT rate, amount), the VAT breakdown per rate and how it was paid (online, refunds, on
    /// the spot). Its consumer and the market's staff; 404 until it is issued (when the basket
    /// is checked out as collected, or by `POST` here).
    #[oai(
        path = "/orders/:id/receipt",
        method = "get",
        operation_id = "get_receipt"
    )]
    async fn get_receipt(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        format: Query<Option<String>>,
        lang: Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<Document, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let format = negotiate(format.0.as_deref(), headers)?;
        let lang = language(lang.0.as_deref())?;
        let receipt = self.store.receipt(&actor, id.0).await?;
        self.render(move || print::receipt(&receipt, format, lang))
            .await
    }

    /// Issues a basket's receipt now (the market's coordinators and volunteers, once the cycle
    /// is closed): for a basket settled without being checked out as collected. A basket that
    /// has its receipt keeps it: the same number is answered.
    #[oai(
        path = "/orders/:id/receipt",
        method = "post",
        operation_id = "issue_receipt"
    )]
    async fn issue_receipt(&self, auth: BearerAuth, id: Path<i64>) -> Result<Issued, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let r = self.store.issue_receipt(&actor, id.0).await?;
        Ok(Issued::Ok(Json(r.into())))
    }

    /// Settlement statements of a closed cycle, one per producer: what it sold (lines, weights
    /// as weighed), what was collected for it online and on the spot (each basket's payments
    /// shared pro rata of its producers' lines), the market's commission and what the market
    /// owes it. The market's coordinators get every producer's (or `?producer=`); a producer
    /// gets its own.
    #[oai(
        path = "/cycles/:id/settlements",
        method = "get",
        operation_id = "get_settlements"
    )]
    async fn get_settlements(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        producer: Query<Option<i64>>,
        format: Query<Option<String>>,
        lang: Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<Document, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let format = negotiate(format.0.as_deref(), headers)?;
        let lang = language(lang.0.as_deref())?;
        let list = self.store.settlements(&actor, id.0, producer.0).await?;
        self.render(move || print::settlements(&list, format, lang))
            .await
    }
}
