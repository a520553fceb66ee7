//! Recipes: the list (with `month` for those in season), and one recipe with where its
//! ingredients are on sale this week (open cycles of the caller's market when a bearer token
//! is given, and of markets with a pickup point within `radius_km` of `lat`/`lon`).

use poem::http::HeaderMap;
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};
use store::{
    Store, Viewer,
    recipes::{Near, RecipeView, SaleSpot},
};

use super::{Tag, viewer};
use crate::ApiError;

pub(crate) struct RecipesApi {
    pub(crate) store: Store,
}

/// A text in French and English.
#[derive(Object)]
pub struct BilingualDto {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

/// An ingredient.
#[derive(Object)]
pub struct IngredientDto {
    /// Its name in the recipe.
    pub name: BilingualDto,
    /// How much.
    pub amount: String,
    /// The product category it is found in.
    pub category: String,
    /// A word the product's name holds, if any.
    #[oai(nullable)]
    pub keyword: Option<String>,
}

/// A recipe.
#[derive(Object)]
pub struct RecipeDto {
    /// Its address: `/recipes/{slug}`.
    pub slug: String,
    /// Title.
    pub title: BilingualDto,
    /// A sentence about it.
    pub summary: BilingualDto,
    /// Steps, in order.
    pub steps: BilingualStepsDto,
    /// How many it serves.
    pub serves: i32,
    /// Time in minutes.
    pub minutes: i32,
    /// Months in season, 1 to 12.
    pub months: Vec<u32>,
    /// Ingredients, in order.
    pub ingredients: Vec<IngredientDto>,
}

/// Steps in French and English.
#[derive(Object)]
pub struct BilingualStepsDto {
    /// French.
    pub fr: Vec<String>,
    /// English.
    pub en: Vec<String>,
}

/// A product on sale this week that is one of the recipe's ingredients.
#[derive(Object)]
pub struct SaleSpotDto {
    /// Index of the ingredient in `ingredients`.
    pub ingredient: i32,
    /// The cycle selling it.
    pub cycle_id: i64,
    /// Its market.
    pub market: String,
    /// The product.
    pub product: String,
    /// Its producer.
    pub producer: String,
    /// Price incl. VAT this cycle, e.g. "2.80".
    pub price: String,
    /// Per what unit.
    pub unit: String,
    /// km from the coordinates asked to the market's nearest pickup point.
    #[oai(nullable)]
    pub distance_km: Option<f64>,
    /// The caller's own market.
    pub own_market: bool,
}

/// A recipe and where its ingredients are on sale.
#[derive(Object)]
pub struct RecipeOnSaleDto {
    /// The recipe.
    pub recipe: RecipeDto,
    /// Offers of open cycles, by ingredient then nearest then price.
    pub on_sale: Vec<SaleSpotDto>,
}

fn bi(b: &store::recipes::Bilingual) -> BilingualDto {
    BilingualDto {
        fr: b.fr.clone(),
        en: b.en.clone(),
    }
}

impl From<&RecipeView> for RecipeDto {
    fn from(r: &RecipeView) -> Self {
        Self {
            slug: r.slug.clone(),
            title: bi(&r.title),
            summary: bi(&r.summary),
            steps: BilingualStepsDto {
                fr: r.steps.fr.lines().map(str::to_owned).collect(),
                en: r.steps.en.lines().map(str::to_owned).collect(),
            },
            serves: r.serves,
            minutes: r.minutes,
            months: r.season.months(),
            ingredients: r
                .ingredients
                .iter()
                .map(|i| IngredientDto {
                    name: bi(&i.name),
                    amount: i.amount.clone(),
                    category: i.rule.category.slug().to_owned(),
                    keyword: i.rule.keyword.clone(),
                })
                .collect(),
        }
    }
}

impl From<SaleSpot> for SaleSpotDto {
    fn from(s: SaleSpot) -> Self {
        Self {
            ingredient: s.ingredient,
            cycle_id: s.cycle_id,
            market: s.market_name,
            product: s.product_name,
            producer: s.producer_name,
            price: s.price.amount().to_string(),
            unit: s.unit.as_str().to_owned(),
            distance_km: s.distance_km.map(|d| (d * 10.0).round() / 10.0),
            own_market: s.own_market,
        }
    }
}

#[OpenApi(tag = "Tag::Recipes")]
impl RecipesApi {
    /// Every recipe; with `month` (1 to 12), only those in season that month.
    #[oai(path = "/recipes", method = "get", operation_id = "list_recipes")]
    async fn list_recipes(
        &self,
        month: Query<Option<i64>>,
    ) -> Result<Json<Vec<RecipeDto>>, ApiError> {
        let month = match month.0 {
            None => None,
            Some(m) => match u32::try_from(m) {
                Ok(m) if (1..=12).contains(&m) => Some(m),
                _ => {
                    return Err(ApiError::unprocessable(
                        "invalid_month",
                        "month goes from 1 to 12",
                    ));
                }
            },
        };
        Ok(Json(
            self.store
                .list_recipes()
                .await?
                .iter()
                .filter(|r| month.is_none_or(|m| r.season.has(m)))
                .map(Into::into)
                .collect(),
        ))
    }

    /// One recipe, and where its ingredients are on sale this week: the open cycles of the
    /// caller's market (with a bearer token), and of markets with a pickup point within
    /// `radius_km` (5 to 100, default 30) of `lat`/`lon`.
    #[oai(path = "/recipes/:slug", method = "get", operation_id = "get_recipe")]
    async fn get_recipe(
        &self,
        slug: Path<String>,
        lat: Query<Option<f64>>,
        lon: Query<Option<f64>>,
        radius_km: Query<Option<f64>>,
        headers: &HeaderMap,
    ) -> Result<Json<RecipeOnSaleDto>, ApiError> {
        let at = match (lat.0, lon.0) {
            (Some(la), Some(lo))
                if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) =>
            {
                Some((la, lo))
            }
            (None, None) => None,
            _ => {
                return Err(ApiError::unprocessable(
                    "invalid_coordinates",
                    "give both lat (within ±90) and lon (within ±180), or neither",
                ));
            }
        };
        let radius = radius_km
            .0
            .unwrap_or(crate::pages::DEFAULT_RECIPE_RADIUS_KM);
        if !(5.0..=100.0).contains(&radius) {
            return Err(ApiError::unprocessable(
                "invalid_radius",
                "radius_km goes from 5 to 100",
            ));
        }
        let actor = match viewer(headers) {
            Viewer::Token(t) => Some(self.store.authenticate(t).await?),
            Viewer::Actor(a) => Some(a.clone()),
            Viewer::Anonymous => None,
        };
        let recipe = self.store.recipe(&slug.0).await?;
        let spots = self
            .store
            .recipe_on_sale(
                &recipe,
                actor.as_ref(),
                Near {
                    at,
                    radius_km: radius,
                },
            )
            .await?;
        Ok(Json(RecipeOnSaleDto {
            recipe: (&recipe).into(),
            on_sale: spots.into_iter().map(Into::into).collect(),
        }))
    }
}
