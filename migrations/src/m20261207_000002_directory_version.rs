//! The directory's version: one row whose `version` goes up with every committed transaction
//! that changes what the directory shows (an entry, a producer, a pickup point, a market, a
//! market's producers, a slot, a cycle's state). Each Halle node keeps the directory in memory
//! and reads this one row (at most once a second) to know whether another node, or anything
//! else writing to the database, changed it.
//!
//! Kept by triggers, so that no write path can forget it. On PostgreSQL they are constraint
//! triggers deferred to the commit: the row is locked only while the transaction commits,
//! after its last statement, so writers of these tables never deadlock on it, and a reader
//! sees the new version only together with the rows it stands for. A transaction bumps it
//! once, however many rows it writes (the transaction id kept beside it says it was done).
//! On SQLite (one writer at a time) plain triggers do it, row by row.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows the directory shows.
const TABLES: [&str; 7] = [
    "directory_entries",
    "producers",
    "pickup_points",
    "markets",
    "market_producers",
    "distribution_slots",
    "order_cycles",
];

const PG_FUNCTION: &str = r#"
CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format(
    'UPDATE %I.directory_version SET version = version + 1, txid = txid_current() '
    'WHERE id = 1 AND txid IS DISTINCT FROM txid_current()',
    TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE directory_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL, \
             txid BIGINT)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO directory_version (id, version) VALUES (1, 0)")
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(PG_FUNCTION).await?;
                for t in TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE CONSTRAINT TRIGGER {t}_directory_changed \
                         AFTER INSERT OR UPDATE OR DELETE ON {t} \
                         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
                         EXECUTE FUNCTION directory_changed()"
                    ))
                    .await?;
                }
            }
            _ => {
                for t in TABLES {
                    for event in ["INSERT", "UPDATE", "DELETE"] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {t}_directory_{e} AFTER {event} ON {t} \
                             BEGIN UPDATE directory_version SET version = version + 1 \
                             WHERE id = 1; END",
                            e = event.to_ascii_lowercase()
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                for t in TABLES {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {t}_directory_changed ON {t}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS directory_changed()")
                    .await?;
            }
            _ => {
                for t in TABLES {
                    for e in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_directory_{e}"))
                            .await?;
                    }
                }
            }
        }
        db.execute_unprepared("DROP TABLE directory_version")
            .await?;
        Ok(())
    }
}
