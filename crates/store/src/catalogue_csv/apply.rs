//! The import's plan (what each line would do) and its application, in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::parse::{CellError, CellProblem, parse};
use crate::{
    Actor, NewProduct, ProductView, Role, Store, StoreError,
    catalogue::{product_view, reference_of, reference_taken, validated_product},
    entities::{market_producer, producer, product},
};

/// What a line of the file does.
#[derive(Clone, Debug)]
pub enum RowAction {
    /// A new product.
    Create,
    /// The product of the same reference (or, for a line without one, the product of the same
    /// name that has none), updated.
    Update {
        /// Its id.
        product_id: i64,
    },
    /// Nothing: these cells are refused.
    Refused(Vec<CellError>),
}

/// One line of the file, planned.
#[derive(Clone, Debug)]
pub struct PlannedRow {
    /// Its line in the file (the header is 1).
    pub line: usize,
    /// Whose product it is, when known.
    pub producer: Option<(i64, String)>,
    /// The name cell as written.
    pub name: String,
    /// The product read, when the line is accepted.
    pub product: Option<NewProduct>,
    /// What it does.
    pub action: RowAction,
}

/// What an import would do, line by line.
#[derive(Clone, Debug)]
pub struct ImportPlan {
    /// Required columns the header lacks: nothing can be read.
    pub missing_columns: Vec<&'static str>,
    /// Every data line.
    pub rows: Vec<PlannedRow>,
}

impl ImportPlan {
    /// Lines that create a product.
    pub fn creates(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.action, RowAction::Create))
            .count()
    }

    /// Lines that update a product.
    pub fn updates(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.action, RowAction::Update { .. }))
            .count()
    }

    /// Lines refused.
    pub fn refused(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.action, RowAction::Refused(_)))
            .count()
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Products created.
    pub created: usize,
    /// Products updated.
    pub updated: usize,
    /// Lines left out.
    pub refused: usize,
}

/// Lower case, trimmed: producers' names as people retype them.
fn folded(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Store {
    /// The producers whose catalogue `actor` imports and exports: a producer's account its
    /// own; a coordinator those selling through its market (a producers' group); an admin
    /// every producer. By name.
    pub async fn catalogue_producers(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let mut q = producer::Entity::find().order_by_asc(producer::Column::Name);
        match actor.role {
            Role::Admin => {}
            Role::Producer => {
                let id = actor.producer_id.ok_or_else(|| {
                    StoreError::forbidden("this account manages no producer's catalogue")
                })?;
                q = q.filter(producer::Column::Id.eq(id));
            }
            Role::Coordinator => {
                let market = actor.market_id.ok_or_else(|| {
                    StoreError::forbidden("this account manages no producer's catalogue")
                })?;
                let ids: Vec<i64> = market_producer::Entity::find()
                    .filter(market_producer::Column::MarketId.eq(market))
                    .all(self.db())
                    .await?
                    .into_iter()
                    .map(|m| m.producer_id)
                    .collect();
                q = q.filter(producer::Column::Id.is_in(ids));
            }
            _ => {
                return Err(StoreError::forbidden(
                    "only producers and coordinators manage catalogues",
                ));
            }
        }
        Ok(q.all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect())
    }

    /// The active products of the producers `actor` manages, with their producer's name, by
    /// producer then name: what the CSV export writes.
    pub async fn catalogue_export(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(String, ProductView)>, StoreError> {
        let producers: HashMap<i64, String> =
            self.catalogue_producers(actor).await?.into_iter().collect();
        let rows = product::Entity::find()
            .filter(product::Column::ProducerId.is_in(producers.keys().copied()))
            .filter(product::Column::Active.eq(true))
            .order_by_asc(product::Column::ProducerId)
            .order_by_asc(product::Column::Name)
            .order_by_asc(product::Column::Id)
            .all(self.db())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            let name = producers.get(&p.producer_id).cloned().unwrap_or_default();
            out.push((name, product_view(p)?));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.name.cmp(&b.1.name)));
        Ok(out)
    }

    /// What importing `text` would do for `actor`, line by line; changes nothing.
    pub async fn plan_catalogue_import(
        &self,
        actor: &Actor,
        text: &str,
    ) -> Result<ImportPlan, StoreError> {
        let producers = self.catalogue_producers(actor).await?;
        let file = parse(text);
        let by_name: HashMap<String, (i64, String)> = producers
            .iter()
            .map(|(id, n)| (folded(n), (*id, n.clone())))
            .collect();
        let by_id: HashMap<i64, String> = producers.iter().cloned().collect();
        let only = (producers.len() == 1).then(|| producers[0].clone());
        let producer_column = file
            .header
            .iter()
            .find(|h| {
                matches!(
                    folded(h).as_str(),
                    "producteur" | "producer" | "ferme" | "farm"
                )
            })
            .cloned()
            .unwrap_or_else(|| "producteur".to_owned());
        // The products of the producers concerned, in one query: by reference, and those
        // without one by name (an export of products without reference, imported back,
        // updates them rather than adding copies).
        let mut existing: HashMap<(i64, String), i64> = HashMap::new();
        let mut unreferenced: HashMap<(i64, String), i64> = HashMap::new();
        for p in product::Entity::find()
            .filter(product::Column::ProducerId.is_in(by_id.keys().copied()))
            .order_by_asc(product::Column::Id)
            .all(self.db())
            .await?
        {
            match p.reference {
                Some(r) => {
                    existing.insert((p.producer_id, r), p.id);
                }
                None => {
                    unreferenced
                        .entry((p.producer_id, folded(&p.name)))
                        .or_insert(p.id);
                }
            }
        }
        let mut claimed: HashSet<i64> = HashSet::new();
        let mut seen: HashSet<(i64, String)> = HashSet::new();
        let mut rows = Vec::with_capacity(file.rows.len());
        for r in file.rows {
            let producer = match &r.producer {
                Some(cell) if !cell.is_empty() => {
                    by_name.get(&folded(cell)).cloned().or_else(|| {
                        cell.parse::<i64>()
                            .ok()
                            .and_then(|id| by_id.get(&id).map(|n| (id, n.clone())))
                    })
                }
                _ => only.clone(),
            };
            let mut errors = match &r.product {
                Ok(_) => Vec::new(),
                Err(e) => e.clone(),
            };
            if producer.is_none() {
                errors.insert(
                    0,
                    CellError {
                        line: r.line,
                        column: producer_column.clone(),
                        value: r.producer.clone().unwrap_or_default(),
                        problem: CellProblem::UnknownProducer,
                    },
                );
            }
            let mut action = RowAction::Create;
            if let (Ok(p), Some((pid, _))) = (&r.product, &producer)
                && let Some(reference) = reference_of(p.reference.as_deref())
            {
                let k = (*pid, reference.clone());
                if !seen.insert(k.clone()) {
                    errors.push(CellError {
                        line: r.line,
                        column: file
                            .header
                            .iter()
                            .find(|h| {
                                matches!(
                                    folded(h).as_str(),
                                    "reference" | "référence" | "ref" | "code"
                                )
                            })
                            .cloned()
                            .unwrap_or_else(|| "reference".to_owned()),
                        value: reference,
                        problem: CellProblem::DuplicateReference,
                    });
                } else if let Some(id) = existing.get(&k) {
                    action = RowAction::Update { product_id: *id };
                }
            } else if let (Ok(p), Some((pid, _))) = (&r.product, &producer)
                && let Some(id) = unreferenced.get(&(*pid, folded(&p.name)))
                && claimed.insert(*id)
            {
                action = RowAction::Update { product_id: *id };
            }
            let product = r.product.ok();
            if !errors.is_empty() {
                action = RowAction::Refused(errors);
            }
            rows.push(PlannedRow {
                line: r.line,
                producer,
                name: r.name,
                product: product.filter(|_| !matches!(action, RowAction::Refused(_))),
                action,
            });
        }
        Ok(ImportPlan {
            missing_columns: file.missing_columns,
            rows,
        })
    }

    /// Imports `text`: plans it again (the catalogue may have changed since the preview) and
    /// applies its accepted lines in one transaction; refused lines are left out.
    pub async fn import_catalogue(
        &self,
        actor: &Actor,
        text: &str,
    ) -> Result<ImportOutcome, StoreError> {
        let plan = self.plan_catalogue_import(actor, text).await?;
        let refused = plan.refused();
        let now = Utc::now();
        let w = self.write().await?;
        let (mut created, mut updated) = (0, 0);
        for row in plan.rows {
            let (Some(new), Some((producer_id, _))) = (row.product, row.producer) else {
                continue;
            };
            let step = validated_product(&new)?;
            let reference = reference_of(new.reference.as_deref());
            let vat = i32::try_from(new.pricing.vat.basis_points()).unwrap_or(i32::MAX);
            match row.action {
                RowAction::Create => {
                    product::ActiveModel {
                        producer_id: Set(producer_id),
                        name: Set(new.name.trim().to_owned()),
                        description: Set(new.description),
                        unit: Set(new.pricing.unit.as_str().to_owned()),
                        price_cents: Set(new.pricing.price.cents()),
                        vat_basis_points: Set(vat),
                        step_milli: Set(step.milli()),
                        variable_weight: Set(new.pricing.variable_weight.is_some()),
                        estimated_weight_milli: Set(new.pricing.variable_weight.map(|q| q.milli())),
                        category: Set(new.category.slug().to_owned()),
                        reference: Set(reference),
                        active: Set(true),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(&w.tx)
                    .await
                    .map_err(reference_taken)?;
                    created += 1;
                }
                RowAction::Update { product_id } => {
                    product::ActiveModel {
                        id: Set(product_id),
                        name: Set(new.name.trim().to_owned()),
                        description: Set(new.description),
                        unit: Set(new.pricing.unit.as_str().to_owned()),
                        price_cents: Set(new.pricing.price.cents()),
                        vat_basis_points: Set(vat),
                        step_milli: Set(step.milli()),
                        variable_weight: Set(new.pricing.variable_weight.is_some()),
                        estimated_weight_milli: Set(new.pricing.variable_weight.map(|q| q.milli())),
                        category: Set(new.category.slug().to_owned()),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .update(&w.tx)
                    .await
                    .map_err(reference_taken)?;
                    updated += 1;
                }
                RowAction::Refused(_) => {}
            }
        }
        w.commit().await?;
        self.sales.changed();
        Ok(ImportOutcome {
            created,
            updated,
            refused,
        })
    }
}
