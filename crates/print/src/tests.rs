//! Tests of the public API on small values built by hand.

use chrono::{DateTime, TimeZone, Utc};
use distribution::routing::{
    Cargo, FleetPlan, Place, RoundPlan, Stop, StopKind, Unassigned, Vehicle,
};
use distribution::{
    Collection, CycleInfo, DistributionSheet, Label, Payment, PaymentMethod, PickItem, PickPoint,
    PickProduct, PickingList, ProducerCrate, SheetBasket, SheetLine, SheetTotals, SlotInfo,
    SlotQuantity,
};
use domain::{Money, Quantity, Unit, VatBreakdownLine, VatRate};
use rust_decimal_macros::dec;

use crate::{
    Format, Lang, PrintError, Rendered, distribution_sheets, labels, picking_lists, round,
};

pub(crate) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn qty(milli: i64) -> Quantity {
    Quantity::from_milli(milli)
}

pub(crate) fn cycle() -> CycleInfo {
    CycleInfo {
        id: 12,
        name: "Semaine 48".to_string(),
        market_name: "Halle de Montreuil".to_string(),
        timezone: chrono_tz::Europe::Paris,
        opens_at: utc(2026, 11, 19, 8, 0),
        closes_at: utc(2026, 11, 24, 11, 0),
    }
}

pub(crate) fn slot(id: i64, name: &str, day: u32) -> SlotInfo {
    SlotInfo {
        slot_id: id,
        pickup_point_id: id * 10,
        pickup_point_name: name.to_string(),
        address: format!("{id} rue de la République, 93100 Montreuil"),
        starts_at: utc(2026, 11, day, 16, 30),
        ends_at: utc(2026, 11, day, 18, 30),
        cancelled: false,
    }
}

pub(crate) fn item(id: i64, name: &str, unit: Unit, milli: i64, kg: Option<i64>) -> PickItem {
    PickItem {
        product_id: id,
        product_name: name.to_string(),
        unit,
        quantity: qty(milli),
        estimated_kg: kg.map(qty),
    }
}

/// A picking list with `products` products delivered to `points` slots,
/// one label per point and consumer in `consumers`.
pub(crate) fn list(
    producer: &str,
    products: usize,
    points: usize,
    consumers: &[&str],
) -> PickingList {
    let slots: Vec<SlotInfo> = (0..points)
        .map(|p| slot(p as i64 + 1, &format!("Point {}", p + 1), 26))
        .collect();
    let items: Vec<PickItem> = (0..products)
        .map(|i| {
            if i % 3 == 0 {
                item(
                    i as i64,
                    &format!("Chou rouge n°{i}"),
                    Unit::Piece,
                    2000,
                    Some(2400),
                )
            } else {
                item(
                    i as i64,
                    &format!("Carottes fanes {i}"),
                    Unit::Kg,
                    1500,
                    None,
                )
            }
        })
        .collect();
    let n = points as i64;
    PickingList {
        cycle: cycle(),
        producer_id: 7,
        producer_name: producer.to_string(),
        products: items
            .iter()
            .map(|i| PickProduct {
                product_id: i.product_id,
                product_name: i.product_name.clone(),
                unit: i.unit,
                total_quantity: qty(i.quantity.milli() * n),
                estimated_kg: i.estimated_kg.map(|k| qty(k.milli() * n)),
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
            .flat_map(|s| {
                consumers.iter().enumerate().map(|(k, c)| Label {
                    order_id: 1000 + s.slot_id * 100 + k as i64,
                    consumer_name: (*c).to_string(),
                    slot_id: s.slot_id,
                    pickup_point_name: s.pickup_point_name.clone(),
                    starts_at: s.starts_at,
                    items: items.iter().take(7).cloned().collect(),
                })
            })
            .collect(),
        total_estimated: Money::from_cents(123_456),
    }
}

fn line(id: i64, product: &str, producer: &str, cents: i64, weighed: Option<i64>) -> SheetLine {
    let variable = weighed.is_some() || product.starts_with("Chou");
    SheetLine {
        line_id: id,
        producer_name: producer.to_string(),
        product_name: product.to_string(),
        unit: if variable { Unit::Piece } else { Unit::Kg },
        quantity: qty(2000),
        unit_price: Money::from_cents(cents / 2),
        vat: VatRate::REDUCED_5_5,
        estimated_total: Money::from_cents(cents),
        final_total: weighed.map(Money::from_cents),
        variable_weight: variable,
        estimated_kg: variable.then(|| qty(2400)),
        actual_kg: weighed.map(|_| qty(2315)),
    }
}

fn basket(order_id: i64, consumer: &str, collection: Collection, paid: i64) -> SheetBasket {
    let lines = vec![
        line(order_id * 10, "Carottes", "Ferme de l'Écluse", 630, None),
        line(
            order_id * 10 + 1,
            "Chou rouge",
            "Ferme de l'Écluse",
            480,
            Some(463),
        ),
        line(
            order_id * 10 + 2,
            "Œufs plein air",
            "Les Poules d'Anaïs",
            420,
            None,
        ),
    ];
    let total = Money::from_cents(630 + 463 + 420);
    let paid = Money::from_cents(paid);
    let due = if total > paid {
        total - paid
    } else {
        Money::ZERO
    };
    SheetBasket {
        order_id,
        consumer_name: consumer.to_string(),
        consumer_phone: Some("06 12 34 56 78".to_string()),
        lines,
        estimated_total: Money::from_cents(630 + 480 + 420),
        total,
        fully_weighed: true,
        paid,
        due,
        collection,
        payments: if paid.is_zero() {
            Vec::new()
        } else {
            vec![Payment {
                id: 1,
                method: PaymentMethod::Card,
                amount: paid,
            }]
        },
    }
}

pub(crate) fn sheet(consumers: &[&str]) -> DistributionSheet {
    let baskets: Vec<SheetBasket> = consumers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let state = match i % 3 {
                0 => Collection::Pending,
                1 => Collection::Collected,
                _ => Collection::NotCollected,
            };
            basket(500 + i as i64, c, state, if i % 2 == 0 { 0 } else { 1513 })
        })
        .collect();
    let total: Money = baskets.iter().map(|b| b.total).sum();
    let paid: Money = baskets.iter().map(|b| b.paid).sum();
    let due: Money = baskets.iter().map(|b| b.due).sum();
    DistributionSheet {
        cycle: cycle(),
        slot: slot(1, "La Cour des Lilas", 26),
        totals: SheetTotals {
            baskets: baskets.len(),
            collected: baskets
                .iter()
                .filter(|b| b.collection == Collection::Collected)
                .count(),
            not_collected: baskets
                .iter()
                .filter(|b| b.collection == Collection::NotCollected)
                .count(),
            pending: baskets
                .iter()
                .filter(|b| b.collection == Collection::Pending)
                .count(),
            estimated_total: baskets.iter().map(|b| b.estimated_total).sum(),
            total,
            paid,
            due,
            vat: vec![VatBreakdownLine {
                rate: VatRate::REDUCED_5_5,
                gross: total,
                net: Money::from_cents(total.cents() * 1000 / 1055),
                vat: total - Money::from_cents(total.cents() * 1000 / 1055),
            }],
        },
        baskets,
        crates: vec![
            ProducerCrate {
                producer_id: 7,
                producer_name: "Ferme de l'Écluse".to_string(),
                items: vec![
                    item(1, "Carottes", Unit::Kg, 4000, None),
                    item(2, "Chou rouge", Unit::Piece, 4000, Some(4800)),
                ],
            },
            ProducerCrate {
                producer_id: 8,
                producer_name: "Les Poules d'Anaïs".to_string(),
                items: vec![item(3, "Œufs plein air", Unit::Dozen, 2000, None)],
            },
        ],
    }
}

fn place(key: &str, name: &str) -> Place {
    Place {
        key: key.to_string(),
        name: name.to_string(),
        latitude: 48.86,
        longitude: 2.44,
    }
}

fn cargo(producer: i64, slot: i64) -> Cargo {
    Cargo {
        producer_id: producer,
        slot_id: slot,
        crates: 3,
        kg: dec!(12.5),
    }
}

/// A round's one ad-hoc vehicle (no name), as rounds planned without the market's vehicles.
fn ad_hoc() -> Vehicle {
    Vehicle {
        name: String::new(),
        capacity_crates: 10,
        capacity_kg: None,
    }
}

/// The round of [`plan`] in one ad-hoc vehicle.
pub(crate) fn fleet() -> FleetPlan {
    FleetPlan::of_one(ad_hoc(), plan())
}

/// Two named vehicles: the second one's round is the first one's, its left-out shipments the
/// fleet's.
fn two_vehicles() -> FleetPlan {
    let mut one = fleet();
    let mut second = one.rounds[0].clone();
    one.rounds[0].vehicle = Vehicle {
        name: "Kangoo".into(),
        capacity_crates: 20,
        capacity_kg: Some(dec!(400)),
    };
    second.vehicle = Vehicle {
        name: "Camion frigo".into(),
        capacity_crates: 60,
        capacity_kg: Some(dec!(1200)),
    };
    one.rounds.push(second);
    one
}

pub(crate) fn plan() -> RoundPlan {
    let stop =
        |sequence: u32, kind, place: Place, producer, slot, minute: u32, picked, dropped| Stop {
            sequence,
            kind,
            place,
            producer_id: producer,
            slot_id: slot,
            arrival: utc(2026, 11, 26, 8, 0) + chrono::Duration::minutes(i64::from(minute)),
            departure: utc(2026, 11, 26, 8, 5) + chrono::Duration::minutes(i64::from(minute)),
            km_from_previous: 4.2,
            km_total: 4.2 * f64::from(sequence),
            load_crates: 3,
            load_kg: dec!(12.5),
            picked_up: picked,
            dropped,
        };
    RoundPlan {
        stops: vec![
            stop(
                0,
                StopKind::Start,
                place("depot", "Dépôt de la Halle"),
                None,
                None,
                0,
                vec![],
                vec![],
            ),
            stop(
                1,
                StopKind::Collect,
                place("farm-7", "Ferme de l'Écluse"),
                Some(7),
                None,
                15,
                vec![cargo(7, 1)],
                vec![],
            ),
            stop(
                2,
                StopKind::Deliver,
                place("point-1", "La Cour des Lilas"),
                None,
                Some(1),
                40,
                vec![],
                vec![cargo(7, 1)],
            ),
            stop(
                3,
                StopKind::End,
                place("depot", "Dépôt de la Halle"),
                None,
                None,
                55,
                vec![],
                vec![],
            ),
        ],
        total_km: 12.6,
        total_minutes: 60,
        unassigned: vec![Unassigned {
            producer_id: 9,
            slot_id: 1,
            reason: "trop de caisses pour le véhicule".to_string(),
        }],
    }
}

fn ok(r: Result<Rendered, PrintError>) -> Rendered {
    match r {
        Ok(r) => r,
        Err(e) => panic!("render failed: {e}"),
    }
}

fn text(r: &Rendered) -> String {
    String::from_utf8(r.bytes.clone()).unwrap_or_default()
}

const FORMATS: [Format; 4] = [Format::Html, Format::Csv, Format::Pdf, Format::Json];
const LANGS: [Lang; 2] = [Lang::Fr, Lang::En];

#[test]
fn every_document_renders_the_same_bytes_twice_in_every_format_and_language() {
    let lists = vec![
        list("Ferme de l'Écluse", 6, 2, &["Zoé", "Émile"]),
        list("Les Poules d'Anaïs", 3, 1, &["Adam"]),
    ];
    let sheets = vec![sheet(&["Zoé Martin", "Élodie Durand"]), sheet(&["Adam"])];
    let plan = fleet();
    for format in FORMATS {
        for lang in LANGS {
            let renders: [&dyn Fn() -> Result<Rendered, PrintError>; 4] = [
                &|| picking_lists(&lists, format, lang),
                &|| labels(&lists, format, lang),
                &|| distribution_sheets(&sheets, format, lang),
                &|| round(&plan, "Jeudi nord", chrono_tz::Europe::Paris, format, lang),
            ];
            for render in renders {
                let a = ok(render());
                let b = ok(render());
                assert!(!a.bytes.is_empty());
                assert!(a == b, "{format} {lang} {} differs", a.file_name);
            }
        }
    }
}

#[test]
fn a_pdf_starts_with_the_pdf_header_and_is_deterministic() {
    let one = vec![list("Ferme de l'Écluse", 5, 3, &["Zoé"])];
    let a = ok(picking_lists(&one, Format::Pdf, Lang::Fr));
    // Something else drawn in between must not change the next render.
    let _ = ok(labels(&one, Format::Pdf, Lang::En));
    let b = ok(picking_lists(&one, Format::Pdf, Lang::Fr));
    assert!(a.bytes.starts_with(b"%PDF-"));
    assert!(a.bytes.ends_with(b"%%EOF") || a.bytes.ends_with(b"%%EOF\n"));
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.content_type, "application/pdf");
}

#[test]
fn renders_on_other_threads_give_the_same_pdf() {
    let one = vec![list("Ferme de l'Écluse", 5, 3, &["Zoé"])];
    let here = ok(picking_lists(&one, Format::Pdf, Lang::Fr)).bytes;
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let one = one.clone();
            std::thread::spawn(move || picking_lists(&one, Format::Pdf, Lang::Fr).map(|r| r.bytes))
        })
        .collect();
    for h in handles {
        match h.join() {
            Ok(Ok(bytes)) => assert_eq!(bytes, here),
            _ => panic!("render on a thread failed"),
        }
    }
}

/// The number of page objects of a PDF (page dictionaries are not
/// compressed: they are plain objects of the cross-reference table).
fn page_count(pdf: &[u8]) -> usize {
    let needle = b"/Type/Page";
    let spaced = b"/Type /Page";
    let count = |n: &[u8]| {
        pdf.windows(n.len() + 1)
            .filter(|w| w.starts_with(n) && !w[n.len()].is_ascii_alphabetic())
            .count()
    };
    count(needle) + count(spaced)
}

#[test]
fn each_producer_starts_a_new_pdf_page() {
    let one = vec![list("Ferme de l'Écluse", 2, 1, &["Zoé"])];
    let two = vec![
        list("Ferme de l'Écluse", 2, 1, &["Zoé"]),
        list("Les Poules d'Anaïs", 2, 1, &["Adam"]),
    ];
    let a = page_count(&ok(picking_lists(&one, Format::Pdf, Lang::Fr)).bytes);
    let b = page_count(&ok(picking_lists(&two, Format::Pdf, Lang::Fr)).bytes);
    assert_eq!(a, 1);
    assert_eq!(b, 2);
}

#[test]
fn a_long_picking_list_runs_over_several_pdf_pages() {
    let big = vec![list("Ferme de l'Écluse", 40, 20, &["Zoé"])];
    let pdf = ok(picking_lists(&big, Format::Pdf, Lang::Fr)).bytes;
    assert!(page_count(&pdf) > 10, "{}", page_count(&pdf));
    // A subset of DejaVu is embedded, not the 700 kB font.
    assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
    assert!(pdf.windows(10).any(|w| w == b"DejaVuSans"));
}

#[test]
fn fourteen_labels_fill_one_a4_sheet_and_the_fifteenth_starts_another() {
    let names: Vec<String> = (0..14).map(|i| format!("Client {i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let fourteen = vec![list("Ferme", 2, 1, &names)];
    let mut more = names.clone();
    more.push("Quinze");
    let fifteen = vec![list("Ferme", 2, 1, &more)];
    assert_eq!(
        page_count(&ok(labels(&fourteen, Format::Pdf, Lang::Fr)).bytes),
        1
    );
    assert_eq!(
        page_count(&ok(labels(&fifteen, Format::Pdf, Lang::Fr)).bytes),
        2
    );
    let html = text(&ok(labels(&fifteen, Format::Html, Lang::Fr)));
    assert_eq!(html.matches("class=\"label-page\"").count(), 2);
    assert_eq!(html.matches("class=\"label\"").count(), 15);
}

#[test]
fn a_label_with_many_items_sums_up_the_rest() {
    let lists = vec![list("Ferme", 9, 1, &["Zoé"])];
    let html = text(&ok(labels(&lists, Format::Html, Lang::Fr)));
    assert!(html.contains("+\u{a0}3 autres articles"), "{html}");
}

#[test]
fn the_html_sheet_lists_consumers_in_collation_order() {
    // Given out of order; printed by collation key: accents and case ignored.
    let s = sheet(&[
        "Zoé Martin",
        "Œdipe Roi",
        "adam Smith",
        "Élodie Durand",
        "Émile Zola",
    ]);
    let html = text(&ok(distribution_sheets(&[s], Format::Html, Lang::Fr)));
    let positions: Vec<usize> = [
        "adam Smith",
        "Élodie Durand",
        "Émile Zola",
        "Œdipe Roi",
        "Zoé Martin",
    ]
    .iter()
    .map(|n| html.find(&format!(">{n}<")).unwrap_or(usize::MAX))
    .collect();
    assert!(positions.iter().all(|p| *p != usize::MAX), "{positions:?}");
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[test]
fn the_html_escapes_a_script_tag_in_a_name() {
    let s = sheet(&["<script>alert(1)</script>"]);
    let html = text(&ok(distribution_sheets(&[s], Format::Html, Lang::Fr)));
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let lists = vec![list("<script>", 1, 1, &["<b>Zoé</b>"])];
    for r in [
        ok(picking_lists(&lists, Format::Html, Lang::Fr)),
        ok(labels(&lists, Format::Html, Lang::Fr)),
    ] {
        let html = text(&r);
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
    }
}

#[test]
fn the_french_sheet_has_the_french_words_checkboxes_and_money() {
    let s = sheet(&["Zoé Martin", "Adam"]);
    let html = text(&ok(distribution_sheets(&[s], Format::Html, Lang::Fr)));
    for word in [
        "<html lang=\"fr\">",
        "Feuille de distribution — La Cour des Lilas",
        "jeudi 26 novembre 2026, 17:30–19:30",
        "Point de retrait",
        "Reste dû",
        "Payé",
        "Signature",
        "Retiré",
        "☐",
        "☑",
        "Livraisons par producteur",
        "15,13\u{a0}€",
        "carte 15,13\u{a0}€",
        "@page",
        "size: A4",
        "display: table-header-group",
    ] {
        assert!(html.contains(word), "missing {word:?}");
    }
    assert!(!html.contains("<script"), "no JavaScript");
}

#[test]
fn the_english_sheet_speaks_english() {
    let s = sheet(&["Zoé Martin"]);
    let html = text(&ok(distribution_sheets(&[s], Format::Html, Lang::En)));
    for word in [
        "<html lang=\"en\">",
        "Distribution sheet",
        "Thursday 26 November 2026, 17:30–19:30",
        "Amount due",
        "Collected",
        "Deliveries by producer",
        "€15.13",
    ] {
        assert!(html.contains(word), "missing {word:?}");
    }
    assert!(!html.contains("Reste dû"));
}

#[test]
fn the_picking_list_html_has_totals_then_one_block_per_point_and_page_breaks() {
    let lists = vec![
        list("Ferme de l'Écluse", 3, 2, &["Zoé"]),
        list("Les Poules d'Anaïs", 1, 1, &["Adam"]),
    ];
    let html = text(&ok(picking_lists(&lists, Format::Html, Lang::Fr)));
    assert_eq!(html.matches("<section class=\"doc\">").count(), 2);
    assert!(html.contains("break-after: page"));
    assert!(html.contains("Liste de préparation — Ferme de l&#x27;Écluse"));
    assert!(html.contains("Point de retrait\u{a0}: Point 1 — jeudi 26 novembre 2026, 17:30–19:30"));
    assert!(html.contains("4\u{a0}pièces"));
    assert!(html.contains("≈\u{a0}4,8\u{a0}kg"));
    assert!(html.contains("Poids estimé"));
}

#[test]
fn the_round_html_names_places_cargo_and_unplanned_pickups() {
    let html = text(&ok(round(
        &fleet(),
        "Jeudi nord",
        chrono_tz::Europe::Paris,
        Format::Html,
        Lang::Fr,
    )));
    for word in [
        "Tournée — Jeudi nord",
        "jeudi 26 novembre 2026",
        "09:15–09:20",
        "Collecte",
        "Ferme de l&#x27;Écluse",
        "+ 3\u{a0}caisses · 12,5\u{a0}kg → La Cour des Lilas",
        "Non planifié",
        "trop de caisses pour le véhicule",
        "12,6\u{a0}km",
    ] {
        assert!(html.contains(word), "missing {word:?}");
    }
}

#[test]
fn a_csv_starts_with_a_bom_and_uses_semicolons_and_decimal_commas_in_french() {
    let csv = ok(distribution_sheets(
        &[sheet(&["Zoé Martin"])],
        Format::Csv,
        Lang::Fr,
    ));
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    let body = text(&csv);
    let mut rows = body.trim_start_matches('\u{feff}').split("\r\n");
    assert_eq!(
        rows.next(),
        Some("Créneau;Client;Produit;Producteur;Quantité;Unité;Montant;Total;Payé;Reste dû;Statut")
    );
    assert_eq!(
        rows.next(),
        Some(
            "La Cour des Lilas 2026-11-26 17:30;Zoé Martin;Carottes;Ferme de l'Écluse;2;kg;6,30;15,13;0,00;15,13;À retirer"
        )
    );
    // One row per line item, CRLF everywhere, a final CRLF.
    assert_eq!(body.matches("\r\n").count(), 4);
    assert!(!body.replace("\r\n", "").contains('\n'));
}

#[test]
fn an_english_csv_uses_commas_and_decimal_points() {
    let csv = text(&ok(distribution_sheets(
        &[sheet(&["Zoé Martin"])],
        Format::Csv,
        Lang::En,
    )));
    assert!(csv.starts_with("\u{feff}Slot,Consumer,Product,Producer,Quantity,Unit,Amount,Total,Paid,Amount due,Status\r\n"));
    assert!(csv.contains(",6.30,15.13,0.00,15.13,Pending\r\n"), "{csv}");
}

#[test]
fn a_csv_field_holding_the_separator_is_quoted() {
    let lists = vec![list("Dupont; fils & \"cie\"", 1, 1, &["Zoé"])];
    let csv = text(&ok(picking_lists(&lists, Format::Csv, Lang::Fr)));
    assert!(csv.contains("\"Dupont; fils & \"\"cie\"\"\";"), "{csv}");
}

#[test]
fn the_picking_list_csv_has_one_row_per_product_and_point() {
    let lists = vec![list("Ferme", 3, 2, &["Zoé"])];
    let csv = text(&ok(picking_lists(&lists, Format::Csv, Lang::Fr)));
    let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(rows.len(), 1 + 3 * 2);
    assert_eq!(
        rows.get(1).copied(),
        Some("Ferme;Chou rouge n°0;pièce;2;Point 1;2026-11-26 17:30;2,4")
    );
    let labels_csv = text(&ok(labels(&lists, Format::Csv, Lang::En)));
    assert!(labels_csv.starts_with(
        "\u{feff}Order no.,Consumer,Pickup point,Slot,Producer,Product,Unit,Quantity\r\n"
    ));
    let round_csv = text(&ok(round(
        &fleet(),
        "x",
        chrono_tz::Europe::Paris,
        Format::Csv,
        Lang::Fr,
    )));
    assert!(
        round_csv.contains(
            "1;Collecte;Ferme de l'Écluse;2026-11-26 09:15;2026-11-26 09:20;4,2;4,2;3;12,5;"
        ),
        "{round_csv}"
    );
}

#[test]
fn json_is_the_pretty_printed_input() {
    let lists = vec![list("Ferme", 1, 1, &["Zoé"])];
    let r = ok(picking_lists(&lists, Format::Json, Lang::Fr));
    assert_eq!(r.content_type, "application/json");
    let expected = serde_json::to_vec_pretty(&lists).unwrap_or_default();
    assert_eq!(r.bytes, expected);
    let p = fleet();
    let r = ok(round(
        &p,
        "x",
        chrono_tz::Europe::Paris,
        Format::Json,
        Lang::Fr,
    ));
    let json: serde_json::Value = serde_json::from_slice(&r.bytes).unwrap_or_default();
    // A round of one vehicle keeps its stops at the top, as before rounds had vehicles.
    let stops: serde_json::Value =
        serde_json::from_slice(&serde_json::to_vec(&p.rounds[0].plan.stops).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(json["stops"], stops);
    assert_eq!(json["vehicles"][0]["crates"], 3);
    assert_eq!(json["unassigned"][0]["producer_id"], 9);
}

#[test]
fn file_names_are_ascii_slugs_with_the_format_s_extension() {
    let one = vec![list("Ferme de l'Écluse", 1, 1, &["Zoé"])];
    assert_eq!(
        ok(picking_lists(&one, Format::Pdf, Lang::Fr)).file_name,
        "liste-de-preparation-cycle-12-ferme-de-l-ecluse.pdf"
    );
    assert_eq!(
        ok(labels(&one, Format::Csv, Lang::En)).file_name,
        "labels-cycle-12-ferme-de-l-ecluse.csv"
    );
    assert_eq!(
        ok(distribution_sheets(
            &[sheet(&["A"])],
            Format::Html,
            Lang::Fr
        ))
        .file_name,
        "feuille-de-distribution-cycle-12-la-cour-des-lilas-2026-11-26.html"
    );
    assert_eq!(
        ok(round(
            &fleet(),
            "Jeudi nord",
            chrono_tz::Europe::Paris,
            Format::Json,
            Lang::Fr
        ))
        .file_name,
        "tournee-jeudi-nord-2026-11-26.json"
    );
}

#[test]
fn nothing_to_print_still_gives_a_document() {
    for format in FORMATS {
        let r = ok(picking_lists(&[], format, Lang::Fr));
        assert!(!r.bytes.is_empty());
        let r = ok(labels(&[], format, Lang::Fr));
        assert!(!r.bytes.is_empty());
        let r = ok(distribution_sheets(&[], format, Lang::Fr));
        assert!(!r.bytes.is_empty());
    }
    let empty_round = RoundPlan {
        stops: Vec::new(),
        total_km: 0.0,
        total_minutes: 0,
        unassigned: Vec::new(),
    };
    for format in FORMATS {
        assert!(
            !ok(round(
                &FleetPlan::of_one(ad_hoc(), empty_round.clone()),
                "",
                chrono_tz::UTC,
                format,
                Lang::En
            ))
            .bytes
            .is_empty()
        );
    }
}

#[test]
fn a_basket_longer_than_a_page_runs_on_to_the_next() {
    let mut s = sheet(&["Zoé Martin", "Adam"]);
    let lines: Vec<SheetLine> = (0..120)
        .map(|i| {
            line(
                i,
                &format!("Produit {i} au nom assez long pour passer à la ligne"),
                "Ferme",
                100,
                None,
            )
        })
        .collect();
    if let Some(b) = s.baskets.get_mut(0) {
        b.lines = lines;
    }
    let pdf = ok(distribution_sheets(&[s], Format::Pdf, Lang::Fr)).bytes;
    assert!(page_count(&pdf) >= 3, "{}", page_count(&pdf));
}

#[test]
fn a_slot_without_baskets_still_prints_its_sheet() {
    let s = sheet(&[]);
    let html = text(&ok(distribution_sheets(
        std::slice::from_ref(&s),
        Format::Html,
        Lang::Fr,
    )));
    assert!(html.contains("Aucun panier pour ce créneau."));
    let pdf = ok(distribution_sheets(&[s], Format::Pdf, Lang::Fr)).bytes;
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn languages_and_formats_parse_from_their_names() {
    assert_eq!("fr".parse::<Lang>().ok(), Some(Lang::Fr));
    assert_eq!("EN-gb".parse::<Lang>().ok(), Some(Lang::En));
    assert!("de".parse::<Lang>().is_err());
    assert_eq!("PDF".parse::<Format>().ok(), Some(Format::Pdf));
    assert_eq!("htm".parse::<Format>().ok(), Some(Format::Html));
    assert!("docx".parse::<Format>().is_err());
    assert_eq!(Format::Csv.file_extension(), "csv");
    assert_eq!(Format::Html.content_type(), "text/html; charset=utf-8");
    assert_eq!(Lang::default(), Lang::Fr);
}

#[test]
fn the_pdf_text_can_be_read_back_with_its_accents() {
    let one = vec![list("Ferme de l'Écluse", 2, 1, &["Zoé"])];
    let pdf = ok(picking_lists(&one, Format::Pdf, Lang::Fr)).bytes;
    let mut warnings = Vec::new();
    let doc = match printpdf::PdfDocument::parse(
        &pdf,
        &printpdf::PdfParseOptions::default(),
        &mut warnings,
    ) {
        Ok(doc) => doc,
        Err(e) => panic!("{e}"),
    };
    let all: String = doc
        .extract_text()
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    for word in [
        "Liste de préparation",
        "Écluse",
        "Quantité",
        "Poids estimé",
        "Page 1 / 1",
    ] {
        assert!(all.contains(word), "{word:?} not in {all:?}");
    }
}

#[test]
fn a_csv_text_cell_that_a_spreadsheet_would_run_gets_a_leading_quote() {
    use crate::csv_out::text;
    for bad in ["=1+1", "+33 6 12", "-2", "@SUM(A1)", "\tx", "\rx"] {
        assert_eq!(text(bad), format!("'{bad}"), "{bad:?}");
    }
    for fine in ["Zoé", "", "1=1", "Dupont-Martin", "'=already"] {
        assert_eq!(text(fine), fine, "{fine:?}");
    }
}

#[test]
fn names_in_every_csv_are_neutralised_and_numbers_are_not() {
    let evil = "=HYPERLINK(\"http://x\")";
    let sheets = text(&ok(distribution_sheets(
        &[sheet(&[evil, "-Zoé"])],
        Format::Csv,
        Lang::Fr,
    )));
    assert!(
        sheets.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "{sheets}"
    );
    assert!(sheets.contains(";'-Zoé;"), "{sheets}");
    assert!(
        !sheets.contains(";=") && !sheets.contains(";\"="),
        "{sheets}"
    );
    // Halle's own numbers stay numbers.
    assert!(sheets.contains(";6,30;15,13;0,00;15,13;"), "{sheets}");

    let lists = vec![list("@Ferme", 1, 1, &[evil])];
    let picking = text(&ok(picking_lists(&lists, Format::Csv, Lang::Fr)));
    assert!(picking.contains("\r\n'@Ferme;"), "{picking}");
    let labels = text(&ok(labels(&lists, Format::Csv, Lang::Fr)));
    assert!(labels.contains("\"'=HYPERLINK("), "{labels}");
    assert!(labels.contains(";'@Ferme;"), "{labels}");
}

#[test]
fn a_round_with_two_vehicles_names_both_in_every_format() {
    let plan = two_vehicles();
    for format in FORMATS {
        let r = ok(round(
            &plan,
            "Jeudi",
            chrono_tz::Europe::Paris,
            format,
            Lang::Fr,
        ));
        if format == Format::Pdf {
            assert!(r.bytes.starts_with(b"%PDF"));
            continue;
        }
        let body = text(&r);
        for name in ["Kangoo", "Camion frigo"] {
            assert!(body.contains(name), "{format}: {name} missing");
        }
    }
    let html = text(&ok(round(
        &plan,
        "Jeudi",
        chrono_tz::Europe::Paris,
        Format::Html,
        Lang::Fr,
    )));
    assert!(
        html.contains("<h2>Véhicule\u{a0}: Kangoo (20\u{a0}caisses · 400\u{a0}kg)</h2>"),
        "{html}"
    );
    let csv = text(&ok(round(
        &plan,
        "Jeudi",
        chrono_tz::Europe::Paris,
        Format::Csv,
        Lang::Fr,
    )));
    assert!(csv.contains("\r\nCamion frigo;1;Collecte;"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_slice(&ok(round(&plan, "", chrono_tz::UTC, Format::Json, Lang::En)).bytes)
            .unwrap_or_default();
    assert_eq!(json["vehicles"].as_array().map(Vec::len), Some(2));
    assert!(json.get("stops").is_none());
}
