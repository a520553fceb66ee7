//! Recipes: a title, a summary and steps in French and English, the months they are in season
//! (a bit per month, January the lowest), and ingredients, each linked to a product category
//! and, optionally, a keyword that a product's name must contain ("poireau") so that a recipe
//! finds where its ingredients are on sale.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Recipes::Table)
                    .col(big_pk_auto(Recipes::Id))
                    .col(string_len_uniq(Recipes::Slug, 100))
                    .col(string_len(Recipes::TitleFr, 200))
                    .col(string_len(Recipes::TitleEn, 200))
                    .col(text(Recipes::SummaryFr))
                    .col(text(Recipes::SummaryEn))
                    .col(text(Recipes::StepsFr))
                    .col(text(Recipes::StepsEn))
                    .col(integer(Recipes::Serves))
                    .col(integer(Recipes::Minutes))
                    .col(integer(Recipes::SeasonMonths))
                    .col(timestamp_with_time_zone(Recipes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecipeIngredients::Table)
                    .col(big_pk_auto(RecipeIngredients::Id))
                    .col(big_integer(RecipeIngredients::RecipeId))
                    .col(integer(RecipeIngredients::Position))
                    .col(string_len(RecipeIngredients::Category, 40))
                    .col(string_len_null(RecipeIngredients::Keyword, 100))
                    .col(string_len(RecipeIngredients::NameFr, 200))
                    .col(string_len(RecipeIngredients::NameEn, 200))
                    .col(string_len(RecipeIngredients::Amount, 100))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RecipeIngredients::Table, RecipeIngredients::RecipeId)
                            .to(Recipes::Table, Recipes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recipe_ingredients_recipe")
                    .table(RecipeIngredients::Table)
                    .col(RecipeIngredients::RecipeId)
                    .col(RecipeIngredients::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recipe_ingredients_category")
                    .table(RecipeIngredients::Table)
                    .col(RecipeIngredients::Category)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Recipes {
    Table,
    Id,
    Slug,
    TitleFr,
    TitleEn,
    SummaryFr,
    SummaryEn,
    StepsFr,
    StepsEn,
    Serves,
    Minutes,
    SeasonMonths,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecipeIngredients {
    Table,
    Id,
    RecipeId,
    Position,
    Category,
    Keyword,
    NameFr,
    NameEn,
    Amount,
}
