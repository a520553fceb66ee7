//! The money documents render in every format, the same bytes twice, saying the same figures.

use chrono::{TimeZone, Utc};
use distribution::{
    BasketState, Collection, CycleInfo, LineRow, Payment, PaymentMethod, ReceiptStamp, SlotInfo,
};
use domain::{Money, Quantity, Unit, VatRate};

use crate::{Format, Lang};

fn cycle() -> CycleInfo {
    CycleInfo {
        id: 3,
        name: "Semaine 12".into(),
        market_name: "La Halle de Gâtine".into(),
        timezone: chrono_tz::Europe::Paris,
        opens_at: Utc
            .with_ymd_and_hms(2026, 3, 10, 8, 0, 0)
            .single()
            .unwrap_or_default(),
        closes_at: Utc
            .with_ymd_and_hms(2026, 3, 15, 20, 0, 0)
            .single()
            .unwrap_or_default(),
    }
}

fn line(line_id: i64, producer_id: i64, name: &str, cents: i64, vat: VatRate) -> LineRow {
    LineRow {
        order_id: 9,
        consumer_id: 1,
        consumer_name: "=Marie Dupuis".into(),
        consumer_phone: None,
        slot_id: 1,
        line_id,
        offer_id: line_id,
        product_id: line_id,
        product_name: name.into(),
        producer_id,
        producer_name: format!("Ferme {producer_id}"),
        unit: Unit::Piece,
        quantity: Quantity::from_milli(2000),
        unit_price: Money::from_cents(cents),
        vat,
        variable_weight: None,
    }
}

fn data() -> (Vec<SlotInfo>, Vec<LineRow>, BasketState) {
    let slots = vec![SlotInfo {
        slot_id: 1,
        pickup_point_id: 1,
        pickup_point_name: "Salle des fêtes".into(),
        address: "1 place".into(),
        starts_at: Utc
            .with_ymd_and_hms(2026, 3, 18, 16, 30, 0)
            .single()
            .unwrap_or_default(),
        ends_at: Utc
            .with_ymd_and_hms(2026, 3, 18, 18, 30, 0)
            .single()
            .unwrap_or_default(),
        cancelled: false,
    }];
    let lines = vec![
        line(1, 1, "Œufs", 420, VatRate::REDUCED_5_5),
        line(2, 2, "Cidre", 650, VatRate::STANDARD_20),
    ];
    let state = BasketState {
        order_id: 9,
        collection: Collection::Collected,
        payments: vec![Payment {
            id: 1,
            method: PaymentMethod::Cheque,
            amount: Money::from_cents(2140),
        }],
    };
    (slots, lines, state)
}

fn receipt() -> distribution::Receipt {
    let (slots, lines, state) = data();
    let stamp = ReceiptStamp {
        number: "2026-000042".into(),
        issued_at: Utc
            .with_ymd_and_hms(2026, 3, 18, 17, 0, 0)
            .single()
            .unwrap_or_default(),
        order_id: 9,
    };
    distribution::receipt(stamp, &cycle(), &slots, &lines, Some(&state))
        .unwrap_or_else(|| panic!("a receipt"))
}

#[test]
fn a_receipt_renders_in_every_format_and_the_same_bytes_twice() {
    let r = receipt();
    for format in [Format::Html, Format::Csv, Format::Pdf, Format::Json] {
        for lang in [Lang::Fr, Lang::En] {
            let a = crate::receipt(&r, format, lang).unwrap_or_else(|e| panic!("{e}"));
            let b = crate::receipt(&r, format, lang).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(a, b);
            assert!(a.file_name.contains("2026-000042"), "{}", a.file_name);
        }
    }
    let pdf = crate::receipt(&r, Format::Pdf, Lang::Fr).unwrap_or_else(|e| panic!("{e}"));
    assert!(pdf.bytes.starts_with(b"%PDF"));
    let html = crate::receipt(&r, Format::Html, Lang::Fr).unwrap_or_else(|e| panic!("{e}"));
    let html = String::from_utf8(html.bytes).unwrap_or_default();
    // 8.40 at 5.5 % and 13.00 at 20 %: 21.40 in all.
    assert!(html.contains("Reçu n° 2026-000042"), "{html}");
    assert!(html.contains("21,40\u{a0}€"), "{html}");
    assert!(html.contains("10,83\u{a0}€"), "{html}"); // 13.00 / 1.2 = 10.833 -> 10.83
    assert!(html.contains("Chèque"), "{html}");
}

#[test]
fn a_receipt_csv_guards_names_and_uses_the_decimal_comma() {
    let csv = crate::receipt(&receipt(), Format::Csv, Lang::Fr).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8(csv.bytes).unwrap_or_default();
    assert!(text.starts_with('\u{feff}'));
    let rows: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(
        rows[1],
        "2026-000042;2026-03-18 18:00;'=Marie Dupuis;produit;Œufs;Ferme 1;2;pièce;;4,20;5,5;8,40"
    );
    assert_eq!(
        rows[3],
        "2026-000042;2026-03-18 18:00;'=Marie Dupuis;règlement;Chèque;;;;;;;21,40"
    );
}

#[test]
fn settlements_render_in_every_format() {
    let (_, lines, state) = data();
    let list = distribution::settlements(&cycle(), &lines, &[state], 500);
    assert_eq!(list.len(), 2);
    for format in [Format::Html, Format::Csv, Format::Pdf, Format::Json] {
        let a = crate::settlements(&list, format, Lang::En).unwrap_or_else(|e| panic!("{e}"));
        let b = crate::settlements(&list, format, Lang::En).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
    }
    let csv =
        crate::settlements(&list[..1], Format::Csv, Lang::Fr).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8(csv.bytes).unwrap_or_default();
    // Ferme 1: 8.40 sold of 21.40; 21.40 paid: 8.40 its share; 5 % commission 0.42.
    assert!(
        text.contains("Ferme 1;Semaine 12;Dû au producteur;;;;;;;;7,98\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Commission du marché (5\u{a0}%);;;;;;;;-0,42"),
        "{text}"
    );
    assert!(crate::settlements(&[], Format::Pdf, Lang::Fr).is_ok());
}
