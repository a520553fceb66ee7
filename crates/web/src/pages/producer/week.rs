//! `/producer/week/{cycle_id}`: the week's offer on one screen. Every product is a row (on
//! sale, price, stock: fields `sale_<product_id>`, `price_<product_id>`,
//! `stock_<product_id>`), pre-filled from this cycle's offers or the producer's last cycle, and
//! saved with one submit through `set_offers`. A refused row keeps what was typed, with its
//! error next to its field. Only totals ordered are shown, never who ordered.

use std::{collections::HashMap, sync::Arc};

use domain::{Money, Quantity};
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde_json::{Value, json};
use store::{OfferInput, StoreError, WeekOffer};

use super::{cycle_view, decimal, id_of, producer, store_error};
use crate::pages::{PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other};

/// What the producer typed in one row (or what the store pre-fills).
struct Typed {
    on_sale: bool,
    price: String,
    stock: String,
}

/// Errors of a row, by field (`sale`, `price`, `stock`).
type RowErrors = HashMap<i64, serde_json::Map<String, Value>>;

fn page(
    site: &Site,
    v: &Visitor,
    status: StatusCode,
    week: &WeekOffer,
    typed: &HashMap<i64, Typed>,
    errors: &RowErrors,
    form_error: Option<String>,
) -> Response {
    let lang = v.lang;
    let rows: Vec<Value> = week
        .rows
        .iter()
        .map(|r| {
            let p = &r.product;
            let id = p.id;
            let unit = p.pricing.unit;
            let price_unit = if p.pricing.variable_weight.is_some() {
                "kg".to_owned()
            } else {
                print::format::unit_name(unit, lang).to_owned()
            };
            let t = typed.get(&id);
            json!({
                "id": id,
                "name": p.name,
                "archived": !p.active,
                "sale_id": format!("sale_{id}"),
                "price_id": format!("price_{id}"),
                "stock_id": format!("stock_{id}"),
                "on_sale": t.map_or(r.on_sale, |t| t.on_sale),
                "price": t.map_or_else(|| print::format::csv_money(r.price, lang), |t| t.price.clone()),
                "stock": t.map_or_else(
                    || r.stock.map(|s| print::format::csv_quantity(s, lang)).unwrap_or_default(),
                    |t| t.stock.clone(),
                ),
                "price_label": site.t_with(lang, "producer-week-price", &[("unit", price_unit)]),
                "stock_label": site.t_with(
                    lang,
                    "producer-week-stock",
                    &[("unit", print::format::unit_label(unit, Quantity::from_milli(2000), lang))],
                ),
                "estimated": p.pricing.variable_weight.map(|w| site.t_with(
                    lang,
                    "producer-week-estimated",
                    &[("weight", print::format::kg(w, lang, false))],
                )),
                "ordered": (!r.ordered.is_zero()).then(|| site.t_with(
                    lang,
                    "producer-week-ordered",
                    &[("quantity", print::format::quantity_with_unit(r.ordered, unit, lang))],
                )),
                "errors": errors.get(&id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let cycle = cycle_view(site, lang, &week.cycle, &week.market_name, &week.timezone);
    let title = site.t_with(
        lang,
        "producer-week-title",
        &[("cycle", week.cycle.name.clone())],
    );
    site.render(
        v,
        status,
        "producer/week",
        &title,
        json!({
            "cycle": cycle,
            "rows": rows,
            "prefilled_from": week.prefilled_from,
            "errors": { "form": form_error },
            "has_errors": !errors.is_empty(),
        }),
    )
}

/// The week's offer form; a cycle no longer open for offers goes to its after-close page.
#[handler]
pub(crate) async fn week_form(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(cycle): Path<String>,
) -> Response {
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let cycle_id = id_of(&cycle)?;
        let week = site.store.week_offer(a, producer_id, cycle_id).await?;
        if !week.editable {
            return Ok(see_other(&v, &format!("/producer/cycles/{cycle_id}")));
        }
        Ok(page(
            &site,
            &v,
            StatusCode::OK,
            &week,
            &HashMap::new(),
            &HashMap::new(),
            None,
        ))
    }
    .await;
    answer(&site, &v, r)
}

fn set_error(errors: &mut RowErrors, id: i64, field: &str, message: String) {
    errors
        .entry(id)
        .or_default()
        .insert(field.to_owned(), Value::String(message));
}

/// Reads the rows of the form: the offers to save, what was typed, and each row's errors.
fn read_rows(
    site: &Site,
    lang: Lang,
    week: &WeekOffer,
    form: &crate::pages::visitor::Form,
) -> (Vec<OfferInput>, HashMap<i64, Typed>, RowErrors) {
    let mut inputs = Vec::new();
    let mut typed = HashMap::new();
    let mut errors = RowErrors::new();
    for r in &week.rows {
        let id = r.product.id;
        let t = Typed {
            on_sale: !form.get(&format!("sale_{id}")).is_empty(),
            price: form.get(&format!("price_{id}")).to_owned(),
            stock: form.get(&format!("stock_{id}")).to_owned(),
        };
        if t.on_sale && r.product.active {
            let price = match decimal(&t.price).map(Money::from_decimal) {
                Some(Ok(m)) => Some(m),
                _ if t.price.is_empty() => {
                    set_error(
                        &mut errors,
                        id,
                        "price",
                        site.t(lang, "producer-error-price-missing"),
                    );
                    None
                }
                _ => {
                    set_error(
                        &mut errors,
                        id,
                        "price",
                        site.t(lang, "producer-error-price"),
                    );
                    None
                }
            };
            let stock = match decimal(&t.stock).map(Quantity::new) {
                Some(Ok(q)) => Some(q),
                _ if t.stock.is_empty() => {
                    set_error(
                        &mut errors,
                        id,
                        "stock",
                        site.t(lang, "producer-error-stock-missing"),
                    );
                    None
                }
                _ => {
                    set_error(
                        &mut errors,
                        id,
                        "stock",
                        site.t(lang, "producer-error-stock"),
                    );
                    None
                }
            };
            if let (Some(price), Some(stock)) = (price, stock) {
                inputs.push(OfferInput {
                    product_id: id,
                    price: Some(price),
                    stock,
                });
            }
        }
        typed.insert(id, t);
    }
    (inputs, typed, errors)
}

/// Saves the whole week's offer at once: rows ticked are on sale at their price and stock,
/// rows left unticked are withdrawn (what was ordered stays reserved).
#[handler]
pub(crate) async fn publish_week(
    site: Data<&Arc<Site>>,
    sub: Submission,
    Path(cycle): Path<String>,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let cycle_id = id_of(&cycle)?;
        let week = site.store.week_offer(a, producer_id, cycle_id).await?;
        let (inputs, typed, mut errors) = read_rows(&site, v.lang, &week, &form);
        for e in site
            .store
            .check_week(a, producer_id, cycle_id, &inputs)
            .await?
        {
            let message = match &e.error {
                StoreError::Conflict { code, .. } if *code == "stock_below_ordered" => {
                    let ordered = week
                        .rows
                        .iter()
                        .find(|r| r.product.id == e.product_id)
                        .map(|r| {
                            print::format::quantity_with_unit(
                                r.ordered,
                                r.product.pricing.unit,
                                v.lang,
                            )
                        })
                        .unwrap_or_default();
                    site.t_with(
                        v.lang,
                        "producer-error-stock-below-ordered",
                        &[("ordered", ordered)],
                    )
                }
                other => store_error(&site, v.lang, other),
            };
            set_error(&mut errors, e.product_id, e.field, message);
        }
        if !errors.is_empty() {
            return Ok(page(
                &site,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                &week,
                &typed,
                &errors,
                Some(site.t(v.lang, "producer-week-not-saved")),
            ));
        }
        match site
            .store
            .set_offers(a, cycle_id, producer_id, inputs)
            .await
        {
            Ok(_) => Ok(see_other(
                &v,
                &format!("/producer/week/{cycle_id}?done=producer-week"),
            )),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => Ok(page(
                &site,
                &v,
                crate::pages::site::store_status(&e),
                &week,
                &typed,
                &errors,
                Some(store_error(&site, v.lang, &e)),
            )),
            Err(e) => Err(PageError::from(e)),
        }
    }
    .await;
    answer(&site, &v, r)
}
