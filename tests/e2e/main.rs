//! End-to-end tests: a real Halle server on a random port, a real database, an HTTP client.
//! Every test runs twice, on SQLite and on PostgreSQL (see `helpers::both!`).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test that cannot set itself up should stop right there, loudly"
)]

mod helpers;

mod audit;
mod backup;
mod bad_input;
mod browser;
mod browser_account;
mod browser_directory;
mod browser_harness;
mod browser_pay;
mod browser_recipes;
mod browser_roles;
mod browser_shop;
mod browser_tour;
mod contract;
mod cycle_flow;
mod demo;
mod directory;
mod directory_index;
mod faults;
mod idempotency;
mod isolation;
mod limits;
mod lists;
mod mail;
mod mail_accounts;
mod mail_schedule;
mod mail_transport;
mod nodes;
mod operations;
mod other_node;
mod overload;
mod pages_account;
mod pages_checkout;
mod pages_desk;
mod pages_producer;
mod pages_shop;
mod pages_shop_speed;
mod pages_slots;
pub mod pages_support;
mod payments;
mod payments_jobs;
mod race;
mod read_path;
mod receipts;
mod recipes;
mod rights;
mod rules;
mod slots;
mod spec;
pub mod stripe_support;
mod timeouts;
mod tokens;
mod vehicles;
