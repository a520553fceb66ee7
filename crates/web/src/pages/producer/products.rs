//! `/producer/products`: the producer's catalogue: create, edit, archive (a product never
//! offered is deleted instead). Fields: `name`, `description`, `unit`, `price`, `vat_rate`,
//! `step`, `variable_weight`, `estimated_weight_kg`, and optionally a photo: a file `photo`
//! (the form is `multipart/form-data`: a picture taken with the phone, scaled down by
//! `store::prepare_photo` and served from `/photos/`), `remove_photo`, or `photo_url`, the
//! address of an image online (saved through `set_product_photo`); `category` (a
//! `domain::Category` slug) and `reference` (optional, unique per producer).

use std::sync::Arc;

use domain::{Category, Money, ProductPricing, Quantity, Unit, VatRate};
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde_json::{Map, Value, json};
use store::{NewProduct, PreparedPhoto, ProductView, StoreError};

use super::{decimal, id_of, producer, store_error};
use crate::pages::{PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other};

/// The fields of the product form.
const FIELDS: [&str; 11] = [
    "name",
    "category",
    "reference",
    "description",
    "unit",
    "price",
    "vat_rate",
    "step",
    "variable_weight",
    "estimated_weight_kg",
    "photo_url",
];

/// The VAT rates offered, in percent (French rates; 5.5 first: most food).
const VAT_RATES: [&str; 5] = ["5.5", "10", "20", "2.1", "0"];

fn price_line(p: &ProductView, lang: Lang) -> String {
    let money = print::format::money(p.pricing.price, lang);
    match p.pricing.variable_weight {
        Some(_) => format!("{money} / kg"),
        None => format!(
            "{money} / {}",
            print::format::unit_name(p.pricing.unit, lang)
        ),
    }
}

fn vat_text(v: VatRate) -> String {
    v.percent().normalize().to_string()
}

/// `/producer/products`: every product, active first, then archived ones.
#[handler]
pub(crate) async fn product_list(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let list = site.store.list_products(Some(a), producer_id).await?;
        let view = |p: &ProductView| {
            json!({
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "price": price_line(p, v.lang),
                "vat": format!("{} %", vat_text(p.pricing.vat)).replace('.', if v.lang == Lang::Fr { "," } else { "." }),
                "estimated": p.pricing.variable_weight.map(|w| print::format::kg(w, v.lang, true)),
                "photo_url": p.photo_url,
                "category": site.t(v.lang, &format!("category-{}", p.category.slug())),
                "reference": p.reference,
            })
        };
        let active: Vec<Value> = list.iter().filter(|p| p.active).map(view).collect();
        let archived: Vec<Value> = list.iter().filter(|p| !p.active).map(view).collect();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "producer/products",
            "producer-products-title",
            json!({ "active": active, "archived": archived }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// The product form, new (`id` none) or to edit.
fn form_page(
    site: &Site,
    v: &Visitor,
    status: StatusCode,
    id: Option<i64>,
    form: Value,
    errors: Map<String, Value>,
) -> Response {
    let lang = v.lang;
    let mut form = form;
    for key in FIELDS {
        if form.get(key).is_none() {
            form[key] = Value::Null;
        }
    }
    let chosen_unit = form["unit"].as_str().unwrap_or("kg").to_owned();
    let chosen_vat = form["vat_rate"].as_str().unwrap_or("5.5").to_owned();
    let units: Vec<Value> = Unit::ALL
        .iter()
        .map(|u| {
            json!({
                "value": u.as_str(),
                "label": print::format::unit_name(*u, lang),
                "selected": u.as_str() == chosen_unit,
            })
        })
        .collect();
    let vats: Vec<Value> = VAT_RATES
        .iter()
        .map(|r| {
            let label = match lang {
                Lang::Fr => format!("{} %", r.replace('.', ",")),
                Lang::En => format!("{r} %"),
            };
            json!({ "value": r, "label": label, "selected": *r == chosen_vat })
        })
        .collect();
    let chosen_category = form["category"].as_str().unwrap_or("other").to_owned();
    let categories: Vec<Value> = Category::ALL
        .iter()
        .map(|c| {
            json!({
                "value": c.slug(),
                "label": site.t(lang, &format!("category-{}", c.slug())),
                "selected": c.slug() == chosen_category,
            })
        })
        .collect();
    let (template_title, action) = match id {
        Some(id) => (
            "producer-product-edit-title",
            format!("/producer/products/{id}"),
        ),
        None => (
            "producer-product-new-title",
            "/producer/products".to_owned(),
        ),
    };
    site.render(
        v,
        status,
        "producer/product-form",
        template_title,
        json!({
            "id": id,
            "action": action,
            "form": form,
            "errors": errors,
            "units": units,
            "vats": vats,
            "categories": categories,
        }),
    )
}

/// The form of a new product.
#[handler]
pub(crate) fn new_product_form(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = producer(&v).map(|_| {
        form_page(
            &site,
            &v,
            StatusCode::OK,
            None,
            json!({ "unit": "kg", "vat_rate": "5.5", "category": "vegetables" }),
            Map::new(),
        )
    });
    answer(&site, &v, r)
}

/// The product, if it is this producer's (404 otherwise, archived ones included).
async fn own(
    site: &Site,
    a: &store::Actor,
    producer_id: i64,
    id: &str,
) -> Result<ProductView, PageError> {
    let id = id_of(id)?;
    let p = site.store.product(Some(a), id).await?;
    if p.producer_id != producer_id {
        return Err(PageError::NotFound);
    }
    Ok(p)
}

/// The form of an existing product.
#[handler]
pub(crate) async fn edit_product_form(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let p = own(&site, a, producer_id, &id).await?;
        if !p.active {
            return Err(PageError::NotFound);
        }
        let lang = v.lang;
        let form = json!({
            "name": p.name,
            "description": p.description,
            "unit": p.pricing.unit.as_str(),
            "price": print::format::csv_money(p.pricing.price, lang),
            "vat_rate": vat_text(p.pricing.vat),
            "step": print::format::csv_quantity(p.step, lang),
            "variable_weight": p.pricing.variable_weight.is_some(),
            "estimated_weight_kg": p.pricing.variable_weight.map(|w| print::format::csv_quantity(w, lang)),
            "photo_url": p.photo_url.as_deref().filter(|u| !is_uploaded(u)),
            "current_photo": p.photo_url,
            "category": p.category.slug(),
            "reference": p.reference,
        });
        Ok(form_page(&site, &v, StatusCode::OK, Some(p.id), form, Map::new()))
    }
    .await;
    answer(&site, &v, r)
}

/// Reads the form into a product, or the errors of its fields.
fn read(
    site: &Site,
    lang: Lang,
    form: &crate::pages::visitor::Form,
) -> Result<NewProduct, Map<String, Value>> {
    let mut errors = Map::new();
    let mut err = |field: &str, id: &str| {
        errors.insert(field.to_owned(), Value::String(site.t(lang, id)));
    };
    let name = form.get("name").to_owned();
    if name.is_empty() {
        err("name", "producer-error-name");
    }
    let unit = form.get("unit").parse::<Unit>().ok();
    if unit.is_none() {
        err("unit", "producer-error-unit");
    }
    let price = match decimal(form.get("price")).map(Money::from_decimal) {
        Some(Ok(m)) => Some(m),
        _ => {
            err("price", "producer-error-price");
            None
        }
    };
    let vat = match decimal(form.get("vat_rate")).map(VatRate::parse) {
        Some(Ok(v)) => Some(v),
        _ => {
            err("vat_rate", "producer-error-vat");
            None
        }
    };
    let step = match form.opt("step") {
        None => None,
        Some(s) => match decimal(s).map(Quantity::new) {
            Some(Ok(q)) if !q.is_zero() => Some(q),
            _ => {
                err("step", "producer-error-step");
                None
            }
        },
    };
    let variable = !form.get("variable_weight").is_empty();
    let estimated = if variable {
        match decimal(form.get("estimated_weight_kg")).map(Quantity::new) {
            Some(Ok(q)) if !q.is_zero() => Some(q),
            _ => {
                err("estimated_weight_kg", "producer-error-estimated-weight");
                None
            }
        }
    } else {
        None
    };
    if variable && unit.is_some_and(|u| u != Unit::Piece) {
        err("unit", "producer-error-variable-needs-piece");
    }
    if form
        .opt("photo_url")
        .is_some_and(|u| store::check_photo_url(u).is_err())
    {
        err("photo_url", "producer-error-photo-url");
    }
    // A form without the select (an older page still open) keeps to `other`.
    let category = form
        .opt("category")
        .map_or(Ok(Category::Other), Category::parse)
        .ok();
    if category.is_none() {
        err("category", "catalogue-error-category");
    }
    let reference = form.opt("reference").map(str::to_owned);
    if reference.as_ref().is_some_and(|r| r.chars().count() > 64) {
        err("reference", "catalogue-error-reference");
    }
    match (unit, price, vat, category) {
        (Some(unit), Some(price), Some(vat), Some(category)) if errors.is_empty() => {
            Ok(NewProduct {
                name,
                description: form.opt("description").map(str::to_owned),
                pricing: ProductPricing {
                    unit,
                    price,
                    vat,
                    variable_weight: estimated,
                },
                step,
                category,
                reference,
            })
        }
        _ => Err(errors),
    }
}

/// The field a store error about a product belongs next to.
fn field_of(e: &StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, message } => match *code {
            "invalid_field" | "invalid_text" if message.starts_with("description") => "description",
            "invalid_field" | "invalid_text" if message.starts_with("reference") => "reference",
            "invalid_field" | "invalid_text" => "name",
            "invalid_quantity" => "step",
            "invalid_photo_url" => "photo_url",
            "invalid_photo" | "photo_too_large" => "photo",
            _ => "form",
        },
        StoreError::Conflict {
            code: "reference_taken",
            ..
        } => "reference",
        _ => "form",
    }
}

/// The error to show next to `field` for a store error.
fn message_of(site: &Site, lang: Lang, e: &StoreError, field: &str) -> String {
    match field {
        "name" => site.t(lang, "producer-error-name"),
        "description" => site.t(lang, "producer-error-description"),
        "step" => site.t(lang, "producer-error-step"),
        "photo_url" => site.t(lang, "producer-error-photo-url"),
        "photo" => match e {
            StoreError::Invalid {
                code: "photo_too_large",
                ..
            } => site.t(lang, "producer-error-photo-too-large"),
            _ => site.t(lang, "producer-error-photo"),
        },
        "reference" if matches!(e, StoreError::Conflict { .. }) => {
            site.t(lang, "catalogue-error-reference-taken")
        }
        "reference" => site.t(lang, "catalogue-error-reference"),
        _ => store_error(site, lang, e),
    }
}

/// After a create or an update: back to the list with `done`, or the form again with the
/// store's refusal next to its field.
fn saved<T>(
    site: &Site,
    v: &Visitor,
    form: &crate::pages::visitor::Form,
    id: Option<i64>,
    result: Result<T, StoreError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(see_other(v, &format!("/producer/products?done={done}"))),
        Err(
            e @ (StoreError::Invalid { .. }
            | StoreError::Conflict {
                code: "reference_taken",
                ..
            }),
        ) => {
            let field = field_of(&e);
            let mut errors = Map::new();
            errors.insert(
                field.to_owned(),
                Value::String(message_of(site, v.lang, &e, field)),
            );
            Ok(form_page(
                site,
                v,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                form.echo(),
                errors,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// True for the address of a photo uploaded through the form (served by Halle itself).
fn is_uploaded(url: &str) -> bool {
    url.starts_with("/photos/")
}

/// Reads the form and its photo file, which is checked and scaled down before anything is
/// saved: a file that is not an image refuses the whole form, with its error next to it.
async fn read_with_photo(
    site: &Site,
    lang: Lang,
    form: &mut crate::pages::visitor::Form,
) -> Result<(NewProduct, Option<PreparedPhoto>), Map<String, Value>> {
    let photo = match form.take_file("photo") {
        None => Ok(None),
        Some(file) => store::prepare_photo(file.bytes).await.map(Some),
    };
    match (read(site, lang, form), photo) {
        (Ok(new), Ok(photo)) => Ok((new, photo)),
        (read, photo) => {
            let mut errors = read.err().unwrap_or_default();
            if let Err(e) = photo {
                errors.insert(
                    "photo".into(),
                    Value::String(message_of(site, lang, &e, "photo")),
                );
            }
            Err(errors)
        }
    }
}

/// Saves the photo part of the form once the product is: the uploaded file, else the removal
/// asked, else the address typed (an emptied address removes a photo that came from one; an
/// uploaded photo is only removed by `remove_photo` or replaced by another).
async fn save_photo(
    site: &Site,
    a: &store::Actor,
    p: ProductView,
    form: &crate::pages::visitor::Form,
    photo: Option<PreparedPhoto>,
) -> Result<ProductView, StoreError> {
    let typed = form.opt("photo_url").map(str::to_owned);
    let current = p.photo_url.clone();
    if let Some(photo) = photo {
        site.store.upload_product_photo(a, p.id, photo).await
    } else if !form.get("remove_photo").is_empty() {
        site.store.set_product_photo(a, p.id, None).await
    } else if typed.is_some() && typed != current {
        site.store.set_product_photo(a, p.id, typed).await
    } else if typed.is_none() && current.as_deref().is_some_and(|u| !is_uploaded(u)) {
        site.store.set_product_photo(a, p.id, None).await
    } else {
        Ok(p)
    }
}

/// Creates a product, then back to the list.
#[handler]
pub(crate) async fn create_product(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission {
        visitor: v,
        mut form,
    } = sub;
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let (new, photo) = match read_with_photo(&site, v.lang, &mut form).await {
            Ok(read) => read,
            Err(errors) => {
                return Ok(form_page(
                    &site,
                    &v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    form.echo(),
                    errors,
                ));
            }
        };
        let created = match site.store.create_product(a, producer_id, new).await {
            Ok(p) => save_photo(&site, a, p, &form, photo).await,
            other => other,
        };
        saved(&site, &v, &form, None, created, "producer-product-created")
    }
    .await;
    answer(&site, &v, r)
}

/// Saves a product's new state.
#[handler]
pub(crate) async fn update_product(
    site: Data<&Arc<Site>>,
    sub: Submission,
    Path(id): Path<String>,
) -> Response {
    let Submission {
        visitor: v,
        mut form,
    } = sub;
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let p = own(&site, a, producer_id, &id).await?;
        let (new, photo) = match read_with_photo(&site, v.lang, &mut form).await {
            Ok(read) => read,
            Err(errors) => {
                return Ok(form_page(
                    &site,
                    &v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(p.id),
                    form.echo(),
                    errors,
                ));
            }
        };
        let updated = match site.store.update_product(a, p.id, new).await {
            Ok(p) => save_photo(&site, a, p, &form, photo).await,
            other => other,
        };
        saved(
            &site,
            &v,
            &form,
            Some(p.id),
            updated,
            "producer-product-saved",
        )
    }
    .await;
    answer(&site, &v, r)
}

/// Archives a product (deletes it if it was never offered).
#[handler]
pub(crate) async fn archive_product(
    site: Data<&Arc<Site>>,
    sub: Submission,
    Path(id): Path<String>,
) -> Response {
    let v = sub.visitor;
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let p = own(&site, a, producer_id, &id).await?;
        let archived = site.store.delete_product(a, p.id).await?;
        let done = if archived {
            "producer-product-archived"
        } else {
            "producer-product-deleted"
        };
        Ok(see_other(&v, &format!("/producer/products?done={done}")))
    }
    .await;
    answer(&site, &v, r)
}
