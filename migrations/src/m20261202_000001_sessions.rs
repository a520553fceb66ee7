//! Pages: cookie sessions kept in the database (any node serves any session), one-time
//! invitations of staff, each account's language, and the venue a host account speaks for.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::IdHash).primary_key())
                    .col(big_integer(Sessions::AccountId))
                    .col(string(Sessions::Csrf))
                    .col(big_integer_null(Sessions::ActingFor))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_sessions_account", Sessions::AccountId),
            ("idx_sessions_expires", Sessions::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Sessions::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(big_pk_auto(Invitations::Id))
                    .col(string_uniq(Invitations::TokenHash))
                    .col(big_integer(Invitations::MarketId))
                    .col(string(Invitations::Role))
                    .col(string(Invitations::Name))
                    .col(string_null(Invitations::Email))
                    .col(big_integer_null(Invitations::ProducerId))
                    .col(big_integer_null(Invitations::PickupPointId))
                    .col(big_integer(Invitations::CreatedBy))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::UsedAt))
                    .col(big_integer_null(Invitations::AccountId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(string(Accounts::Language).default("fr"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(big_integer_null(Accounts::PickupPointId))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    AccountId,
    Csrf,
    ActingFor,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TokenHash,
    MarketId,
    Role,
    Name,
    Email,
    ProducerId,
    PickupPointId,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    AccountId,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Language,
    PickupPointId,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}
