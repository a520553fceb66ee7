//! # domain — Halle's business rules
//!
//! Halle is a pre-order market hall for local food: a market opens weekly
//! order cycles, producers offer products with a limited stock, and
//! consumers pre-order exact quantities, collected on distribution day.
//!
//! This crate holds the rules of that trade and nothing else: no I/O, no
//! async, no clock (the current time is always passed in as `now`). It is
//! shared by the storage and web layers so that every price, total, stock
//! check and cycle rule is computed in exactly one place.
//!
//! - [`money`]: euro amounts exact to the cent, and [`round_cents`], the only
//!   rounding of money (half to even).
//! - [`vat`]: VAT rates and the split of VAT-inclusive amounts.
//! - [`unit`](mod@unit): units of sale, quantities, ordering steps.
//! - [`pricing`]: product pricing, including variable-weight products.
//! - [`basket`]: basket validation and [`basket_totals`], the one function
//!   every total goes through.
//! - [`stock`]: reserving and releasing stock.
//! - [`cycle`]: the order-cycle state machine and its time rules.
//! - [`category`]: the food categories products, directory entries and recipes share.
//!
//! ## Errors
//!
//! Each concept has its own [`thiserror`] enum ([`MoneyError`],
//! [`VatError`], [`UnitError`], [`QuantityError`], [`CatalogueError`],
//! [`BasketError`], [`StockError`], [`CycleError`]). Variants carry the data
//! a caller needs to react (the quantity left, the closing time, …), and
//! their `Display` messages are written for end users: short, concrete, in
//! plain English ("only 3 left", "this order cycle closed on … UTC"), so the
//! web layer can show them as they are or translate them per variant.
//! Nothing in this crate panics on bad input; invalid input is an `Err`.

pub mod basket;
pub mod category;
pub mod cycle;
pub mod money;
pub mod pricing;
pub mod recipe;
pub mod stock;
pub mod unit;
pub mod vat;

pub use basket::{
    BasketError, BasketTotals, MAX_LINES, PricedLine, RequestedLine, VatBreakdownLine,
    basket_totals, modified_line_terms, validate_requested_lines,
};
pub use category::{Category, UnknownCategory};
pub use cycle::{
    CycleError, CycleState, CycleWindow, MAX_CYCLE_DAYS, accepts_orders, effective_state,
    offers_editable, transition,
};
pub use money::{Money, MoneyError, round_cents};
pub use pricing::{CatalogueError, ProductPricing};
pub use stock::{StockError, release, reserve, validate_stock};
pub use unit::{
    MAX_ORDER_QUANTITY, Quantity, QuantityError, Unit, UnitError, default_step,
    validate_order_quantity, validate_step,
};
pub use vat::{VatError, VatRate, split_gross};
