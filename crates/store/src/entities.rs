//! sea-orm entities, one module per table (`@generated` shape: never hand-edit business logic here).

pub mod account;
pub mod api_token;
pub mod basket_line;
pub mod delivery_round;
pub mod distribution_slot;
pub mod idempotency_key;
pub mod invitation;
pub mod line_weight;
pub mod market;
pub mod market_producer;
pub mod offer;
pub mod order;
pub mod order_cycle;
pub mod order_line;
pub mod payment;
pub mod pickup_point;
pub mod producer;
pub mod product;
pub mod recipe;
pub mod recipe_ingredient;
pub mod session;
pub mod slot_rule;
pub mod venue_closure;
