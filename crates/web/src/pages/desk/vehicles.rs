//! `/desk/vehicles`: the market's vehicles, which its co-delivery rounds can be shared among
//! (the round form on a cycle's page offers them). Add one, change one (`/desk/vehicles/{id}`),
//! archive one; errors next to their fields.

use std::sync::Arc;

use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use print::Lang;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use store::{Actor, Role, StoreError, VehicleInput};

use super::{my_market, say};
use crate::pages::{PageError, Site, Submission, Visitor, answer, see_other, visitor::Form};

/// `/desk/vehicles`: the list, and the form to add one.
#[handler]
pub(crate) async fn list(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        page(&site, &v, actor, StatusCode::OK, None, None).await
    }
    .await;
    answer(&site, &v, r)
}

/// `/desk/vehicles/{id}`: the list, and the form to change that vehicle.
#[handler]
pub(crate) async fn edit_form(site: Data<&Arc<Site>>, v: Visitor, id: Path<i64>) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        page(&site, &v, actor, StatusCode::OK, Some(id.0), None).await
    }
    .await;
    answer(&site, &v, r)
}

async fn page(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    status: StatusCode,
    editing: Option<i64>,
    again: Option<(&Form, Value)>,
) -> Result<Response, PageError> {
    let (market, _) = my_market(site, actor).await?;
    let lang = v.lang;
    let vehicles = site.store.list_vehicles(actor, market.id).await?;
    let edited = match editing {
        Some(id) => Some(
            vehicles
                .iter()
                .find(|x| x.id == id && !x.archived)
                .ok_or(PageError::NotFound)?,
        ),
        None => None,
    };
    let (form, errors) = match again {
        Some((f, e)) => (f.echo(), e),
        None => (
            edited.map_or_else(
                || json!({}),
                |e| {
                    json!({
                        "name": e.name,
                        "capacity_crates": e.capacity_crates.to_string(),
                        "capacity_kg": e.capacity_kg.map(|kg| kg_text(kg, lang)).unwrap_or_default(),
                    })
                },
            ),
            json!({}),
        ),
    };
    let rows: Vec<Value> = vehicles
        .iter()
        .map(|x| {
            json!({
                "id": x.id,
                "name": x.name,
                "crates": x.capacity_crates,
                "kg": x.capacity_kg.map(|kg| kg_text(kg, lang)),
                "archived": x.archived,
            })
        })
        .collect();
    Ok(site.render(
        v,
        status,
        "desk/vehicles",
        "desk-vehicles-title",
        json!({
            "market": market.name,
            "vehicles": rows,
            "editing": edited.map(|e| json!({ "id": e.id, "name": e.name })),
            "form": form,
            "errors": errors,
        }),
    ))
}

/// Kilograms as a coordinator types them (a decimal comma in French).
fn kg_text(kg: Decimal, lang: Lang) -> String {
    let text = kg.normalize().to_string();
    match lang {
        Lang::Fr => text.replace('.', ","),
        Lang::En => text,
    }
}

/// The vehicle a form says, or the errors next to its fields.
fn input_of(site: &Site, lang: Lang, form: &Form) -> Result<VehicleInput, Value> {
    let mut errors = Map::new();
    let name = form.get("name").trim().to_owned();
    if name.is_empty() {
        errors.insert("name".into(), json!(site.t(lang, "desk-error-required")));
    }
    let crates = form
        .get("capacity_crates")
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|c| (1..=store::MAX_VEHICLE_CRATES).contains(c));
    if crates.is_none() {
        errors.insert(
            "capacity_crates".into(),
            json!(site.t(lang, "desk-error-vehicle-crates")),
        );
    }
    let kg_field = form.get("capacity_kg").trim().replace(',', ".");
    let kg = if kg_field.is_empty() {
        Some(None)
    } else {
        kg_field
            .parse::<Decimal>()
            .ok()
            .filter(|kg| *kg > Decimal::ZERO)
            .map(Some)
    };
    if kg.is_none() {
        errors.insert(
            "capacity_kg".into(),
            json!(site.t(lang, "desk-error-vehicle-kg")),
        );
    }
    match (crates, kg, errors.is_empty()) {
        (Some(capacity_crates), Some(capacity_kg), true) => Ok(VehicleInput {
            name,
            capacity_crates,
            capacity_kg,
        }),
        _ => Err(Value::Object(errors)),
    }
}

/// Where a store's refusal goes on the form.
fn field_of(e: &StoreError) -> &'static str {
    match e {
        StoreError::Conflict { code, .. } if *code == "duplicate_name" => "name",
        StoreError::Invalid { code, message } if *code == "invalid_capacity" => {
            if message.contains("capacity_kg") {
                "capacity_kg"
            } else {
                "capacity_crates"
            }
        }
        StoreError::Invalid { code, .. } if *code == "invalid_field" => "name",
        _ => "form",
    }
}

async fn save(
    site: &Site,
    v: &Visitor,
    form: &Form,
    editing: Option<i64>,
) -> Result<Response, PageError> {
    let actor = v.with_role(&[Role::Coordinator])?;
    let (market, _) = my_market(site, actor).await?;
    let input = match input_of(site, v.lang, form) {
        Ok(input) => input,
        Err(errors) => {
            return page(
                site,
                v,
                actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                editing,
                Some((form, errors)),
            )
            .await;
        }
    };
    let saved = match editing {
        Some(id) => site.store.update_vehicle(actor, id, input).await,
        None => site.store.create_vehicle(actor, market.id, input).await,
    };
    match saved {
        Ok(_) => Ok(see_other(v, "/desk/vehicles?done=desk-vehicle-saved")),
        Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
            page(
                site,
                v,
                actor,
                crate::pages::site::store_status(&e),
                editing,
                Some((form, json!({ field_of(&e): say(site, v.lang, &e) }))),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds a vehicle.
#[handler]
pub(crate) async fn create(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = save(&site, &v, &form, None).await;
    answer(&site, &v, r)
}

/// Changes a vehicle.
#[handler]
pub(crate) async fn update(site: Data<&Arc<Site>>, id: Path<i64>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = save(&site, &v, &form, Some(id.0)).await;
    answer(&site, &v, r)
}

/// Archives a vehicle: offered for no new round.
#[handler]
pub(crate) async fn archive(site: Data<&Arc<Site>>, id: Path<i64>, sub: Submission) -> Response {
    let v = sub.visitor;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        site.store.archive_vehicle(actor, id.0).await?;
        Ok(see_other(&v, "/desk/vehicles?done=desk-vehicle-archived"))
    }
    .await;
    answer(&site, &v, r)
}
