//! Who last changed a basket: the consumer, a coordinator mediating, or an admin. Set by modify
//! and cancel; NULL while the basket is as it was placed (then `placed_by` says who).
//! Also an index on `api_tokens.account_id`, for revoking all of an account's tokens at once,
//! and one on `api_tokens.expires_at`, for purging the expired ones.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(big_integer_null(Orders::UpdatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_tokens_account")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_tokens_expires")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    AccountId,
    ExpiresAt,
}
