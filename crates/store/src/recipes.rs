//! Recipes: the demo's dozen (`fixtures/recipes.json`, loaded by [`Store::load_recipes`]),
//! read back in both languages; where their ingredients are on sale this week (the open cycles
//! of the visitor's market, and of markets with a pickup point near given coordinates); which
//! recipes a basket can make; what is in season in a month. The matching itself is pure, in
//! `domain::recipe`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use distribution::directory::{Point, distance_km};
use domain::{
    Category, Money, Unit,
    recipe::{IngredientRule, Season, suggest_for_basket},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Deserialize;

use crate::{
    Actor, Store, StoreError,
    catalogue::{corrupt, unit_of},
    entities::{
        account, market, offer, order_cycle, pickup_point, producer, product, recipe,
        recipe_ingredient,
    },
};

/// The demo's recipes, built into the crate so that `halle demo` and the tests load the same.
pub const DEMO_RECIPES: &str = include_str!("../../../fixtures/recipes.json");

/// The largest radius "near here" takes, in km.
pub const MAX_RADIUS_KM: f64 = 100.0;

/// A text in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bilingual {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

/// One ingredient of a recipe.
#[derive(Clone, Debug)]
pub struct IngredientView {
    /// Its place in the list, from 0.
    pub position: i32,
    /// Which products are this ingredient.
    pub rule: IngredientRule,
    /// What the recipe calls it.
    pub name: Bilingual,
    /// How much ("500 g", "3").
    pub amount: String,
}

/// A recipe.
#[derive(Clone, Debug)]
pub struct RecipeView {
    /// Id.
    pub id: i64,
    /// Its address (`/recipes/{slug}`).
    pub slug: String,
    /// Title.
    pub title: Bilingual,
    /// A sentence about it.
    pub summary: Bilingual,
    /// Steps, one per line.
    pub steps: Bilingual,
    /// How many it serves.
    pub serves: i32,
    /// Time in the kitchen, in minutes.
    pub minutes: i32,
    /// The months it is in season.
    pub season: Season,
    /// Its ingredients, in order.
    pub ingredients: Vec<IngredientView>,
}

impl RecipeView {
    /// Its ingredients' categories, each once, in the list's order.
    pub fn categories(&self) -> Vec<Category> {
        let mut seen = Vec::new();
        for i in &self.ingredients {
            if !seen.contains(&i.rule.category) {
                seen.push(i.rule.category);
            }
        }
        seen
    }
}

/// A product on sale this week that is one of a recipe's ingredients.
#[derive(Clone, Debug)]
pub struct SaleSpot {
    /// The ingredient's position in the recipe.
    pub ingredient: i32,
    /// The cycle selling it.
    pub cycle_id: i64,
    /// Its name.
    pub cycle_name: String,
    /// When it stops taking orders.
    pub closes_at: DateTime<Utc>,
    /// The market.
    pub market_name: String,
    /// Its slug (`/m/{slug}`).
    pub market_slug: String,
    /// The product.
    pub product_name: String,
    /// Its producer.
    pub producer_name: String,
    /// Price this cycle.
    pub price: Money,
    /// Per what.
    pub unit: Unit,
    /// How far the market's nearest pickup point is from the coordinates asked, in km.
    pub distance_km: Option<f64>,
    /// Whether it is the visitor's own market.
    pub own_market: bool,
}

/// Where to look for a recipe's ingredients.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Near {
    /// Latitude and longitude in degrees.
    pub at: Option<(f64, f64)>,
    /// Radius in km (5 to 100).
    pub radius_km: f64,
}

#[derive(Deserialize)]
struct DemoIngredient {
    category: String,
    keyword: Option<String>,
    name_fr: String,
    name_en: String,
    amount: String,
}

#[derive(Deserialize)]
struct DemoRecipe {
    slug: String,
    title_fr: String,
    title_en: String,
    summary_fr: String,
    summary_en: String,
    serves: i32,
    minutes: i32,
    months: Vec<u32>,
    ingredients: Vec<DemoIngredient>,
    steps_fr: Vec<String>,
    steps_en: Vec<String>,
}

fn recipe_view(
    r: recipe::Model,
    ingredients: Vec<recipe_ingredient::Model>,
) -> Result<RecipeView, StoreError> {
    let ingredients = ingredients
        .into_iter()
        .map(|i| {
            Ok(IngredientView {
                position: i.position,
                rule: IngredientRule {
                    category: Category::parse(&i.category)
                        .map_err(|_| corrupt("ingredient category", &i.category))?,
                    keyword: i.keyword,
                },
                name: Bilingual {
                    fr: i.name_fr,
                    en: i.name_en,
                },
                amount: i.amount,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(RecipeView {
        id: r.id,
        slug: r.slug,
        title: Bilingual {
            fr: r.title_fr,
            en: r.title_en,
        },
        summary: Bilingual {
            fr: r.summary_fr,
            en: r.summary_en,
        },
        steps: Bilingual {
            fr: r.steps_fr,
            en: r.steps_en,
        },
        serves: r.serves,
        minutes: r.minutes,
        season: Season::from_bits(r.season_months),
        ingredients,
    })
}

impl Store {
    /// Loads recipes from `json` (the shape of `fixtures/recipes.json`); a recipe whose slug is
    /// already there is left as it is. Returns how many were added.
    pub async fn load_recipes(&self, json: &str) -> Result<usize, StoreError> {
        let list: Vec<DemoRecipe> = serde_json::from_str(json)
            .map_err(|e| StoreError::invalid("invalid_recipes", e.to_string()))?;
        let existing: HashSet<String> = recipe::Entity::find()
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| r.slug)
            .collect();
        let w = self.write().await?;
        let mut added = 0;
        for r in list.into_iter().filter(|r| !existing.contains(&r.slug)) {
            for i in &r.ingredients {
                Category::parse(&i.category)
                    .map_err(|e| StoreError::invalid("invalid_recipes", e.to_string()))?;
            }
            let row = recipe::ActiveModel {
                slug: Set(r.slug),
                title_fr: Set(r.title_fr),
                title_en: Set(r.title_en),
                summary_fr: Set(r.summary_fr),
                summary_en: Set(r.summary_en),
                steps_fr: Set(r.steps_fr.join("\n")),
                steps_en: Set(r.steps_en.join("\n")),
                serves: Set(r.serves),
                minutes: Set(r.minutes),
                season_months: Set(Season::of_months(r.months).bits()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&w.tx)
            .await?;
            for (n, i) in r.ingredients.into_iter().enumerate() {
                recipe_ingredient::ActiveModel {
                    recipe_id: Set(row.id),
                    position: Set(i32::try_from(n).unwrap_or(i32::MAX)),
                    category: Set(i.category.trim().to_ascii_lowercase()),
                    keyword: Set(i.keyword),
                    name_fr: Set(i.name_fr),
                    name_en: Set(i.name_en),
                    amount: Set(i.amount),
                    ..Default::default()
                }
                .insert(&w.tx)
                .await?;
            }
            added += 1;
        }
        w.commit().await?;
        Ok(added)
    }

    /// Every recipe with its ingredients (two queries), by French title.
    pub async fn list_recipes(&self) -> Result<Vec<RecipeView>, StoreError> {
        let recipes = recipe::Entity::find()
            .order_by_asc(recipe::Column::TitleFr)
            .all(self.db())
            .await?;
        let mut ingredients: HashMap<i64, Vec<recipe_ingredient::Model>> = HashMap::new();
        for i in recipe_ingredient::Entity::find()
            .order_by_asc(recipe_ingredient::Column::RecipeId)
            .order_by_asc(recipe_ingredient::Column::Position)
            .all(self.db())
            .await?
        {
            ingredients.entry(i.recipe_id).or_default().push(i);
        }
        recipes
            .into_iter()
            .map(|r| {
                let i = ingredients.remove(&r.id).unwrap_or_default();
                recipe_view(r, i)
            })
            .collect()
    }

    /// One recipe by its slug.
    pub async fn recipe(&self, slug: &str) -> Result<RecipeView, StoreError> {
        let r = recipe::Entity::find()
            .filter(recipe::Column::Slug.eq(slug))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("recipe", 0))?;
        let ingredients = recipe_ingredient::Entity::find()
            .filter(recipe_ingredient::Column::RecipeId.eq(r.id))
            .order_by_asc(recipe_ingredient::Column::Position)
            .all(self.db())
            .await?;
        recipe_view(r, ingredients)
    }

    /// Per category, the recipes in season in `month` (1 to 12) that use it, by title.
    pub async fn in_season(
        &self,
        month: u32,
    ) -> Result<BTreeMap<Category, Vec<RecipeView>>, StoreError> {
        let mut by_category: BTreeMap<Category, Vec<RecipeView>> = BTreeMap::new();
        for r in self.list_recipes().await? {
            if r.season.has(month) {
                for c in r.categories() {
                    by_category.entry(c).or_default().push(r.clone());
                }
            }
        }
        Ok(by_category)
    }

    /// The recipes that use what `product_ids` are (a basket's products), those using most of
    /// them first; at most `limit`.
    pub async fn recipes_for_products(
        &self,
        product_ids: &[i64],
        limit: usize,
    ) -> Result<Vec<(RecipeView, usize)>, StoreError> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        let basket: Vec<(Category, String)> = product::Entity::find()
            .filter(product::Column::Id.is_in(product_ids.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|p| Some((Category::parse(&p.category).ok()?, p.name)))
            .collect();
        let recipes = self.list_recipes().await?;
        let rules: Vec<Vec<IngredientRule>> = recipes
            .iter()
            .map(|r| r.ingredients.iter().map(|i| i.rule.clone()).collect())
            .collect();
        Ok(suggest_for_basket(&rules, &basket, limit)
            .into_iter()
            .filter_map(|m| recipes.get(m.recipe).map(|r| (r.clone(), m.covered)))
            .collect())
    }

    /// Where `recipe`'s ingredients are on sale now: offers of the cycles open for orders in
    /// the actor's market (a consumer's, through its account or pickup point) and in markets
    /// with a pickup point within `near.radius_km` of `near.at` (when given; else of the
    /// actor's pickup point). By ingredient, then nearest, then price.
    pub async fn recipe_on_sale(
        &self,
        recipe: &RecipeView,
        actor: Option<&Actor>,
        near: Near,
    ) -> Result<Vec<SaleSpot>, StoreError> {
        let now = Utc::now();
        let radius = near.radius_km.clamp(1.0, MAX_RADIUS_KM);
        // The visitor's market and pickup point, if any.
        let (own_market, own_point) = match actor {
            Some(a) => match account::Entity::find_by_id(a.account_id)
                .one(self.db())
                .await?
            {
                Some(acc) => {
                    let point = match acc.pickup_point_id {
                        Some(id) => pickup_point::Entity::find_by_id(id).one(self.db()).await?,
                        None => None,
                    };
                    (acc.market_id.or(point.as_ref().map(|p| p.market_id)), point)
                }
                None => (None, None),
            },
            None => (None, None),
        };
        let at = near
            .at
            .or_else(|| own_point.as_ref().map(|p| (p.latitude, p.longitude)));
        let cycles: Vec<order_cycle::Model> = order_cycle::Entity::find()
            .filter(order_cycle::Column::State.eq("open"))
            .filter(order_cycle::Column::OpensAt.lte(now))
            .filter(order_cycle::Column::ClosesAt.gt(now))
            .all(self.db())
            .await?;
        if cycles.is_empty() {
            return Ok(Vec::new());
        }
        let market_ids: HashSet<i64> = cycles.iter().map(|c| c.market_id).collect();
        // The nearest pickup point of each market with an open cycle, from the coordinates.
        let mut distance: HashMap<i64, f64> = HashMap::new();
        if let Some((lat, lon)) = at {
            for p in pickup_point::Entity::find()
                .filter(pickup_point::Column::MarketId.is_in(market_ids.iter().copied()))
                .all(self.db())
                .await?
            {
                let d = distance_km(
                    Point { lat, lon },
                    Point {
                        lat: p.latitude,
                        lon: p.longitude,
                    },
                );
                distance
                    .entry(p.market_id)
                    .and_modify(|e| *e = e.min(d))
                    .or_insert(d);
            }
        }
        let wanted: HashSet<i64> = market_ids
            .iter()
            .copied()
            .filter(|m| Some(*m) == own_market || distance.get(m).is_some_and(|d| *d <= radius))
            .collect();
        let cycles: Vec<&order_cycle::Model> = cycles
            .iter()
            .filter(|c| wanted.contains(&c.market_id))
            .collect();
        if cycles.is_empty() {
            return Ok(Vec::new());
        }
        let markets: HashMap<i64, market::Model> = market::Entity::find()
            .filter(market::Column::Id.is_in(wanted.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let categories: Vec<String> = recipe
            .categories()
            .iter()
            .map(|c| c.slug().to_owned())
            .collect();
        let offers = offer::Entity::find()
            .filter(offer::Column::CycleId.is_in(cycles.iter().map(|c| c.id)))
            .filter(offer::Column::WithdrawnAt.is_null())
            .filter(offer::Column::StockLeftMilli.gt(0))
            .all(self.db())
            .await?;
        let products: HashMap<i64, product::Model> = product::Entity::find()
            .filter(product::Column::Id.is_in(offers.iter().map(|o| o.product_id)))
            .filter(product::Column::Category.is_in(categories))
            .filter(product::Column::Active.eq(true))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let producers: HashMap<i64, String> = producer::Entity::find()
            .filter(producer::Column::Id.is_in(products.values().map(|p| p.producer_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let cycle_of: HashMap<i64, &order_cycle::Model> =
            cycles.iter().map(|c| (c.id, *c)).collect();
        let mut spots = Vec::new();
        for o in &offers {
            let (Some(p), Some(c)) = (products.get(&o.product_id), cycle_of.get(&o.cycle_id))
            else {
                continue;
            };
            let Ok(category) = Category::parse(&p.category) else {
                continue;
            };
            let Some(m) = markets.get(&c.market_id) else {
                continue;
            };
            for i in &recipe.ingredients {
                if i.rule.matches(category, &p.name) {
                    spots.push(SaleSpot {
                        ingredient: i.position,
                        cycle_id: c.id,
                        cycle_name: c.name.clone(),
                        closes_at: c.closes_at,
                        market_name: m.name.clone(),
                        market_slug: m.slug.clone(),
                        product_name: p.name.clone(),
                        producer_name: producers.get(&p.producer_id).cloned().unwrap_or_default(),
                        price: Money::from_cents(o.price_cents),
                        unit: unit_of(&p.unit)?,
                        distance_km: distance.get(&c.market_id).copied(),
                        own_market: Some(c.market_id) == own_market,
                    });
                }
            }
        }
        spots.sort_by(|a, b| {
            a.ingredient
                .cmp(&b.ingredient)
                .then(b.own_market.cmp(&a.own_market))
                .then(
                    a.distance_km
                        .unwrap_or(f64::MAX)
                        .total_cmp(&b.distance_km.unwrap_or(f64::MAX)),
                )
                .then(a.price.cmp(&b.price))
                .then(a.product_name.cmp(&b.product_name))
        });
        Ok(spots)
    }
}
