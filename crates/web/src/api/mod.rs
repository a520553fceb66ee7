//! The JSON API, one `#[OpenApi]` struct per resource, combined into one service.

mod auth;
mod catalogue;
pub(crate) mod contract;
mod cycle_json;
mod cycles;
mod direct_json;
mod directory;
mod distribution;
mod document;
mod dto;
mod input;
mod mail;
mod markets;
mod orders;
mod payments;
mod receipts;
mod recipes;
mod slots;
mod vehicles;

use domain::{Category, Money, ProductPricing, Quantity, Unit, VatRate};
use poem_openapi::{OpenApiService, SecurityScheme, Tags, auth::Bearer};
use rust_decimal::Decimal;
use store::{Actor, NewProduct, Store, Viewer};

use crate::ApiError;

/// How operations are grouped in the docs.
#[derive(Tags)]
pub(crate) enum Tag {
    /// Tokens and accounts.
    Auth,
    /// Markets, their pickup points, producers and cycles.
    Markets,
    /// Producers and their catalogues.
    Producers,
    /// Order cycles, their slots and offers.
    Cycles,
    /// Baskets.
    Orders,
    /// Picking lists, labels, distribution sheets, weights and check-out.
    Distribution,
    /// Online payment: settings, card payments, capture and refunds.
    Payments,
    /// Email: what a market sent and what failed; members' wishes for announcements.
    Mail,
    /// The regional directory: search by distance.
    Directory,
    /// Seasonal recipes and where their ingredients are on sale.
    Recipes,
}

/// `Authorization: Bearer <token>`, from `POST /api/v1/auth/token`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
pub(crate) struct BearerAuth(Bearer);

impl BearerAuth {
    /// The account behind the token, or 401.
    pub(crate) async fn actor(&self, store: &Store) -> Result<Actor, ApiError> {
        Ok(store.authenticate(&self.0.token).await?)
    }

    /// The account placing an order: see `Store::authenticate_for_order` (the token is
    /// checked by the order writer, with the basket, instead of one query per request).
    pub(crate) async fn actor_for_order(&self, store: &Store) -> Result<Actor, ApiError> {
        Ok(store.authenticate_for_order(&self.0.token).await?)
    }
}

/// Who reads a public resource that may hide drafts: the bearer token if one was sent, checked
/// by the store only when it matters (so the public read of a cycle costs no token look-up).
pub(crate) fn viewer(headers: &poem::http::HeaderMap) -> Viewer<'_> {
    headers
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map_or(Viewer::Anonymous, Viewer::Token)
}

/// The whole API, served under `/api/v1`.
/// Every API of Halle, combined.
type Apis = (
    auth::AuthApi,
    markets::MarketsApi,
    catalogue::ProducersApi,
    cycles::CyclesApi,
    orders::OrdersApi,
    distribution::DistributionApi,
    slots::SlotsApi,
    payments::PaymentsApi,
    mail::MailApi,
    directory::DirectoryApi,
    recipes::RecipesApi,
    receipts::ReceiptsApi,
    vehicles::VehiclesApi,
);

pub(crate) fn openapi_service(
    store: Store,
    throttle: std::sync::Arc<crate::throttle::LoginThrottle>,
) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            auth::AuthApi {
                store: store.clone(),
                throttle,
            },
            markets::MarketsApi { store: store.clone() },
            catalogue::ProducersApi { store: store.clone() },
            cycles::CyclesApi {
                store: store.clone(),
                bytes: cycle_json::CycleBytes::default(),
            },
            orders::OrdersApi {
                store: store.clone(),
            },
            distribution::DistributionApi {
                store: store.clone(),
            },
            slots::SlotsApi {
                store: store.clone(),
            },
            payments::PaymentsApi {
                store: store.clone(),
            },
            mail::MailApi {
                store: store.clone(),
            },
            directory::DirectoryApi {
                store: store.clone(),
            },
            recipes::RecipesApi {
                store: store.clone(),
            },
            receipts::ReceiptsApi {
                store: store.clone(),
            },
            vehicles::VehiclesApi { store },
        ),
        "Halle",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Pre-order market hall for local food: markets, producers, order cycles, offers and baskets.")
    .server("/api/v1")
}

pub(crate) fn quantity(field: &str, d: impl Into<Decimal>) -> Result<Quantity, ApiError> {
    Quantity::new(d.into())
        .map_err(|e| ApiError::unprocessable("invalid_quantity", format!("{field}: {e}")))
}

pub(crate) fn price(field: &str, d: impl Into<Decimal>) -> Result<Money, ApiError> {
    Money::from_decimal(d.into())
        .map_err(|e| ApiError::unprocessable("invalid_price", format!("{field}: {e}")))
}

/// Reads a product request into the store's terms, with a 422 for each bad field.
pub(crate) fn new_product(r: dto::ProductRequest) -> Result<NewProduct, ApiError> {
    let unit: Unit = r.unit.parse().map_err(|_| {
        ApiError::unprocessable(
            "invalid_unit",
            format!(
                "unit must be one of {}",
                Unit::ALL.map(|u| u.as_str()).join(", ")
            ),
        )
    })?;
    let vat = VatRate::parse(r.vat_rate.into())
        .map_err(|e| ApiError::unprocessable("invalid_vat_rate", e.to_string()))?;
    let variable_weight = match (r.variable_weight, r.estimated_weight_kg) {
        (true, Some(w)) => Some(quantity("estimated_weight_kg", w)?),
        (true, None) => {
            return Err(ApiError::unprocessable(
                "invalid_product",
                "a variable-weight product needs estimated_weight_kg",
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::unprocessable(
                "invalid_product",
                "estimated_weight_kg is only for variable-weight products",
            ));
        }
        (false, None) => None,
    };
    Ok(NewProduct {
        name: r.name.into(),
        description: r.description.map(Into::into),
        pricing: ProductPricing {
            unit,
            price: price("price", r.price)?,
            vat,
            variable_weight,
        },
        step: r.step.map(|s| quantity("step", s)).transpose()?,
        category: match r.category {
            Some(c) => Category::parse(&c)
                .map_err(|e| ApiError::unprocessable("invalid_category", e.to_string()))?,
            None => Category::Other,
        },
        reference: r.reference.map(Into::into),
    })
}
