//! The demo market: loads `fixtures/demo.json` (a market around Parthenay, its producers and
//! their products, pickup points and accounts) and builds two cycles around today — one closed
//! with its orders, one open with a few baskets already placed — through the same use cases the
//! API runs, so the demo data obeys every rule real data does. Two of the open week's venues
//! are flagged unavailable (one slot cancelled, one moved), with baskets at them.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use domain::{
    CycleState, Money, ProductPricing, Quantity, RequestedLine, Unit, VatRate, default_step,
};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde::Deserialize;

use crate::{
    Actor, NewMarket, NewPickupPoint, NewProducer, NewProduct, OfferInput, OrderRequest, Role,
    Store, StoreError, VenueFlag,
    auth::hash_password,
    entities::{distribution_slot, order_cycle},
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "demo";

#[derive(Deserialize)]
struct Demo {
    market: DemoMarket,
    /// The market's vehicles, for co-delivery rounds shared among them.
    #[serde(default)]
    vehicles: Vec<DemoVehicle>,
    pickup_points: Vec<DemoPoint>,
    producers: Vec<DemoProducer>,
    accounts: Vec<DemoAccount>,
}

#[derive(Deserialize)]
struct DemoMarket {
    name: String,
    slug: String,
    timezone: String,
    description: String,
    city: String,
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct DemoVehicle {
    name: String,
    capacity_crates: u32,
    capacity_kg: Option<rust_decimal::Decimal>,
}

#[derive(Deserialize)]
struct DemoPoint {
    key: String,
    name: String,
    address: String,
    postal_code: String,
    city: String,
    latitude: f64,
    longitude: f64,
    host_kind: String,
    host_name: String,
    access_notes: String,
    weekday: String,
    starts: String,
    ends: String,
}

#[derive(Deserialize)]
struct DemoProducer {
    key: String,
    name: String,
    description: String,
    farmer: String,
    address: String,
    postal_code: String,
    city: String,
    latitude: f64,
    longitude: f64,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    social: Option<String>,
    products: Vec<DemoProduct>,
}

#[derive(Deserialize)]
struct DemoProduct {
    name: String,
    description: Option<String>,
    unit: String,
    price: Decimal,
    vat_rate: Decimal,
    step: Decimal,
    variable_weight: bool,
    estimated_weight_kg: Option<Decimal>,
    weekly_stock: Decimal,
    category: String,
    reference: Option<String>,
}

#[derive(Deserialize)]
struct DemoAccount {
    email: String,
    name: String,
    role: String,
    producer: Option<String>,
    /// For a host: the key of the pickup point it speaks for.
    pickup_point: Option<String>,
    phone: Option<String>,
}

/// What the demo loader created, to print for whoever runs `halle demo`.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    /// The demo market.
    pub market_id: i64,
    /// The cycle open for orders now.
    pub open_cycle_id: i64,
    /// Last week's cycle, closed, with its orders.
    pub closed_cycle_id: i64,
    /// One login per role: (role, email).
    pub logins: Vec<(String, String)>,
    /// How many producers, products, accounts and orders were created.
    pub counts: (usize, usize, usize, usize),
}

fn bad(what: impl std::fmt::Display) -> StoreError {
    StoreError::invalid("invalid_fixture", format!("demo fixture: {what}"))
}

fn weekday(s: &str) -> Result<Weekday, StoreError> {
    s.parse::<Weekday>()
        .map_err(|_| bad(format!("unknown weekday {s:?}")))
}

fn time(s: &str) -> Result<NaiveTime, StoreError> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| bad(format!("bad time {s:?}")))
}

/// The instant of `date` at `t` in `tz` (the earlier one when a DST change makes it ambiguous).
fn at_local(tz: Tz, date: chrono::NaiveDate, t: NaiveTime) -> Result<DateTime<Utc>, StoreError> {
    tz.from_local_datetime(&date.and_time(t))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| bad(format!("{date} {t} does not exist in {tz}")))
}

/// The first `day` at `t` (local time) strictly after `after`.
fn next_weekly(
    tz: Tz,
    after: DateTime<Utc>,
    day: Weekday,
    t: NaiveTime,
) -> Result<DateTime<Utc>, StoreError> {
    let mut date = after.with_timezone(&tz).date_naive();
    for _ in 0..8 {
        if date.weekday() == day {
            let candidate = at_local(tz, date, t)?;
            if candidate > after {
                return Ok(candidate);
            }
        }
        date = date.succ_opt().ok_or_else(|| bad("date overflow"))?;
    }
    Err(bad("no weekly occurrence found"))
}

/// A small deterministic generator (splitmix64), so every demo database has the same baskets.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Loads the demo market from `json` into an empty, migrated store, with cycles placed around
/// `now`.
pub async fn load_demo(
    store: &Store,
    json: &str,
    now: DateTime<Utc>,
) -> Result<DemoSummary, StoreError> {
    let demo: Demo = serde_json::from_str(json).map_err(bad)?;
    let tz: Tz = demo
        .market
        .timezone
        .parse()
        .map_err(|_| bad("unknown time zone"))?;
    // One argon2 hash for every demo account: they all share the password "demo" anyway, and
    // hashing 100 times would make `halle demo` and the tests wait for nothing.
    let hash = hash_password(DEMO_PASSWORD.to_owned()).await?;

    let bootstrap = Actor {
        account_id: 0,
        name: "demo loader".into(),
        email: String::new(),
        role: Role::Admin,
        producer_id: None,
        market_id: None,
        unconfirmed_token: None,
    };
    let m = &demo.market;
    let market = store
        .create_market(
            &bootstrap,
            NewMarket {
                name: m.name.clone(),
                slug: m.slug.clone(),
                timezone: m.timezone.clone(),
                description: m.description.clone(),
                city: m.city.clone(),
                latitude: m.latitude,
                longitude: m.longitude,
            },
        )
        .await?;

    for v in &demo.vehicles {
        store
            .create_vehicle(
                &bootstrap,
                market.id,
                crate::VehicleInput {
                    name: v.name.clone(),
                    capacity_crates: v.capacity_crates,
                    capacity_kg: v.capacity_kg,
                },
            )
            .await?;
    }

    let mut points = Vec::new();
    let mut point_ids = HashMap::new();
    for p in &demo.pickup_points {
        let view = store
            .create_pickup_point(
                &bootstrap,
                market.id,
                NewPickupPoint {
                    name: p.name.clone(),
                    address: p.address.clone(),
                    postal_code: p.postal_code.clone(),
                    city: p.city.clone(),
                    latitude: p.latitude,
                    longitude: p.longitude,
                    host_kind: p.host_kind.clone(),
                    host_name: p.host_name.clone(),
                    access_notes: p.access_notes.clone(),
                },
            )
            .await?;
        // The point's weekly slot becomes a slot rule; each cycle's slot comes from it.
        let rule = store
            .create_slot_rule(
                &bootstrap,
                view.id,
                weekday(&p.weekday)?,
                &p.starts,
                &p.ends,
            )
            .await?;
        let slot_rule =
            distribution::SlotRule::new(rule.weekday, time(&p.starts)?, time(&p.ends)?, tz)
                .map_err(|e| bad(format!("{}: {e}", p.key)))?;
        point_ids.insert(p.key.clone(), view.id);
        points.push((view.id, rule.id, slot_rule));
    }

    let mut producer_ids = HashMap::new();
    let mut catalogue: Vec<(i64, Vec<(i64, Quantity)>)> = Vec::new();
    let mut product_count = 0;
    for p in &demo.producers {
        let view = store
            .create_producer(
                &bootstrap,
                market.id,
                NewProducer {
                    name: p.name.clone(),
                    farmer_name: p.farmer.clone(),
                    description: p.description.clone(),
                    address: p.address.clone(),
                    postal_code: p.postal_code.clone(),
                    city: p.city.clone(),
                    latitude: p.latitude,
                    longitude: p.longitude,
                    phone: p.phone.clone(),
                    email: p.email.clone(),
                    website: p.website.clone(),
                    social: p.social.clone(),
                },
            )
            .await?;
        producer_ids.insert(p.key.clone(), view.id);
        let words = std::iter::once(format!("{} {}", p.name, p.description))
            .chain(p.products.iter().map(|d| d.name.clone()))
            .collect::<Vec<_>>()
            .join(" ");
        let entry = crate::directory::demo::demo_entry(producer_ids.len() - 1, &words);
        store
            .save_directory_entry(&bootstrap, view.id, entry)
            .await?;
        let mut products = Vec::new();
        for d in &p.products {
            let unit: Unit = d
                .unit
                .parse()
                .map_err(|_| bad(format!("unit {:?}", d.unit)))?;
            let pricing = ProductPricing {
                unit,
                price: Money::from_decimal(d.price).map_err(|e| bad(format!("{}: {e}", d.name)))?,
                vat: VatRate::parse(d.vat_rate).map_err(|e| bad(format!("{}: {e}", d.name)))?,
                variable_weight: match (d.variable_weight, d.estimated_weight_kg) {
                    (true, Some(w)) => Some(Quantity::new(w)?),
                    (true, None) => return Err(bad(format!("{} has no estimated weight", d.name))),
                    (false, _) => None,
                },
            };
            let step = Quantity::new(d.step)?;
            let product = store
                .create_product(
                    &bootstrap,
                    view.id,
                    NewProduct {
                        name: d.name.clone(),
                        description: d.description.clone(),
                        pricing,
                        step: (step != default_step(unit)).then_some(step),
                        category: domain::Category::parse(&d.category)
                            .map_err(|e| bad(format!("{}: {e}", d.name)))?,
                        reference: d.reference.clone(),
                    },
                )
                .await?;
            products.push((product.id, Quantity::new(d.weekly_stock)?));
            product_count += 1;
        }
        catalogue.push((view.id, products));
    }

    let mut consumers = Vec::new();
    let mut logins: Vec<(String, String)> = Vec::new();
    let mut coordinator: Option<Actor> = None;
    for a in &demo.accounts {
        let role = Role::parse(&a.role).ok_or_else(|| bad(format!("role {:?}", a.role)))?;
        let producer_id = match &a.producer {
            Some(key) => Some(
                *producer_ids
                    .get(key)
                    .ok_or_else(|| bad(format!("unknown producer {key:?}")))?,
            ),
            None => None,
        };
        let market_id = matches!(role, Role::Coordinator | Role::Volunteer).then_some(market.id);
        let actor = store
            .insert_account_with_hash(
                &a.email,
                hash.clone(),
                a.name.clone(),
                a.phone.clone(),
                role,
                producer_id,
                market_id,
            )
            .await?;
        if let Some(key) = &a.pickup_point {
            let point = *point_ids
                .get(key)
                .ok_or_else(|| bad(format!("unknown pickup point {key:?}")))?;
            store
                .assign_host_venue(&bootstrap, actor.account_id, point)
                .await?;
        }
        if !logins.iter().any(|(r, _)| r == role.as_str()) {
            logins.push((role.as_str().to_owned(), actor.email.clone()));
        }
        if role == Role::Coordinator && coordinator.is_none() {
            coordinator = Some(actor.clone());
        }
        if role == Role::Consumer {
            consumers.push(actor);
        }
    }

    // The open cycle closes on the next Tuesday evening at least a day away; last week's cycle
    // closed seven days (of local time) before it. Each opens right after the previous closes.
    let close_time = time("20:00")?;
    let mut open_close = next_weekly(tz, now + Duration::days(1), Weekday::Tue, close_time)?;
    if open_close <= now {
        open_close = next_weekly(tz, now, Weekday::Tue, close_time)?;
    }
    let local_close = open_close.with_timezone(&tz).date_naive();
    let closed_close = at_local(tz, local_close - Duration::days(7), close_time)?;
    let closed_open = at_local(tz, local_close - Duration::days(14), time("21:00")?)?;
    let open_open = at_local(tz, local_close - Duration::days(7), time("21:00")?)?
        .min(now - Duration::hours(1));

    let mut dice = Dice(0x0048_414C_4C45);
    let mut order_count = 0;
    let week_label =
        |d: DateTime<Utc>| format!("Semaine {}", d.with_timezone(&tz).iso_week().week());

    // Last week's cycle: opened with a window around now so that its baskets go through the
    // normal order use case, then moved back to its real, past, window and closed.
    let closed = insert_cycle(
        store,
        market.id,
        &week_label(closed_close),
        closed_open,
        now + Duration::hours(1),
    )
    .await?;
    let closed_slots = insert_slots(store, closed.id, closed_close, &points).await?;
    offer_everything(store, &bootstrap, closed.id, &catalogue).await?;
    order_count += place_baskets(
        store,
        closed.id,
        &closed_slots,
        &consumers,
        consumers.len(),
        &mut dice,
    )
    .await?;
    let mut c: order_cycle::ActiveModel = closed.clone().into();
    c.opens_at = Set(closed_open);
    c.closes_at = Set(closed_close);
    c.state = Set(CycleState::Closed.as_str().to_owned());
    c.update(store.db()).await?;

    let open = insert_cycle(
        store,
        market.id,
        &week_label(open_close),
        open_open,
        open_close,
    )
    .await?;
    let open_slots = insert_slots(store, open.id, open_close, &points).await?;
    offer_everything(store, &bootstrap, open.id, &catalogue).await?;
    order_count += place_baskets(
        store,
        open.id,
        &open_slots,
        &consumers,
        consumers.len() / 2,
        &mut dice,
    )
    .await?;
    // Cycles and slots went in directly: what the order path remembers of them is stale.
    store.sales.changed();

    // Two venues are unavailable this week, with baskets already placed there: the company car
    // park's slot is cancelled, the village square's moves a day later. Their consumers' pages
    // say so (and offer to choose another slot for the cancelled one). A coordinator flags
    // them: a flag names a real account.
    for (key, reason, days) in [
        ("za-loges", "Parking fermé pour travaux de voirie", None),
        (
            "secondigny-place",
            "Place occupée par la fête du village",
            Some(1),
        ),
    ] {
        let (Some(by), Some((point_id, _, rule))) = (
            coordinator.as_ref(),
            point_ids
                .get(key)
                .and_then(|id| points.iter().find(|(p, _, _)| p == id)),
        ) else {
            continue;
        };
        let day = rule
            .next_after(open_close)
            .0
            .with_timezone(&tz)
            .date_naive();
        store
            .flag_venue_unavailable(
                by,
                *point_id,
                VenueFlag {
                    day,
                    reason: reason.to_owned(),
                    move_to: days.map(|d| day + Duration::days(d)),
                },
            )
            .await?;
    }

    store.load_recipes(crate::recipes::DEMO_RECIPES).await?;

    Ok(DemoSummary {
        market_id: market.id,
        open_cycle_id: open.id,
        closed_cycle_id: closed.id,
        logins,
        counts: (
            demo.producers.len(),
            product_count,
            demo.accounts.len(),
            order_count,
        ),
    })
}

async fn insert_cycle(
    store: &Store,
    market_id: i64,
    name: &str,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> Result<order_cycle::Model, StoreError> {
    Ok(order_cycle::ActiveModel {
        market_id: Set(market_id),
        name: Set(name.to_owned()),
        opens_at: Set(opens_at),
        closes_at: Set(closes_at),
        state: Set(CycleState::Open.as_str().to_owned()),
        created_at: Set(opens_at),
        ..Default::default()
    }
    .insert(store.db())
    .await?)
}

/// One slot per pickup point: its rule's first occurrence after the cycle closes.
async fn insert_slots(
    store: &Store,
    cycle_id: i64,
    closes_at: DateTime<Utc>,
    points: &[(i64, i64, distribution::SlotRule)],
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::new();
    for (point_id, rule_id, rule) in points {
        let (starts_at, ends_at) = rule.next_after(closes_at);
        let s = distribution_slot::ActiveModel {
            cycle_id: Set(cycle_id),
            pickup_point_id: Set(*point_id),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
            cancelled: Set(false),
            rule_id: Set(Some(*rule_id)),
            ..Default::default()
        }
        .insert(store.db())
        .await?;
        ids.push(s.id);
    }
    Ok(ids)
}

async fn offer_everything(
    store: &Store,
    actor: &Actor,
    cycle_id: i64,
    catalogue: &[(i64, Vec<(i64, Quantity)>)],
) -> Result<(), StoreError> {
    for (producer_id, products) in catalogue {
        let inputs = products
            .iter()
            .map(|(product_id, stock)| OfferInput {
                product_id: *product_id,
                price: None,
                stock: *stock,
            })
            .collect();
        store
            .set_offers(actor, cycle_id, *producer_id, inputs)
            .await?;
    }
    Ok(())
}

/// Places one basket for each of the first `how_many` consumers.
async fn place_baskets(
    store: &Store,
    cycle_id: i64,
    slots: &[i64],
    consumers: &[Actor],
    how_many: usize,
    dice: &mut Dice,
) -> Result<usize, StoreError> {
    let offers = store
        .cycle(crate::Viewer::Anonymous, cycle_id)
        .await?
        .offers;
    let mut placed = 0;
    for (i, consumer) in consumers.iter().take(how_many).enumerate() {
        let n_lines = 3 + dice.below(5);
        let mut lines: Vec<RequestedLine> = Vec::new();
        for _ in 0..n_lines {
            let o = &offers[dice.below(offers.len())];
            if lines.iter().any(|l| l.offer_id == o.id) {
                continue;
            }
            let times = Decimal::from(1 + dice.below(3) as u64);
            let quantity = Quantity::new(o.step.value() * times)?;
            if quantity <= o.stock_left {
                lines.push(RequestedLine {
                    offer_id: o.id,
                    quantity,
                });
            }
        }
        if lines.is_empty() {
            continue;
        }
        // Most people collect at "their" pickup point.
        let slot_id = slots[(i + dice.below(2)) % slots.len()];
        store
            .place_order(
                consumer,
                cycle_id,
                None,
                OrderRequest { slot_id, lines },
                None,
            )
            .await?;
        placed += 1;
    }
    Ok(placed)
}
