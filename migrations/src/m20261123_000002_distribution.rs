//! Distribution: weekly slot rules of pickup points, slot changes, real weights of
//! variable-weight pieces, checking baskets out (collection and payments on the spot), and
//! co-delivery rounds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // "Every Thursday 17:30 to 19:30": local wall-clock times in the market's time zone.
        manager
            .create_table(
                Table::create()
                    .table(SlotRules::Table)
                    .col(big_pk_auto(SlotRules::Id))
                    .col(big_integer(SlotRules::PickupPointId))
                    .col(small_integer(SlotRules::Weekday))
                    .col(string_len(SlotRules::StartsLocal, 5))
                    .col(string_len(SlotRules::EndsLocal, 5))
                    .col(boolean(SlotRules::Active))
                    .col(timestamp_with_time_zone(SlotRules::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SlotRules::Table, SlotRules::PickupPointId)
                            .to(PickupPoints::Table, PickupPoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // A slot remembers the rule it came from and why it was moved or cancelled this week.
        manager
            .alter_table(
                Table::alter()
                    .table(DistributionSlots::Table)
                    .add_column(big_integer_null(DistributionSlots::RuleId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DistributionSlots::Table)
                    .add_column(text_null(DistributionSlots::Note))
                    .to_owned(),
            )
            .await?;

        // At the pickup point: collected or not, by whom, when.
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(string(Orders::Collection).default("pending"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(timestamp_with_time_zone_null(Orders::CheckedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(big_integer_null(Orders::CheckedBy))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(big_pk_auto(Payments::Id))
                    .col(big_integer(Payments::OrderId))
                    .col(string(Payments::Method))
                    .col(big_integer(Payments::AmountCents))
                    .col(big_integer(Payments::RecordedBy))
                    .col(timestamp_with_time_zone(Payments::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Payments::Table, Payments::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payments_order")
                    .table(Payments::Table)
                    .col(Payments::OrderId)
                    .to_owned(),
            )
            .await?;

        // The price per kg a variable-weight line was ordered at, so that repricing on the real
        // weight does not depend on later offer changes. Filled in for lines already there.
        manager
            .alter_table(
                Table::alter()
                    .table(OrderLines::Table)
                    .add_column(big_integer_null(OrderLines::KgPriceCents))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE order_lines SET kg_price_cents = (\
                   SELECT o.price_cents FROM offers o JOIN products p ON p.id = o.product_id \
                   WHERE o.id = order_lines.offer_id AND p.variable_weight)",
            )
            .await?;

        // The real weight of each piece of a variable-weight line, recorded after harvest.
        manager
            .create_table(
                Table::create()
                    .table(LineWeights::Table)
                    .col(big_integer(LineWeights::OrderLineId))
                    .col(integer(LineWeights::Piece))
                    .col(big_integer(LineWeights::WeightMilli))
                    .col(timestamp_with_time_zone(LineWeights::RecordedAt))
                    .primary_key(
                        Index::create()
                            .col(LineWeights::OrderLineId)
                            .col(LineWeights::Piece),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LineWeights::Table, LineWeights::OrderLineId)
                            .to(OrderLines::Table, OrderLines::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // A co-delivery round and its solved plan (kept as computed, so it reads the same later).
        manager
            .create_table(
                Table::create()
                    .table(DeliveryRounds::Table)
                    .col(big_pk_auto(DeliveryRounds::Id))
                    .col(big_integer(DeliveryRounds::CycleId))
                    .col(string(DeliveryRounds::Name))
                    .col(text(DeliveryRounds::Request))
                    .col(text_null(DeliveryRounds::Plan))
                    .col(timestamp_with_time_zone(DeliveryRounds::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DeliveryRounds::Table, DeliveryRounds::CycleId)
                            .to(OrderCycles::Table, OrderCycles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SlotRules {
    Table,
    Id,
    PickupPointId,
    Weekday,
    StartsLocal,
    EndsLocal,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PickupPoints {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DistributionSlots {
    Table,
    RuleId,
    Note,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    Collection,
    CheckedAt,
    CheckedBy,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    Method,
    AmountCents,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Id,
    KgPriceCents,
}

#[derive(DeriveIden)]
enum LineWeights {
    Table,
    OrderLineId,
    Piece,
    WeightMilli,
    RecordedAt,
}

#[derive(DeriveIden)]
enum DeliveryRounds {
    Table,
    Id,
    CycleId,
    Name,
    Request,
    Plan,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrderCycles {
    Table,
    Id,
}
