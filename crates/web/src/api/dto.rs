//! The JSON shapes of the API. They live here only: store views and entities never leave `web`
//! as they are, so the API can stay stable while the schema moves.

use super::input::{Dec, NonBlank, Text};
use chrono::{DateTime, Utc};
use domain::{Money, ProductPricing, Quantity, VatRate};
use poem_openapi::Object;
use store::{
    Actor, CycleSummary, CycleView, MarketView, OfferView, OrderLineView, OrderView,
    PickupPointView, ProducerView, ProductView, SlotView,
};

/// Money as the API shows it: a decimal string with exactly two decimals, in euros ("3.50").
pub(crate) fn money(m: Money) -> String {
    format!("{:.2}", m.amount())
}

fn vat(v: VatRate) -> String {
    v.percent().normalize().to_string()
}

fn qty(q: Quantity) -> String {
    q.value().normalize().to_string()
}

/// Email and password, to get a bearer token.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct TokenRequest {
    /// The account's email.
    #[oai(validator(max_length = 254))]
    pub email: NonBlank,
    /// The account's password.
    #[oai(validator(max_length = 1024))]
    pub password: NonBlank,
}

/// A bearer token and whose it is.
#[derive(Object)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The account.
    pub account: AccountDto,
}

/// A new consumer account.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct SignupRequest {
    /// Login.
    #[oai(validator(max_length = 254))]
    pub email: NonBlank,
    /// At least 4 characters.
    pub password: NonBlank,
    /// Name shown to the pickup point volunteers.
    #[oai(validator(max_length = 200))]
    pub name: NonBlank,
    /// Optional phone, to be told when a distribution moves.
    #[oai(nullable)]
    pub phone: Option<Text>,
}

/// An account.
#[derive(Object)]
pub struct AccountDto {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Login.
    pub email: String,
    /// consumer, producer, coordinator, volunteer or admin.
    pub role: String,
    /// For producer accounts.
    #[oai(nullable)]
    pub producer_id: Option<i64>,
    /// For coordinators and volunteers.
    #[oai(nullable)]
    pub market_id: Option<i64>,
}

impl From<&Actor> for AccountDto {
    fn from(a: &Actor) -> Self {
        Self {
            id: a.account_id,
            name: a.name.clone(),
            email: a.email.clone(),
            role: a.role.as_str().to_owned(),
            producer_id: a.producer_id,
            market_id: a.market_id,
        }
    }
}

/// A market.
#[derive(Object)]
pub struct MarketDto {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// URL name.
    pub slug: String,
    /// Time zone its distributions are scheduled in.
    pub timezone: String,
    /// About it.
    pub description: String,
    /// Town.
    pub city: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
}

impl From<MarketView> for MarketDto {
    fn from(m: MarketView) -> Self {
        Self {
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
}

/// A market to create (admins).
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewMarketRequest {
    /// Name.
    #[oai(validator(max_length = 200))]
    pub name: NonBlank,
    /// URL name, unique.
    #[oai(validator(max_length = 100))]
    pub slug: NonBlank,
    /// IANA time zone; Europe/Paris when absent.
    #[oai(nullable)]
    pub timezone: Option<Text>,
    /// About it.
    #[oai(default, nullable)]
    pub description: Text,
    /// Town.
    #[oai(validator(max_length = 200))]
    pub city: NonBlank,
    /// Latitude.
    #[oai(validator(minimum(value = "-90"), maximum(value = "90")))]
    pub latitude: f64,
    /// Longitude.
    #[oai(validator(minimum(value = "-180"), maximum(value = "180")))]
    pub longitude: f64,
}

/// A producer and how to reach it.
#[derive(Object)]
pub struct ProducerDto {
    /// Id.
    pub id: i64,
    /// Farm or workshop.
    pub name: String,
    /// The person.
    pub farmer_name: String,
    /// About it.
    pub description: String,
    /// Address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// Town.
    pub city: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Phone.
    #[oai(nullable)]
    pub phone: Option<String>,
    /// Email.
    #[oai(nullable)]
    pub email: Option<String>,
    /// Website.
    #[oai(nullable)]
    pub website: Option<String>,
    /// Social network page or handle.
    #[oai(nullable)]
    pub social: Option<String>,
}

impl From<ProducerView> for ProducerDto {
    fn from(p: ProducerView) -> Self {
        Self {
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
}

/// A producer to add to a market.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewProducerRequest {
    /// Farm or workshop.
    #[oai(validator(max_length = 200))]
    pub name: NonBlank,
    /// The person.
    #[oai(validator(max_length = 200))]
    pub farmer_name: NonBlank,
    /// About it.
    #[oai(default, nullable)]
    pub description: Text,
    /// Address.
    #[oai(validator(max_length = 300))]
    pub address: NonBlank,
    /// Postal code.
    #[oai(validator(max_length = 20))]
    pub postal_code: NonBlank,
    /// Town.
    #[oai(validator(max_length = 200))]
    pub city: NonBlank,
    /// Latitude.
    #[oai(validator(minimum(value = "-90"), maximum(value = "90")))]
    pub latitude: f64,
    /// Longitude.
    #[oai(validator(minimum(value = "-180"), maximum(value = "180")))]
    pub longitude: f64,
    /// Phone.
    #[oai(nullable)]
    pub phone: Option<Text>,
    /// Email.
    #[oai(nullable)]
    pub email: Option<Text>,
    /// Website.
    #[oai(nullable)]
    pub website: Option<Text>,
    /// Social network page or handle.
    #[oai(nullable)]
    pub social: Option<Text>,
}

/// A pickup point.
#[derive(Object)]
pub struct PickupPointDto {
    /// Id.
    pub id: i64,
    /// Market.
    pub market_id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// Town.
    pub city: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// town_hall, shop, company, farm or association.
    pub host_kind: String,
    /// Who hosts it.
    pub host_name: String,
    /// How to get in.
    pub access_notes: String,
}

impl From<PickupPointView> for PickupPointDto {
    fn from(p: PickupPointView) -> Self {
        Self {
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
}

/// A pickup point to add.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewPickupPointRequest {
    /// Name.
    #[oai(validator(max_length = 200))]
    pub name: NonBlank,
    /// Address.
    #[oai(validator(max_length = 300))]
    pub address: NonBlank,
    /// Postal code.
    #[oai(validator(max_length = 20))]
    pub postal_code: NonBlank,
    /// Town.
    #[oai(validator(max_length = 200))]
    pub city: NonBlank,
    /// Latitude.
    #[oai(validator(minimum(value = "-90"), maximum(value = "90")))]
    pub latitude: f64,
    /// Longitude.
    #[oai(validator(minimum(value = "-180"), maximum(value = "180")))]
    pub longitude: f64,
    /// town_hall, shop, company, farm or association.
    pub host_kind: NonBlank,
    /// Who hosts it.
    #[oai(validator(max_length = 200))]
    pub host_name: NonBlank,
    /// How to get in.
    #[oai(default, nullable)]
    pub access_notes: Text,
}

/// Unit, prices and VAT of a product or offer.
#[derive(Object)]
pub struct PricingDto {
    /// piece, kg, g, l, cl, bunch or dozen: what quantities count.
    pub unit: String,
    /// Price incl. VAT per unit; per kg for variable-weight pieces.
    pub price: String,
    /// VAT rate in percent ("5.5").
    pub vat_rate: String,
    /// Sold by the piece at an estimated weight, repriced on the real weight.
    pub variable_weight: bool,
    /// The estimated weight of one piece, in kg.
    #[oai(nullable)]
    pub estimated_weight_kg: Option<String>,
    /// The price of one ordering unit incl. VAT (estimated for variable-weight pieces).
    pub unit_price: String,
}

impl From<&ProductPricing> for PricingDto {
    fn from(p: &ProductPricing) -> Self {
        Self {
            unit: p.unit.as_str().to_owned(),
            price: money(p.price),
            vat_rate: vat(p.vat),
            variable_weight: p.variable_weight.is_some(),
            estimated_weight_kg: p.variable_weight.map(qty),
            unit_price: money(p.unit_price()),
        }
    }
}

/// A product of a producer's catalogue.
#[derive(Object)]
pub struct ProductDto {
    /// Id.
    pub id: i64,
    /// Producer.
    pub producer_id: i64,
    /// Name.
    pub name: String,
    /// Details.
    #[oai(nullable)]
    pub description: Option<String>,
    /// Unit, price, VAT.
    #[oai(flatten)]
    pub pricing: PricingDto,
    /// The smallest ordering step.
    pub step: String,
    /// False once archived.
    pub active: bool,
    /// Its photo: an uploaded one (`/photos/{id}.jpg?v=…`, on this server) or the address of
    /// an image online.
    #[oai(nullable)]
    pub photo_url: Option<String>,
    /// Its category's slug: vegetables, fruit, meat, poultry, fish, eggs, dairy, cheese,
    /// bread, grocery, honey, drinks, plants or other.
    pub category: String,
    /// The producer's own reference for it, unique per producer.
    #[oai(nullable)]
    pub reference: Option<String>,
}

impl From<ProductView> for ProductDto {
    fn from(p: ProductView) -> Self {
        Self {
            id: p.id,
            producer_id: p.producer_id,
            name: p.name,
            description: p.description,
            pricing: (&p.pricing).into(),
            step: qty(p.step),
            active: p.active,
            photo_url: p.photo_url,
            category: p.category.slug().to_owned(),
            reference: p.reference,
        }
    }
}

/// A product to create, or the whole new state of one.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ProductRequest {
    /// Name.
    #[oai(validator(max_length = 200))]
    pub name: NonBlank,
    /// Details.
    #[oai(nullable, validator(max_length = 2000))]
    pub description: Option<Text>,
    /// piece, kg, g, l, cl, bunch or dozen.
    pub unit: NonBlank,
    /// Price incl. VAT per unit (per kg for variable-weight pieces), e.g. "3.50".
    pub price: Dec,
    /// VAT rate in percent: 5.5, 10, 20...
    pub vat_rate: Dec,
    /// Smallest ordering step; 1 for pieces, 0.1 for kg and L by default.
    #[oai(nullable)]
    pub step: Option<Dec>,
    /// Sold by the piece at an estimated weight (a chicken, a cheese cut).
    #[oai(default, nullable)]
    pub variable_weight: bool,
    /// Estimated weight of one piece in kg, for variable-weight products.
    #[oai(nullable)]
    pub estimated_weight_kg: Option<Dec>,
    /// Category slug (vegetables, fruit, meat, poultry, fish, eggs, dairy, cheese, bread,
    /// grocery, honey, drinks, plants, other); `other` when absent.
    #[oai(nullable)]
    pub category: Option<NonBlank>,
    /// The producer's own reference for it (unique per producer); none when absent or blank.
    #[oai(nullable, validator(max_length = 64))]
    pub reference: Option<Text>,
}

/// A distribution slot.
#[derive(Object)]
pub struct SlotDto {
    /// Id.
    pub id: i64,
    /// Pickup point.
    pub pickup_point_id: i64,
    /// Its name.
    pub pickup_point_name: String,
    /// Its address.
    pub pickup_point_address: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Cancelled this week.
    pub cancelled: bool,
}

impl From<SlotView> for SlotDto {
    fn from(s: SlotView) -> Self {
        Self {
            id: s.id,
            pickup_point_id: s.pickup_point_id,
            pickup_point_name: s.pickup_point_name,
            pickup_point_address: s.pickup_point_address,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            cancelled: s.cancelled,
        }
    }
}

/// A product on sale in a cycle.
#[derive(Object)]
pub struct OfferDto {
    /// Id: what order lines name.
    pub id: i64,
    /// Product.
    pub product_id: i64,
    /// Its name.
    pub product_name: String,
    /// Its description.
    #[oai(nullable)]
    pub description: Option<String>,
    /// Producer.
    pub producer_id: i64,
    /// Its name.
    pub producer_name: String,
    /// Unit, price for this cycle, VAT.
    #[oai(flatten)]
    pub pricing: PricingDto,
    /// Smallest ordering step.
    pub step: String,
    /// Put on sale this cycle.
    pub stock_total: String,
    /// Left to order, shared by every pickup point.
    pub stock_left: String,
    /// Nothing left.
    pub sold_out: bool,
}

impl From<OfferView> for OfferDto {
    fn from(o: OfferView) -> Self {
        Self {
            id: o.id,
            product_id: o.product_id,
            product_name: o.product_name,
            description: o.description,
            producer_id: o.producer_id,
            producer_name: o.producer_name,
            pricing: (&o.pricing).into(),
            step: qty(o.step),
            stock_total: qty(o.stock_total),
            sold_out: o.stock_left.is_zero(),
            stock_left: qty(o.stock_left),
        }
    }
}

/// An order cycle, without slots and offers.
#[derive(Object)]
pub struct CycleSummaryDto {
    /// Id.
    pub id: i64,
    /// Market.
    pub market_id: i64,
    /// Name.
    pub name: String,
    /// Orders open.
    pub opens_at: DateTime<Utc>,
    /// Orders freeze.
    pub closes_at: DateTime<Utc>,
    /// draft, open, closed or distributed (taking the clock into account).
    pub state: String,
}

impl From<CycleSummary> for CycleSummaryDto {
    fn from(c: CycleSummary) -> Self {
        Self {
            id: c.id,
            market_id: c.market_id,
            name: c.name,
            opens_at: c.opens_at,
            closes_at: c.closes_at,
            state: c.state.as_str().to_owned(),
        }
    }
}

/// An order cycle with its slots and offers.
#[derive(Object)]
pub struct CycleDto {
    /// The cycle.
    #[oai(flatten)]
    pub cycle: CycleSummaryDto,
    /// Where and when baskets are collected.
    pub slots: Vec<SlotDto>,
    /// What is on sale, with stock left.
    pub offers: Vec<OfferDto>,
}

impl From<CycleView> for CycleDto {
    fn from(c: CycleView) -> Self {
        Self {
            cycle: c.cycle.into(),
            slots: c.slots.into_iter().map(Into::into).collect(),
            offers: c.offers.into_iter().map(Into::into).collect(),
        }
    }
}

/// A distribution slot to add.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewSlotRequest {
    /// One of the market's pickup points.
    pub pickup_point_id: i64,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// A cycle to create (as a draft).
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewCycleRequest {
    /// Name ("Semaine 48").
    #[oai(validator(max_length = 200))]
    pub name: NonBlank,
    /// Orders open.
    pub opens_at: DateTime<Utc>,
    /// Orders freeze.
    pub closes_at: DateTime<Utc>,
    /// Its distribution slots.
    #[oai(default, nullable)]
    pub slots: Vec<NewSlotRequest>,
}

/// One product put on sale.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct OfferLineRequest {
    /// One of the producer's products.
    pub product_id: i64,
    /// Price for this cycle incl. VAT; the product's price when absent.
    #[oai(nullable)]
    pub price: Option<Dec>,
    /// How much can be supplied this cycle, in the product's unit.
    pub stock: Dec,
}

/// A producer's whole offer for a cycle: what is listed is on sale, what is not is withdrawn.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct OfferSetRequest {
    /// The offers.
    pub offers: Vec<OfferLineRequest>,
}

/// One basket line asked for.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct OrderLineRequest {
    /// The offer.
    pub offer_id: i64,
    /// Quantity in the product's unit: whole for pieces, a multiple of the step otherwise.
    pub quantity: Dec,
}

/// A basket to place, or the new content of one.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct OrderRequestDto {
    /// Where and when to collect it.
    pub slot_id: i64,
    /// The lines.
    pub lines: Vec<OrderLineRequest>,
    /// For a coordinator ordering on a consumer's behalf: the consumer's account id.
    #[oai(nullable)]
    pub on_behalf_of: Option<i64>,
}

/// One line of a basket.
#[derive(Object)]
pub struct OrderLineDto {
    /// The offer.
    pub offer_id: i64,
    /// The product.
    pub product_id: i64,
    /// Its name.
    pub product_name: String,
    /// The producer.
    pub producer_id: i64,
    /// Its name.
    pub producer_name: String,
    /// Unit.
    pub unit: String,
    /// Sold at an estimated weight.
    pub variable_weight: bool,
    /// Estimated weight of one piece, kg.
    #[oai(nullable)]
    pub estimated_weight_kg: Option<String>,
    /// Quantity.
    pub quantity: String,
    /// Price of one unit incl. VAT.
    pub unit_price: String,
    /// VAT rate, percent.
    pub vat_rate: String,
    /// Line total incl. VAT.
    pub total: String,
}

impl From<OrderLineView> for OrderLineDto {
    fn from(l: OrderLineView) -> Self {
        Self {
            offer_id: l.offer_id,
            product_id: l.product_id,
            product_name: l.product_name,
            producer_id: l.producer_id,
            producer_name: l.producer_name,
            unit: l.pricing.unit.as_str().to_owned(),
            variable_weight: l.pricing.variable_weight.is_some(),
            estimated_weight_kg: l.pricing.variable_weight.map(qty),
            quantity: qty(l.quantity),
            unit_price: money(l.unit_price),
            vat_rate: vat(l.vat),
            total: money(l.total),
        }
    }
}

/// VAT for one rate.
#[derive(Object)]
pub struct VatLineDto {
    /// Rate, percent.
    pub rate: String,
    /// Total incl. VAT at this rate.
    pub gross: String,
    /// Total excl. VAT.
    pub net: String,
    /// The VAT.
    pub vat: String,
}

/// A basket.
#[derive(Object)]
pub struct OrderDto {
    /// Id.
    pub id: i64,
    /// Cycle.
    pub cycle_id: i64,
    /// Whose basket.
    pub account_id: i64,
    /// Their name.
    pub consumer_name: String,
    /// Who placed it.
    pub placed_by: i64,
    /// Who last changed or cancelled it; null while it is as placed.
    #[oai(nullable)]
    pub updated_by: Option<i64>,
    /// placed or cancelled.
    pub status: String,
    /// Where and when.
    pub slot: SlotDto,
    /// Lines.
    pub lines: Vec<OrderLineDto>,
    /// Total incl. VAT.
    pub total: String,
    /// VAT per rate.
    pub vat: Vec<VatLineDto>,
    /// Placed at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<OrderView> for OrderDto {
    fn from(o: OrderView) -> Self {
        Self {
            id: o.id,
            cycle_id: o.cycle_id,
            account_id: o.account_id,
            consumer_name: o.consumer_name,
            placed_by: o.placed_by,
            updated_by: o.updated_by,
            status: o.status,
            slot: o.slot.into(),
            total: money(o.totals.total),
            vat: o
                .totals
                .vat
                .iter()
                .map(|v| VatLineDto {
                    rate: vat(v.rate),
                    gross: money(v.gross),
                    net: money(v.net),
                    vat: money(v.vat),
                })
                .collect(),
            lines: o.lines.into_iter().map(Into::into).collect(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}
