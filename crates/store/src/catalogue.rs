//! Markets, producers, their products, and pickup points.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use domain::{
    Category, Money, ProductPricing, Quantity, Unit, VatRate, default_step, validate_step,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use crate::{
    Actor, Store, StoreError,
    entities::{market, market_producer, offer, order_cycle, pickup_point, producer, product},
    rights,
};

/// A market as shown to anyone.
#[derive(Clone, Debug)]
pub struct MarketView {
    /// Id.
    pub id: i64,
    /// Name ("AMAP du Mellois").
    pub name: String,
    /// URL-friendly name, unique.
    pub slug: String,
    /// IANA time zone its distributions are scheduled in.
    pub timezone: String,
    /// A few words about it.
    pub description: String,
    /// Its town.
    pub city: String,
    /// Where it is.
    pub latitude: f64,
    /// Where it is.
    pub longitude: f64,
}

/// A market to create (admin only, or the demo loader).
#[derive(Clone, Debug)]
pub struct NewMarket {
    /// See [`MarketView`].
    pub name: String,
    /// See [`MarketView`].
    pub slug: String,
    /// See [`MarketView`].
    pub timezone: String,
    /// See [`MarketView`].
    pub description: String,
    /// See [`MarketView`].
    pub city: String,
    /// See [`MarketView`].
    pub latitude: f64,
    /// See [`MarketView`].
    pub longitude: f64,
}

/// A producer and its usual contact channels.
#[derive(Clone, Debug)]
pub struct ProducerView {
    /// Id.
    pub id: i64,
    /// Farm or workshop name.
    pub name: String,
    /// The person behind it.
    pub farmer_name: String,
    /// A few words about it.
    pub description: String,
    /// Street address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// Town.
    pub city: String,
    /// Where the farm is (collection rounds start from here).
    pub latitude: f64,
    /// Where the farm is.
    pub longitude: f64,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// A social-network page or handle.
    pub social: Option<String>,
}

/// A producer to create; same fields as [`ProducerView`] without the id.
#[derive(Clone, Debug)]
pub struct NewProducer {
    /// See [`ProducerView`].
    pub name: String,
    /// See [`ProducerView`].
    pub farmer_name: String,
    /// See [`ProducerView`].
    pub description: String,
    /// See [`ProducerView`].
    pub address: String,
    /// See [`ProducerView`].
    pub postal_code: String,
    /// See [`ProducerView`].
    pub city: String,
    /// See [`ProducerView`].
    pub latitude: f64,
    /// See [`ProducerView`].
    pub longitude: f64,
    /// See [`ProducerView`].
    pub phone: Option<String>,
    /// See [`ProducerView`].
    pub email: Option<String>,
    /// See [`ProducerView`].
    pub website: Option<String>,
    /// See [`ProducerView`].
    pub social: Option<String>,
}

/// A product in a producer's catalogue.
#[derive(Clone, Debug)]
pub struct ProductView {
    /// Id.
    pub id: i64,
    /// Whose product it is.
    pub producer_id: i64,
    /// Name ("Pommes Reinette grise").
    pub name: String,
    /// Optional details.
    pub description: Option<String>,
    /// Unit, price incl. VAT (per kg for variable-weight pieces), VAT rate, estimated weight.
    pub pricing: ProductPricing,
    /// The smallest quantity step a consumer can order.
    pub step: Quantity,
    /// False once archived: kept for past orders, no longer offered.
    pub active: bool,
    /// The address of its photo, if it has one ([`Store::set_product_photo`]).
    pub photo_url: Option<String>,
    /// What it is, in the words shoppers filter by.
    pub category: Category,
    /// The producer's own code for it, unique per producer (catalogue imports match on it).
    pub reference: Option<String>,
}

/// A product to create, or the full new state of one (`PUT`).
#[derive(Clone, Debug)]
pub struct NewProduct {
    /// Name.
    pub name: String,
    /// Optional details.
    pub description: Option<String>,
    /// Unit, price incl. VAT, VAT rate, estimated weight for variable-weight pieces.
    pub pricing: ProductPricing,
    /// Ordering step; the unit's default when absent.
    pub step: Option<Quantity>,
    /// What it is.
    pub category: Category,
    /// The producer's own code for it; blank is none.
    pub reference: Option<String>,
}

/// Alias for the full replacement of a product's editable fields.
pub type ProductUpdate = NewProduct;

/// A pickup point.
#[derive(Clone, Debug)]
pub struct PickupPointView {
    /// Id.
    pub id: i64,
    /// The market it serves.
    pub market_id: i64,
    /// Name ("Salle des fêtes de Melle").
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// Town.
    pub city: String,
    /// Where it is.
    pub latitude: f64,
    /// Where it is.
    pub longitude: f64,
    /// What kind of host: town_hall, shop, company, farm, association.
    pub host_kind: String,
    /// Who hosts it.
    pub host_name: String,
    /// How to get in, where to park, who to ask.
    pub access_notes: String,
}

/// A pickup point to create; same fields as [`PickupPointView`] without ids.
#[derive(Clone, Debug)]
pub struct NewPickupPoint {
    /// See [`PickupPointView`].
    pub name: String,
    /// See [`PickupPointView`].
    pub address: String,
    /// See [`PickupPointView`].
    pub postal_code: String,
    /// See [`PickupPointView`].
    pub city: String,
    /// See [`PickupPointView`].
    pub latitude: f64,
    /// See [`PickupPointView`].
    pub longitude: f64,
    /// See [`PickupPointView`].
    pub host_kind: String,
    /// See [`PickupPointView`].
    pub host_name: String,
    /// See [`PickupPointView`].
    pub access_notes: String,
}

/// The host kinds a pickup point may have.
pub const HOST_KINDS: [&str; 5] = ["town_hall", "shop", "company", "farm", "association"];

pub(crate) fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!(
        "corrupt {what} in database: {value:?}"
    )))
}

pub(crate) fn unit_of(s: &str) -> Result<Unit, StoreError> {
    s.parse::<Unit>().map_err(|_| corrupt("unit", s))
}

pub(crate) fn vat_of(bp: i32) -> Result<VatRate, StoreError> {
    u32::try_from(bp)
        .map(VatRate::from_basis_points)
        .map_err(|_| corrupt("VAT rate", bp))
}

/// Pricing of a product row, with the price of `price_cents` (the product's or an offer's).
pub(crate) fn pricing_of(
    p: &product::Model,
    price_cents: i64,
) -> Result<ProductPricing, StoreError> {
    Ok(ProductPricing {
        unit: unit_of(&p.unit)?,
        price: Money::from_cents(price_cents),
        vat: vat_of(p.vat_basis_points)?,
        variable_weight: p
            .estimated_weight_milli
            .filter(|_| p.variable_weight)
            .map(Quantity::from_milli),
    })
}

/// Products by id, in one query.
pub(crate) async fn products_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, product::Model>, StoreError> {
    let ids: HashSet<i64> = ids.into_iter().collect();
    Ok(product::Entity::find()
        .filter(product::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// Producers' names by id, in one query.
pub(crate) async fn producer_names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    let ids: HashSet<i64> = ids.into_iter().collect();
    Ok(producer::Entity::find()
        .filter(producer::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

pub(crate) fn product_view(p: product::Model) -> Result<ProductView, StoreError> {
    Ok(ProductView {
        pricing: pricing_of(&p, p.price_cents)?,
        step: Quantity::from_milli(p.step_milli),
        id: p.id,
        producer_id: p.producer_id,
        name: p.name,
        description: p.description,
        active: p.active,
        photo_url: p.photo_url,
        category: Category::parse(&p.category).map_err(|_| corrupt("category", &p.category))?,
        reference: p.reference,
    })
}

fn market_view(m: market::Model) -> MarketView {
    MarketView {
        id: m.id,
        name: m.name,
        slug: m.slug,
        timezone: m.timezone,
        description: m.description,
        city: m.city,
        latitude: m.latitude,
        longitude: m.longitude,
    }
}

pub(crate) fn producer_view(p: producer::Model) -> ProducerView {
    ProducerView {
        id: p.id,
        name: p.name,
        farmer_name: p.farmer_name,
        description: p.description,
        address: p.address,
        postal_code: p.postal_code,
        city: p.city,
        latitude: p.latitude,
        longitude: p.longitude,
        phone: p.phone,
        email: p.email,
        website: p.website,
        social: p.social,
    }
}

pub(crate) fn pickup_point_view(p: pickup_point::Model) -> PickupPointView {
    PickupPointView {
        id: p.id,
        market_id: p.market_id,
        name: p.name,
        address: p.address,
        postal_code: p.postal_code,
        city: p.city,
        latitude: p.latitude,
        longitude: p.longitude,
        host_kind: p.host_kind,
        host_name: p.host_name,
        access_notes: p.access_notes,
    }
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), StoreError> {
    crate::text::check_chars(field, value)?;
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(StoreError::invalid(
            "invalid_field",
            format!("{field} is required and at most {max} characters long"),
        ));
    }
    Ok(())
}

/// A postal address: every part required, within the lengths the API documents.
fn check_address(address: &str, postal_code: &str, city: &str) -> Result<(), StoreError> {
    check_text("address", address, 300)?;
    check_text("postal_code", postal_code, 20)?;
    check_text("city", city, 200)
}

fn check_coordinates(latitude: f64, longitude: f64) -> Result<(), StoreError> {
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return Err(StoreError::invalid(
            "invalid_coordinates",
            "latitude must be within ±90 and longitude within ±180",
        ));
    }
    Ok(())
}

pub(crate) fn validated_product(new: &NewProduct) -> Result<Quantity, StoreError> {
    check_text("name", &new.name, 200)?;
    crate::text::check_all([("description", new.description.as_deref())])?;
    if new
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        return Err(StoreError::invalid(
            "invalid_field",
            "description is at most 2000 characters long",
        ));
    }
    if let Some(r) = reference_of(new.reference.as_deref()) {
        check_text("reference", &r, 64)?;
    }
    new.pricing.validate()?;
    let step = new.step.unwrap_or_else(|| default_step(new.pricing.unit));
    validate_step(new.pricing.unit, step)?;
    Ok(step)
}

/// A reference as stored: trimmed, and none when blank.
pub(crate) fn reference_of(r: Option<&str>) -> Option<String> {
    r.map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}

/// The unique index on (producer, reference) said no: another product has this reference.
pub(crate) fn reference_taken(e: sea_orm::DbErr) -> StoreError {
    if matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        StoreError::conflict(
            "reference_taken",
            "another of this producer's products already has this reference",
        )
    } else {
        e.into()
    }
}

/// A photo's address: `https://` or `http://`, a host, 500 characters at most, no space,
/// quote or control character (it goes in an `src` attribute as it is).
pub fn check_photo_url(url: &str) -> Result<(), StoreError> {
    crate::text::check_chars("photo_url", url)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = url.chars().count() <= 500
        && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "invalid_photo_url",
            "photo_url must be an http(s) address of at most 500 characters",
        ))
    }
}

impl Store {
    /// Every market, by name.
    pub async fn list_markets(&self) -> Result<Vec<MarketView>, StoreError> {
        let rows = market::Entity::find()
            .order_by_asc(market::Column::Name)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(market_view).collect())
    }

    /// One market.
    pub async fn market(&self, id: i64) -> Result<MarketView, StoreError> {
        market::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(market_view)
            .ok_or_else(|| StoreError::not_found("market", id))
    }

    /// Creates a market (admins only).
    pub async fn create_market(
        &self,
        actor: &Actor,
        new: NewMarket,
    ) -> Result<MarketView, StoreError> {
        if !rights::may_create_market(actor) {
            return Err(StoreError::forbidden(
                "only an administrator can create a market",
            ));
        }
        check_text("name", &new.name, 200)?;
        check_text("slug", &new.slug, 100)?;
        crate::text::check_all([("description", Some(new.description.as_str()))])?;
        check_text("city", &new.city, 200)?;
        check_coordinates(new.latitude, new.longitude)?;
        if new.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(StoreError::invalid(
                "invalid_timezone",
                format!("unknown time zone {:?}", new.timezone),
            ));
        }
        let m = market::ActiveModel {
            name: Set(new.name),
            slug: Set(new.slug),
            timezone: Set(new.timezone),
            description: Set(new.description),
            city: Set(new.city),
            latitude: Set(new.latitude),
            longitude: Set(new.longitude),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        match m.insert(self.db()).await {
            Ok(m) => Ok(market_view(m)),
            Err(e)
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                Err(StoreError::conflict(
                    "slug_taken",
                    "another market already uses this slug",
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The producers selling through a market, by name.
    pub async fn list_producers(&self, market_id: i64) -> Result<Vec<ProducerView>, StoreError> {
        self.market(market_id).await?;
        let ids: Vec<i64> = market_producer::Entity::find()
            .select_only()
            .column(market_producer::Column::ProducerId)
            .filter(market_producer::Column::MarketId.eq(market_id))
            .into_tuple()
            .all(self.db())
            .await?;
        let rows = producer::Entity::find()
            .filter(producer::Column::Id.is_in(ids))
            .order_by_asc(producer::Column::Name)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(producer_view).collect())
    }

    /// One producer.
    pub async fn producer(&self, id: i64) -> Result<ProducerView, StoreError> {
        producer::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(producer_view)
            .ok_or_else(|| StoreError::not_found("producer", id))
    }

    /// Whether a producer sells through a market.
    pub(crate) async fn producer_in_market(
        &self,
        producer_id: i64,
        market_id: i64,
    ) -> Result<bool, StoreError> {
        Ok(
            market_producer::Entity::find_by_id((market_id, producer_id))
                .one(self.db())
                .await?
                .is_some(),
        )
    }

    /// Creates a producer and lists it in a market (the market's coordinators, or an admin).
    pub async fn create_producer(
        &self,
        actor: &Actor,
        market_id: i64,
        new: NewProducer,
    ) -> Result<ProducerView, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can add producers to it",
            ));
        }
        check_text("name", &new.name, 200)?;
        // Required fields are checked by check_text (characters included); these are free text.
        crate::text::check_all([
            ("description", Some(new.description.as_str())),
            ("phone", new.phone.as_deref()),
            ("email", new.email.as_deref()),
            ("website", new.website.as_deref()),
            ("social", new.social.as_deref()),
        ])?;
        check_text("farmer_name", &new.farmer_name, 200)?;
        check_address(&new.address, &new.postal_code, &new.city)?;
        check_coordinates(new.latitude, new.longitude)?;
        let w = self.write().await?;
        let p = producer::ActiveModel {
            name: Set(new.name),
            farmer_name: Set(new.farmer_name),
            description: Set(new.description),
            address: Set(new.address),
            postal_code: Set(new.postal_code),
            city: Set(new.city),
            latitude: Set(new.latitude),
            longitude: Set(new.longitude),
            phone: Set(new.phone),
            email: Set(new.email),
            website: Set(new.website),
            social: Set(new.social),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&w.tx)
        .await?;
        market_producer::ActiveModel {
            market_id: Set(market_id),
            producer_id: Set(p.id),
        }
        .insert(&w.tx)
        .await?;
        w.commit().await?;
        Ok(producer_view(p))
    }

    /// A producer's products: active ones for everyone, archived ones too for the producer.
    pub async fn list_products(
        &self,
        actor: Option<&Actor>,
        producer_id: i64,
    ) -> Result<Vec<ProductView>, StoreError> {
        self.producer(producer_id).await?;
        let mut q = product::Entity::find()
            .filter(product::Column::ProducerId.eq(producer_id))
            .order_by_asc(product::Column::Name)
            .order_by_asc(product::Column::Id);
        if !actor.is_some_and(|a| a.is_producer(producer_id)) {
            q = q.filter(product::Column::Active.eq(true));
        }
        q.all(self.db())
            .await?
            .into_iter()
            .map(product_view)
            .collect()
    }

    /// One product; archived products only for their producer.
    pub async fn product(&self, actor: Option<&Actor>, id: i64) -> Result<ProductView, StoreError> {
        let p = product::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .filter(|p| p.active || actor.is_some_and(|a| a.is_producer(p.producer_id)))
            .ok_or_else(|| StoreError::not_found("product", id))?;
        product_view(p)
    }

    /// Adds a product to a producer's catalogue (that producer's account, or an admin).
    pub async fn create_product(
        &self,
        actor: &Actor,
        producer_id: i64,
        new: NewProduct,
    ) -> Result<ProductView, StoreError> {
        self.producer(producer_id).await?;
        if !rights::may_manage_catalogue(actor, producer_id) {
            return Err(StoreError::forbidden(
                "you can only manage your own products",
            ));
        }
        let step = validated_product(&new)?;
        let now = Utc::now();
        let p =
            product::ActiveModel {
                producer_id: Set(producer_id),
                name: Set(new.name.trim().to_owned()),
                description: Set(new.description),
                unit: Set(new.pricing.unit.as_str().to_owned()),
                price_cents: Set(new.pricing.price.cents()),
                vat_basis_points: Set(
                    i32::try_from(new.pricing.vat.basis_points()).unwrap_or(i32::MAX)
                ),
                step_milli: Set(step.milli()),
                variable_weight: Set(new.pricing.variable_weight.is_some()),
                estimated_weight_milli: Set(new.pricing.variable_weight.map(|q| q.milli())),
                category: Set(new.category.slug().to_owned()),
                reference: Set(reference_of(new.reference.as_deref())),
                active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(self.db())
            .await
            .map_err(reference_taken)?;
        product_view(p)
    }

    /// A product the actor may change: 404 for who may not even see it (someone else's
    /// archived product), 403 for who sees it but does not own it.
    pub(crate) async fn own_product(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<product::Model, StoreError> {
        let p = product::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .filter(|p| p.active || rights::may_manage_catalogue(actor, p.producer_id))
            .ok_or_else(|| StoreError::not_found("product", id))?;
        if !rights::may_manage_catalogue(actor, p.producer_id) {
            return Err(StoreError::forbidden(
                "you can only manage your own products",
            ));
        }
        Ok(p)
    }

    /// Replaces a product's editable fields. Orders already placed keep everything they were
    /// sold on (their lines carry price, VAT, unit and weights); offers keep their own price
    /// for the cycle. An archived product stays archived.
    pub async fn update_product(
        &self,
        actor: &Actor,
        id: i64,
        new: ProductUpdate,
    ) -> Result<ProductView, StoreError> {
        let existing = self.own_product(actor, id).await?;
        let step = validated_product(&new)?;
        let mut m: product::ActiveModel = existing.into();
        m.name = Set(new.name.trim().to_owned());
        m.description = Set(new.description);
        m.unit = Set(new.pricing.unit.as_str().to_owned());
        m.price_cents = Set(new.pricing.price.cents());
        m.vat_basis_points = Set(i32::try_from(new.pricing.vat.basis_points()).unwrap_or(i32::MAX));
        m.step_milli = Set(step.milli());
        m.variable_weight = Set(new.pricing.variable_weight.is_some());
        m.estimated_weight_milli = Set(new.pricing.variable_weight.map(|q| q.milli()));
        m.category = Set(new.category.slug().to_owned());
        m.reference = Set(reference_of(new.reference.as_deref()));
        // Editing never un-archives: an archived product stays archived.
        m.updated_at = Set(Utc::now());
        let updated = m.update(self.db()).await.map_err(reference_taken)?;
        self.sales.changed();
        product_view(updated)
    }

    /// Removes a product. One that was ever offered is archived instead (past orders and
    /// picking lists still name it), and its offers in cycles still selling are withdrawn;
    /// returns whether it was archived.
    pub async fn delete_product(&self, actor: &Actor, id: i64) -> Result<bool, StoreError> {
        let existing = self.own_product(actor, id).await?;
        let offered = offer::Entity::find()
            .filter(offer::Column::ProductId.eq(id))
            .one(self.db())
            .await?
            .is_some();
        if offered {
            // Archived, it is no longer sold: its offers in cycles still selling are withdrawn
            // (what was ordered stays reserved, nothing more is sold).
            let now = Utc::now();
            let w = self.write().await?;
            let name = existing.name.clone();
            let mut m: product::ActiveModel = existing.into();
            m.active = Set(false);
            m.updated_at = Set(now);
            m.update(&w.tx).await?;
            let offers = offer::Entity::find()
                .filter(offer::Column::ProductId.eq(id))
                .filter(offer::Column::WithdrawnAt.is_null())
                .order_by_asc(offer::Column::Id)
                .all(&w.tx)
                .await?;
            // Their cycles in one query, not one per offer.
            let cycles: HashMap<i64, order_cycle::Model> = order_cycle::Entity::find()
                .filter(order_cycle::Column::Id.is_in(offers.iter().map(|o| o.cycle_id)))
                .all(&w.tx)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
            for o in offers {
                let c = cycles
                    .get(&o.cycle_id)
                    .ok_or_else(|| corrupt("offer's cycle", o.cycle_id))?;
                if crate::cycles::still_selling(c, now)? {
                    crate::cycles::withdraw_offer(&w.tx, o.id, now).await?;
                    let detail = format!("{} → —", crate::audit::quantity(o.stock_total_milli));
                    crate::audit::record(
                        &w.tx,
                        actor,
                        c.market_id,
                        crate::audit::kind::STOCK,
                        format!("{name}, {}", c.name),
                        detail,
                    )
                    .await?;
                }
            }
            w.commit().await?;
        } else {
            product::Entity::delete_by_id(id).exec(self.db()).await?;
        }
        self.sales.changed();
        Ok(offered)
    }

    /// Sets or removes a product's photo: the address of an image (`https://` or `http://`,
    /// 500 characters at most; see [`check_photo_url`]), or none. An uploaded photo
    /// ([`Store::upload_product_photo`]) it replaces is deleted. The producer's account, or an
    /// admin.
    pub async fn set_product_photo(
        &self,
        actor: &Actor,
        id: i64,
        photo_url: Option<String>,
    ) -> Result<ProductView, StoreError> {
        let existing = self.own_product(actor, id).await?;
        let photo_url = photo_url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        if let Some(u) = &photo_url {
            check_photo_url(u)?;
        }
        let tx = self.db().begin().await?;
        // An uploaded photo the product no longer points at is not kept.
        crate::entities::product_photo::Entity::delete_by_id(id)
            .exec(&tx)
            .await?;
        let mut m: product::ActiveModel = existing.into();
        m.photo_url = Set(photo_url);
        m.updated_at = Set(Utc::now());
        let updated = m.update(&tx).await?;
        tx.commit().await?;
        self.sales.changed();
        product_view(updated)
    }

    /// A market's pickup points, by name.
    pub async fn list_pickup_points(
        &self,
        market_id: i64,
    ) -> Result<Vec<PickupPointView>, StoreError> {
        self.market(market_id).await?;
        let rows = pickup_point::Entity::find()
            .filter(pickup_point::Column::MarketId.eq(market_id))
            .order_by_asc(pickup_point::Column::Name)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(pickup_point_view).collect())
    }

    /// Adds a pickup point to a market (its coordinators, or an admin).
    pub async fn create_pickup_point(
        &self,
        actor: &Actor,
        market_id: i64,
        new: NewPickupPoint,
    ) -> Result<PickupPointView, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can add pickup points",
            ));
        }
        check_text("name", &new.name, 200)?;
        crate::text::check_all([("access_notes", Some(new.access_notes.as_str()))])?;
        check_address(&new.address, &new.postal_code, &new.city)?;
        check_text("host_name", &new.host_name, 200)?;
        check_coordinates(new.latitude, new.longitude)?;
        if !HOST_KINDS.contains(&new.host_kind.as_str()) {
            return Err(StoreError::invalid(
                "invalid_host_kind",
                format!("host_kind must be one of {}", HOST_KINDS.join(", ")),
            ));
        }
        let p = pickup_point::ActiveModel {
            market_id: Set(market_id),
            name: Set(new.name),
            address: Set(new.address),
            postal_code: Set(new.postal_code),
            city: Set(new.city),
            latitude: Set(new.latitude),
            longitude: Set(new.longitude),
            host_kind: Set(new.host_kind),
            host_name: Set(new.host_name),
            access_notes: Set(new.access_notes),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        // Written outside a `WriteTx`: the directory in memory is told here.
        self.directory.written();
        Ok(pickup_point_view(p))
    }
}
