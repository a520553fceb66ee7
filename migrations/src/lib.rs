//! Halle's database schema as sea-orm migrations.
//!
//! One file per change, named `mYYYYMMDD_HHMMSS_<what>.rs`; a migration is never edited once it
//! has landed on main: a change to the schema is a new migration. The `halle migrate` command
//! and the test harness both run this same [`Migrator`], so tests exercise the real schema.
//!
//! Money is stored as whole cents (`BIGINT`), quantities as thousandths of their unit
//! (`BIGINT`, "milli") and VAT rates as basis points: sea-orm maps `Decimal` to a floating-point
//! `REAL` on SQLite, which would lose cents, so no amount or quantity is ever a `Decimal` column.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_core_market;
mod m20261123_000002_distribution;
mod m20261201_000001_business_rules;
mod m20261201_000002_order_updated_by;
mod m20261202_000001_sessions;
mod m20261202_000002_baskets;
mod m20261202_000003_product_photos;
mod m20261202_000004_venue_closures;
mod m20261202_000005_product_photo;
mod m20261203_000001_outbox;
mod m20261203_000002_mail_subscriptions;
mod m20261203_000003_payments;
mod m20261203_000006_account_disabled;
mod m20261203_000007_directory;
mod m20261203_000009_catalogue;
mod m20261203_000010_recipes;
mod m20261206_000001_password_resets;
mod m20261206_000002_mail_schedule;
mod m20261206_000003_payment_jobs;
mod m20261206_000004_receipts;
mod m20261206_000006_audit;
mod m20261207_000001_vehicles;
mod m20261207_000002_directory_version;

/// Runs every migration of Halle, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_core_market::Migration),
            Box::new(m20261123_000002_distribution::Migration),
            Box::new(m20261201_000001_business_rules::Migration),
            Box::new(m20261201_000002_order_updated_by::Migration),
            Box::new(m20261202_000001_sessions::Migration),
            Box::new(m20261202_000002_baskets::Migration),
            Box::new(m20261202_000003_product_photos::Migration),
            Box::new(m20261202_000004_venue_closures::Migration),
            Box::new(m20261202_000005_product_photo::Migration),
            Box::new(m20261203_000003_payments::Migration),
            Box::new(m20261203_000006_account_disabled::Migration),
            Box::new(m20261203_000001_outbox::Migration),
            Box::new(m20261203_000002_mail_subscriptions::Migration),
            Box::new(m20261203_000007_directory::Migration),
            Box::new(m20261203_000009_catalogue::Migration),
            Box::new(m20261203_000010_recipes::Migration),
            Box::new(m20261206_000001_password_resets::Migration),
            Box::new(m20261206_000003_payment_jobs::Migration),
            Box::new(m20261206_000004_receipts::Migration),
            Box::new(m20261206_000002_mail_schedule::Migration),
            Box::new(m20261206_000006_audit::Migration),
            Box::new(m20261207_000001_vehicles::Migration),
            Box::new(m20261207_000002_directory_version::Migration),
        ]
    }
}
