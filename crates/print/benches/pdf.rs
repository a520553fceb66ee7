//! Renders one producer's picking list (40 products × 20 pickup points) to
//! PDF 50 times and prints the time per render.
//!
//! `cargo bench -p print --bench pdf` (release profile). The target is well
//! under 50 ms per render.

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use distribution::{
    CycleInfo, Label, PickItem, PickPoint, PickProduct, PickingList, SlotInfo, SlotQuantity,
};
use domain::{Money, Quantity, Unit};
use print::{Format, Lang, picking_lists};

const PRODUCTS: usize = 40;
const POINTS: usize = 20;
const RUNS: u32 = 50;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 30, 0)
        .single()
        .unwrap_or_default()
}

fn list() -> PickingList {
    let cycle = CycleInfo {
        id: 48,
        name: "Semaine 48".to_string(),
        market_name: "Halle de Montreuil".to_string(),
        timezone: chrono_tz::Europe::Paris,
        opens_at: at(19, 8),
        closes_at: at(24, 11),
    };
    let slots: Vec<SlotInfo> = (0..POINTS)
        .map(|p| SlotInfo {
            slot_id: p as i64 + 1,
            pickup_point_id: p as i64 + 100,
            pickup_point_name: format!("Point de retrait n°{} — Épicerie « Les Halles »", p + 1),
            address: format!("{} avenue de la Résistance, 93100 Montreuil", p + 3),
            starts_at: at(26, 16) + Duration::minutes(15 * p as i64),
            ends_at: at(26, 18) + Duration::minutes(15 * p as i64),
            cancelled: false,
        })
        .collect();
    let items: Vec<PickItem> = (0..PRODUCTS)
        .map(|i| {
            let variable = i % 4 == 0;
            PickItem {
                product_id: i as i64,
                product_name: format!("Légume d'hiver n°{i} (variété ancienne, bio)"),
                unit: if variable { Unit::Piece } else { Unit::Kg },
                quantity: Quantity::from_milli(1500 + 500 * (i as i64 % 5)),
                estimated_kg: variable.then(|| Quantity::from_milli(1200)),
            }
        })
        .collect();
    PickingList {
        cycle,
        producer_id: 7,
        producer_name: "Ferme de l'Écluse".to_string(),
        products: items
            .iter()
            .map(|i| PickProduct {
                product_id: i.product_id,
                product_name: i.product_name.clone(),
                unit: i.unit,
                total_quantity: Quantity::from_milli(i.quantity.milli() * POINTS as i64),
                estimated_kg: i
                    .estimated_kg
                    .map(|k| Quantity::from_milli(k.milli() * POINTS as i64)),
                per_slot: slots
                    .iter()
                    .map(|s| SlotQuantity {
                        slot_id: s.slot_id,
                        pickup_point_name: s.pickup_point_name.clone(),
                        starts_at: s.starts_at,
                        quantity: i.quantity,
                    })
                    .collect(),
            })
            .collect(),
        points: slots
            .iter()
            .map(|s| PickPoint {
                slot: s.clone(),
                items: items.clone(),
            })
            .collect(),
        labels: slots
            .iter()
            .map(|s| Label {
                order_id: s.slot_id,
                consumer_name: "Zoé Martin".to_string(),
                slot_id: s.slot_id,
                pickup_point_name: s.pickup_point_name.clone(),
                starts_at: s.starts_at,
                items: items.iter().take(5).cloned().collect(),
            })
            .collect(),
        total_estimated: Money::from_cents(1_234_567),
    }
}

fn main() {
    let lists = vec![list()];
    // Warm-up: parses the fonts once per process.
    let first = match picking_lists(&lists, Format::Pdf, Lang::Fr) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("render failed: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    for _ in 0..RUNS {
        let r = picking_lists(black_box(&lists), Format::Pdf, Lang::Fr);
        black_box(r.map(|r| r.bytes.len()).unwrap_or(0));
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / f64::from(RUNS);
    println!(
        "picking list PDF, {PRODUCTS} products × {POINTS} points: {per:.2} ms per render \
         ({} bytes, {RUNS} runs)",
        first.bytes.len()
    );
}
