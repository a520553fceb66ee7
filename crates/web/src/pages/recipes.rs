//! `/recipes`: the recipes, "in season this month" per category (`?month=1..12`), and one
//! recipe (`/recipes/{slug}`) with where its ingredients are on sale this week: in the
//! logged-in visitor's market's open cycle, and in open cycles with a pickup point within
//! `km` (5 to 100, default 30) of `lat`/`lon` (a GET form; else the visitor's pickup point).
//! The basket page suggests recipes through [`basket_suggestions`].

use std::sync::Arc;

use chrono::{Datelike, Utc};
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::StoreError;
use store::recipes::{Bilingual, Near, RecipeView};

use super::{PageError, Site, Visitor, answer, i18n::Lang};

/// The radius "near here" takes when none is given, in km.
pub(crate) const DEFAULT_RADIUS_KM: f64 = 30.0;

fn pick(b: &Bilingual, lang: Lang) -> &str {
    match lang {
        Lang::Fr => &b.fr,
        Lang::En => &b.en,
    }
}

fn months_text(site: &Site, lang: Lang, r: &RecipeView) -> String {
    let months = r.season.months();
    if months.len() == 12 {
        return site.t(lang, "recipes-all-year");
    }
    months
        .iter()
        .map(|m| site.t(lang, &format!("month-{m}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_json(site: &Site, lang: Lang, r: &RecipeView) -> Value {
    json!({
        "slug": r.slug,
        "title": pick(&r.title, lang),
        "summary": pick(&r.summary, lang),
        "serves": r.serves,
        "minutes": r.minutes,
        "months": months_text(site, lang, r),
    })
}

/// `?month=`.
#[derive(Deserialize)]
pub(crate) struct MonthQuery {
    month: Option<String>,
}

/// `/recipes`: in season this month, per category; then every recipe.
#[handler]
pub(crate) async fn recipe_list(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Query(q): Query<MonthQuery>,
) -> Response {
    let r = async {
        let lang = v.lang;
        let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            None => Utc::now().with_timezone(&chrono_tz::Europe::Paris).month(),
            Some(m) => match m.parse::<u32>() {
                Ok(m) if (1..=12).contains(&m) => m,
                _ => return Err(PageError::BadRequest(site.t(lang, "recipes-error-month"))),
            },
        };
        let season = site.store.in_season(month).await?;
        let in_season: Vec<Value> = season
            .iter()
            .map(|(c, recipes)| {
                json!({
                    "slug": c.slug(),
                    "category": site.t(lang, &format!("category-{}", c.slug())),
                    "recipes": recipes.iter().map(|r| json!({"slug": r.slug, "title": pick(&r.title, lang)})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let all: Vec<Value> = site
            .store
            .list_recipes()
            .await?
            .iter()
            .map(|r| summary_json(&site, lang, r))
            .collect();
        let months: Vec<Value> = (1..=12)
            .map(|m| json!({"value": m, "label": site.t(lang, &format!("month-{m}")), "selected": m == month}))
            .collect();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "recipes/list",
            "recipes-title",
            json!({
                "month": site.t(lang, &format!("month-{month}")),
                "months": months,
                "in_season": in_season,
                "recipes": all,
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `?q=&lat=&lon=&km=`: `q` is a postcode or a town (the directory's places), else
/// coordinates.
#[derive(Deserialize)]
pub(crate) struct NearQuery {
    q: Option<String>,
    lat: Option<String>,
    lon: Option<String>,
    km: Option<String>,
}

/// Reads the "near here" form: the place and radius, or the errors of its fields.
fn near_of(site: &Site, lang: Lang, q: &NearQuery) -> (Near, Map<String, Value>) {
    let mut errors = Map::new();
    let num = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
            })
    };
    let lat = match num(&q.lat) {
        Some(Some(l)) if (-90.0..=90.0).contains(&l) => Some(l),
        Some(_) => {
            errors.insert("lat".into(), json!(site.t(lang, "recipes-error-lat")));
            None
        }
        None => None,
    };
    let lon = match num(&q.lon) {
        Some(Some(l)) if (-180.0..=180.0).contains(&l) => Some(l),
        Some(_) => {
            errors.insert("lon".into(), json!(site.t(lang, "recipes-error-lon")));
            None
        }
        None => None,
    };
    let km = match num(&q.km) {
        Some(Some(k)) if (5.0..=100.0).contains(&k) => k,
        Some(_) => {
            errors.insert("km".into(), json!(site.t(lang, "recipes-error-km")));
            DEFAULT_RADIUS_KM
        }
        None => DEFAULT_RADIUS_KM,
    };
    if lat.is_some() != lon.is_some() && errors.is_empty() {
        let missing = if lat.is_none() { "lat" } else { "lon" };
        errors.insert(
            missing.into(),
            json!(site.t(lang, &format!("recipes-error-{missing}"))),
        );
    }
    let at = lat.zip(lon).filter(|_| errors.is_empty());
    (Near { at, radius_km: km }, errors)
}

/// Kilometres as people read them: `12,4 km` / `12.4 km`.
fn km_text(d: f64, lang: Lang) -> String {
    let s = format!("{d:.1}");
    match lang {
        Lang::Fr => format!("{}\u{a0}km", s.replace('.', ",")),
        Lang::En => format!("{s}\u{a0}km"),
    }
}

/// `/recipes/{slug}`: the recipe, and where its ingredients are on sale this week.
#[handler]
pub(crate) async fn recipe_page(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(slug): Path<String>,
    Query(q): Query<NearQuery>,
) -> Response {
    let r = async {
        let lang = v.lang;
        let recipe = site.store.recipe(&slug).await?;
        let (mut near, mut errors) = near_of(&site, lang, &q);
        let mut place = None;
        if let Some(typed) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            match site.store.locate(typed).await {
                Ok(found) => {
                    near.at = Some((found.point.lat, found.point.lon));
                    place = Some(found.label);
                }
                Err(StoreError::Invalid { .. } | StoreError::NotFound { .. }) => {
                    errors.insert("q".into(), json!(site.t(lang, "recipes-error-place")));
                    near.at = None;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let actor = v.session.as_ref().map(|s| &s.actor);
        let spots = site.store.recipe_on_sale(&recipe, actor, near).await?;
        let ingredients: Vec<Value> = recipe
            .ingredients
            .iter()
            .map(|i| {
                let on_sale: Vec<Value> = spots
                    .iter()
                    .filter(|s| s.ingredient == i.position)
                    .take(5)
                    .map(|s| {
                        json!({
                            "product": s.product_name,
                            "producer": s.producer_name,
                            "market": s.market_name,
                            "market_slug": s.market_slug,
                            "cycle_id": s.cycle_id,
                            "price": format!("{} / {}", print::format::money(s.price, lang), print::format::unit_name(s.unit, lang)),
                            "distance": s.distance_km.map(|d| km_text(d, lang)),
                            "own": s.own_market,
                        })
                    })
                    .collect();
                json!({
                    "name": pick(&i.name, lang),
                    "amount": i.amount,
                    "category": site.t(lang, &format!("category-{}", i.rule.category.slug())),
                    "on_sale": on_sale,
                })
            })
            .collect();
        let steps: Vec<&str> = pick(&recipe.steps, lang).lines().collect();
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let mut page = summary_json(&site, lang, &recipe);
        page["ingredients"] = json!(ingredients);
        page["steps"] = json!(steps);
        page["any_on_sale"] = json!(!spots.is_empty());
        page["place"] = json!(place);
        page["form"] = json!({ "q": q.q, "lat": q.lat, "lon": q.lon, "km": q.km.clone().unwrap_or_else(|| DEFAULT_RADIUS_KM.to_string()) });
        page["errors"] = Value::Object(errors);
        page["searched"] = json!(near.at.is_some());
        let title = pick(&recipe.title, lang).to_owned();
        Ok(site.render(&v, status, "recipes/show", &title, page))
    }
    .await;
    answer(&site, &v, r)
}

/// The recipes a basket's products go into, for the basket page: title, address, and how many
/// of its ingredients the basket holds.
pub(crate) async fn basket_suggestions(site: &Site, lang: Lang, product_ids: &[i64]) -> Vec<Value> {
    match site.store.recipes_for_products(product_ids, 3).await {
        Ok(found) => found
            .iter()
            .map(|(r, covered)| {
                json!({
                    "slug": r.slug,
                    "title": pick(&r.title, lang),
                    "covered": site.t_with(lang, "recipes-covered", &[("n", covered.to_string()), ("total", r.ingredients.len().to_string())]),
                })
            })
            .collect(),
        Err(e) => {
            // Suggestions are a plus: the basket is shown without them rather than not at all.
            tracing::warn!(error = ?e, "recipe suggestions failed");
            Vec::new()
        }
    }
}
