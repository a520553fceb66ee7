//! The public directory, across every market of the server: search by distance (`/directory`),
//! a producer's page (`/directory/producers/{id}`), a pickup point's page
//! (`/directory/points/{id}`); the entry's form for its producer and its markets' coordinators
//! (`/directory/producers/{id}/edit`), and an admin's hide switch. Alerts are in `alerts.rs`.
//!
//! The results are a plain list (nearest first, in km, 20 of each kind and a next link) that
//! works without JavaScript; where the browser runs it, a script offers "use my position" and,
//! when a tile server is configured, a map of the same results.

pub(crate) mod alerts;
pub(crate) mod map;

use std::sync::Arc;

use distribution::directory::{Label, MAX_RADIUS_KM, MIN_RADIUS_KM};
use domain::Category;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use print::format;
use serde::Deserialize;
use serde_json::{Value, json};
use store::{DirectoryEntry, DirectorySearch, EntryInput, PointSlots, Role, StoreError};

use super::{PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other, site::urlencode};

/// The radii offered, in km.
pub(crate) const RADII: [u32; 6] = [5, 10, 20, 30, 50, 100];
/// The radius of a search that names none.
pub(crate) const DEFAULT_RADIUS: u32 = 30;

/// A distance as people read it: "3,4 km" / "3.4 km".
pub(crate) fn km(d: f64, lang: Lang) -> String {
    let s = format!("{d:.1}");
    match lang {
        Lang::Fr => format!("{} km", s.replace('.', ",")),
        Lang::En => format!("{s} km"),
    }
}

/// The search form's fields, as the query string has them.
#[derive(Deserialize, Default)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    lat: Option<String>,
    lon: Option<String>,
    radius: Option<String>,
    category: Option<String>,
    label: Option<String>,
    collect: Option<String>,
    page: Option<String>,
}

fn categories_json(site: &Site, lang: Lang, chosen: &[Category]) -> Vec<Value> {
    Category::ALL
        .iter()
        .map(|c| {
            json!({
                "slug": c.slug(),
                "name": site.t(lang, &format!("category-{}", c.slug())),
                "chosen": chosen.contains(c),
            })
        })
        .collect()
}

fn labels_json(site: &Site, lang: Lang, chosen: &[Label]) -> Vec<Value> {
    Label::ALL
        .iter()
        .map(|l| {
            json!({
                "slug": l.slug(),
                "name": site.t(lang, &format!("label-{}", l.slug().replace('_', "-"))),
                "chosen": chosen.contains(l),
            })
        })
        .collect()
}

fn names(site: &Site, lang: Lang, cats: &[Category]) -> String {
    cats.iter()
        .map(|c| site.t(lang, &format!("category-{}", c.slug())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn label_names(site: &Site, lang: Lang, labels: &[Label]) -> String {
    labels
        .iter()
        .map(|l| site.t(lang, &format!("label-{}", l.slug().replace('_', "-"))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `/directory`: the search form and, once a place is given, the results.
#[handler]
pub(crate) async fn search(site: Data<&Arc<Site>>, v: Visitor, q: Query<SearchQuery>) -> Response {
    let r = search_page(&site, &v, &q).await;
    answer(&site, &v, r)
}

async fn search_page(site: &Site, v: &Visitor, q: &SearchQuery) -> Result<Response, PageError> {
    let lang = v.lang;
    let text = q.q.as_deref().map(str::trim).unwrap_or_default();
    let radius = match q.radius.as_deref().filter(|s| !s.is_empty()) {
        None => Some(DEFAULT_RADIUS),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|r| (MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(r)),
    };
    let category = q
        .category
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Category::parse);
    let label = q
        .label
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Label::parse);
    let collect = q.collect.as_deref().is_some_and(|s| !s.is_empty());
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(0)
        .min(1000);
    let mut errors = serde_json::Map::new();
    if radius.is_none() {
        errors.insert(
            "radius".into(),
            json!(site.t(lang, "directory-error-radius")),
        );
    }
    let chosen_categories: Vec<Category> = match &category {
        Some(Ok(c)) => vec![*c],
        Some(Err(_)) => {
            errors.insert(
                "category".into(),
                json!(site.t(lang, "directory-error-category")),
            );
            vec![]
        }
        None => vec![],
    };
    let chosen_labels: Vec<Label> = match label {
        Some(Some(l)) => vec![l],
        Some(None) => {
            errors.insert("label".into(), json!(site.t(lang, "directory-error-label")));
            vec![]
        }
        None => vec![],
    };
    // The browser's position (the script fills lat and lon) or the words typed.
    let typed = match (q.lat.as_deref(), q.lon.as_deref()) {
        (Some(lat), Some(lon)) if !lat.is_empty() && !lon.is_empty() => format!("{lat}, {lon}"),
        _ => text.to_owned(),
    };
    let mut located = None;
    if !typed.is_empty() {
        match site.store.locate(&typed).await {
            Ok(l) => located = Some(l),
            Err(StoreError::Invalid { .. }) => {
                let words = if site.store.places_count().await? == 0 {
                    "directory-error-no-places"
                } else {
                    "directory-error-place"
                };
                errors.insert("q".into(), json!(site.t(lang, words)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut results = Value::Null;
    if let (Some(place), Some(radius), true) = (&located, radius, errors.is_empty()) {
        let s = DirectorySearch {
            center: place.point,
            radius_km: radius,
            categories: chosen_categories.clone(),
            labels: chosen_labels.clone(),
            collect_near: collect,
            page,
        };
        let found = site.store.search_directory(&s).await?;
        let producers: Vec<Value> = found
            .producers
            .iter()
            .map(|p| {
                json!({
                    "id": p.id, "name": p.name, "city": p.city, "postal_code": p.postal_code,
                    "lat": p.point.lat, "lon": p.point.lon,
                    "distance": km(p.distance_km, lang),
                    "categories": names(site, lang, &p.categories),
                    "labels": label_names(site, lang, &p.labels),
                    "farm_gate": p.farm_gate,
                })
            })
            .collect();
        let points: Vec<Value> = found
            .points
            .iter()
            .map(|p| {
                json!({
                    "id": p.id, "name": p.name, "city": p.city, "address": p.address,
                    "lat": p.point.lat, "lon": p.point.lon,
                    "market": p.market_name,
                    "distance": km(p.distance_km, lang),
                    "next_slot": p.next_slot.map(|(a, b)| format::range(a, b, p.timezone, lang)),
                })
            })
            .collect();
        let next = found.next_page.map(|n| {
            let mut url = format!(
                "/directory?q={}&radius={radius}&page={n}",
                urlencode(&place.label_for_query(&typed))
            );
            if let Some(c) = chosen_categories.first() {
                url.push_str(&format!("&category={}", c.slug()));
            }
            if let Some(l) = chosen_labels.first() {
                url.push_str(&format!("&label={}", l.slug()));
            }
            if collect {
                url.push_str("&collect=1");
            }
            url
        });
        results = json!({
            "place": place.label,
            "approximate": place.approximate,
            "radius": radius,
            "producers": producers,
            "producers_total": found.producers_total,
            "points": points,
            "points_total": found.points_total,
            "next": next,
            "page": page + 1,
            "center": { "lat": place.point.lat, "lon": place.point.lon },
        });
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let radius_shown = radius.unwrap_or(DEFAULT_RADIUS);
    let radii: Vec<Value> = RADII
        .iter()
        .map(|r| json!({ "km": r, "chosen": *r == radius_shown }))
        .collect();
    Ok(site.render(
        v,
        status,
        "directory/search",
        "directory-title",
        json!({
            "q": text,
            "radii": radii,
            "categories": categories_json(site, lang, &chosen_categories),
            "labels": labels_json(site, lang, &chosen_labels),
            "collect": collect,
            "errors": Value::Object(errors),
            "results": results,
            "map_tiles": site.map_tiles,
            "leaflet": { "js": map::PATHS.0, "css": map::PATHS.1, "script": map::PATHS.2 },
        }),
    ))
}

trait QueryLabel {
    fn label_for_query(&self, typed: &str) -> String;
}

impl QueryLabel for store::Located {
    /// What the next link searches again: the postcode when there is one, else what was typed.
    fn label_for_query(&self, typed: &str) -> String {
        match &self.postcode {
            Some(p) if typed.trim() == p => p.clone(),
            _ => typed.trim().to_owned(),
        }
    }
}

fn point_json(p: &PointSlots, lang: Lang) -> Value {
    let pt = &p.point;
    json!({
        "id": pt.id,
        "name": pt.name,
        "address": format!("{}, {} {}", pt.address, pt.postal_code, pt.city),
        "market": p.market.name,
        "market_slug": p.market.slug,
        "slots": p.next_slots.iter().map(|(a, b)| format::range(*a, *b, p.timezone, lang)).collect::<Vec<_>>(),
    })
}

fn entry_json(site: &Site, lang: Lang, e: &DirectoryEntry) -> Value {
    let p = &e.producer;
    json!({
        "id": p.id,
        "name": p.name,
        "farmer": p.farmer_name,
        "description": p.description,
        "address": format!("{}, {} {}", p.address, p.postal_code, p.city),
        "phone": p.phone,
        "email": p.email,
        "website": p.website.as_ref().filter(|w| w.starts_with("https://") || w.starts_with("http://")),
        "social": p.social,
        "summary": e.summary,
        "categories": names(site, lang, &e.categories),
        "labels": label_names(site, lang, &e.labels),
        "contact_note": e.contact_note,
        "farm_gate": e.farm_gate,
        "opening_hours": e.opening_hours,
    })
}

/// `/directory/producers/{id}`: a producer's entry, markets, pickup points and next slots.
#[handler]
pub(crate) async fn producer(site: Data<&Arc<Site>>, v: Visitor, id: Path<i64>) -> Response {
    let r = async {
        let d = site.store.directory_producer(id.0).await?;
        let lang = v.lang;
        let may_edit = v.session.as_ref().is_some_and(|s| {
            s.actor.is_producer(id.0)
                || (s.actor.role == Role::Coordinator
                    && d.markets.iter().any(|m| Some(m.id) == s.actor.market_id))
        });
        let is_admin = v.session.as_ref().is_some_and(|s| s.actor.role == Role::Admin);
        Ok(site.render(
            &v,
            StatusCode::OK,
            "directory/producer",
            &d.entry.producer.name,
            json!({
                "entry": entry_json(&site, lang, &d.entry),
                "markets": d.markets.iter().map(|m| json!({"name": m.name, "slug": m.slug})).collect::<Vec<_>>(),
                "points": d.points.iter().map(|p| point_json(p, lang)).collect::<Vec<_>>(),
                "may_edit": may_edit,
                "is_admin": is_admin,
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `/directory/points/{id}`: a pickup point, its next slots and its market's producers.
#[handler]
pub(crate) async fn point(site: Data<&Arc<Site>>, v: Visitor, id: Path<i64>) -> Response {
    let r = async {
        let d = site.store.directory_point(id.0).await?;
        Ok(site.render(
            &v,
            StatusCode::OK,
            "directory/point",
            &d.point.point.name,
            json!({
                "point": point_json(&d.point, v.lang),
                "access": d.point.point.access_notes,
                "host": d.point.point.host_name,
                "producers": d.producers.iter().map(|p| json!({"id": p.id, "name": p.name, "city": p.city})).collect::<Vec<_>>(),
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

fn edit_page(
    site: &Site,
    v: &Visitor,
    e: &DirectoryEntry,
    form: Option<Value>,
    errors: Value,
    status: StatusCode,
) -> Response {
    let lang = v.lang;
    let form = form.unwrap_or_else(|| {
        json!({
            "summary": e.summary,
            "contact_note": e.contact_note,
            "opening_hours": e.opening_hours,
            "farm_gate": e.farm_gate,
            "published": e.published,
        })
    });
    site.render(
        v,
        status,
        "directory/edit",
        "directory-edit-title",
        json!({
            "id": e.producer.id,
            "name": e.producer.name,
            "hidden": e.hidden,
            "published": e.published,
            "form": form,
            "categories": categories_json(site, lang, &e.categories),
            "labels": labels_json(site, lang, &e.labels),
            "errors": errors,
        }),
    )
}

/// `/directory/producers/{id}/edit`: the entry's form (its producer, its markets'
/// coordinators, admins).
#[handler]
pub(crate) async fn edit_form(site: Data<&Arc<Site>>, v: Visitor, id: Path<i64>) -> Response {
    let r = async {
        let actor = v.actor()?;
        let e = site.store.directory_entry_for_edit(actor, id.0).await?;
        Ok(edit_page(&site, &v, &e, None, json!({}), StatusCode::OK))
    }
    .await;
    answer(&site, &v, r)
}

/// Saves the entry; publishing it records the alert subscribers it matches.
#[handler]
pub(crate) async fn edit(site: Data<&Arc<Site>>, sub: Submission, id: Path<i64>) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.actor()?;
        let mut e = site.store.directory_entry_for_edit(actor, id.0).await?;
        let categories: Vec<Category> = form
            .pairs()
            .filter(|(k, _)| *k == "categories")
            .filter_map(|(_, s)| Category::parse(s).ok())
            .collect();
        let labels: Vec<Label> = form
            .pairs()
            .filter(|(k, _)| *k == "labels")
            .filter_map(|(_, s)| Label::parse(s))
            .collect();
        let input = EntryInput {
            summary: form.get("summary").trim().to_owned(),
            categories: categories.clone(),
            labels: labels.clone(),
            contact_note: form.get("contact_note").trim().to_owned(),
            farm_gate: form.opt("farm_gate").is_some(),
            opening_hours: form.get("opening_hours").trim().to_owned(),
            published: form.opt("published").is_some(),
        };
        match site.store.save_directory_entry(actor, id.0, input).await {
            Ok(_) => Ok(see_other(
                &v,
                &format!("/directory/producers/{}/edit?done=directory-saved", id.0),
            )),
            Err(err @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                let field = match &err {
                    StoreError::Invalid {
                        code: "missing_categories",
                        ..
                    } => "categories",
                    _ => "form",
                };
                let words = match &err {
                    StoreError::Invalid {
                        code: "missing_categories",
                        ..
                    } => site.t(v.lang, "directory-error-categories"),
                    StoreError::Invalid {
                        code: "invalid_entry_text",
                        ..
                    } => site.t(v.lang, "directory-error-text"),
                    other => site.store_error(v.lang, other),
                };
                e.categories = categories;
                e.labels = labels;
                Ok(edit_page(
                    &site,
                    &v,
                    &e,
                    Some(form.echo()),
                    json!({ field: words }),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ))
            }
            Err(err) => Err(err.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// POST `hidden=1|0`: an admin hides an entry from the directory, or shows it again.
#[handler]
pub(crate) async fn hide(site: Data<&Arc<Site>>, sub: Submission, id: Path<i64>) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[])?;
        let hidden = form.get("hidden") == "1";
        site.store.hide_directory_entry(actor, id.0, hidden).await?;
        let done = if hidden {
            "directory-hidden"
        } else {
            "directory-shown"
        };
        Ok(see_other(
            &v,
            &format!("/directory/producers/{}/edit?done={done}", id.0),
        ))
    }
    .await;
    answer(&site, &v, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_read_in_each_language() {
        assert_eq!(km(39.637, Lang::Fr), "39,6 km");
        assert_eq!(km(39.637, Lang::En), "39.6 km");
    }
}
