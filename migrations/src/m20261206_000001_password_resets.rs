//! Password resets: a one-time link mailed to an account's address ("Mot de passe oublié ?").
//! Only the SHA-256 of the link's token is kept, so a copy of the database opens no account;
//! a reset works once (`used_at`) and until `expires_at`. `created_at` per account is what the
//! throttle reads (one mail per address every few minutes).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .col(big_pk_auto(PasswordResets::Id))
                    .col(big_integer(PasswordResets::AccountId))
                    .col(string_uniq(PasswordResets::TokenHash))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordResets::Table, PasswordResets::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The throttle's question: this account's latest reset.
        manager
            .create_index(
                Index::create()
                    .name("idx_password_resets_account")
                    .table(PasswordResets::Table)
                    .col(PasswordResets::AccountId)
                    .col(PasswordResets::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    AccountId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}
