//! The shop page from the offers kept rendered per cycle version (`web::pages::shop::kept`):
//! the same bytes as the full render, and what changes shows as it does on the cycle's JSON
//! (a basket, a price, a stock at once on the same server; within seconds on another).

use std::{
    io::Read,
    time::{Duration, Instant},
};

use chrono::Utc;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
    pages_support::{Page, Visit},
};

both!(
    the_kept_shop_page_is_the_full_render_byte_for_byte,
    basket_price_and_stock_changes_show_on_the_next_load
);

const DEMO: &str = include_str!("../../fixtures/demo.json");

/// The same browser (cookies, language) on another node.
fn same_browser_on(v: &Visit, node: &TestApp) -> Visit {
    Visit {
        base: node.base.clone(),
        client: v.client.clone(),
        csrf: v.csrf.clone(),
    }
}

#[track_caller]
fn same_page(kept: &Page, full: &Page) {
    assert_eq!(kept.status, full.status);
    if kept.html != full.html {
        let at = kept
            .html
            .bytes()
            .zip(full.html.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(kept.html.len().min(full.html.len()));
        let from = at.saturating_sub(200);
        panic!(
            "the kept page differs from the full render at byte {at}:\nkept: {}\nfull: {}",
            &kept.html[from..(at + 200).min(kept.html.len())],
            &full.html[from..(at + 200).min(full.html.len())]
        );
    }
}

async fn the_kept_shop_page_is_the_full_render_byte_for_byte(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = store::fixtures::load_demo(&app.store, DEMO, Utc::now())
        .await
        .expect("the demo loads");
    let full = app
        .other_node_with(web::WebOptions {
            shop_in_full: true,
            ..Default::default()
        })
        .await;
    let shop = format!("/shop/{}", demo.open_cycle_id);
    let open = app
        .get(&format!("/api/v1/cycles/{}", demo.open_cycle_id), None)
        .await
        .expect(200);
    let offers: Vec<&Value> = open["offers"].as_array().expect("offers").iter().collect();
    assert!(offers.len() > 150, "the demo's week");

    for lang in ["fr-FR", "en-GB"] {
        // Nobody logged in (after a first load, which gives the browser its CSRF cookie).
        let mut v = app.visit(lang);
        v.get(&shop).await.expect(200);
        let kept = v.get(&shop).await;
        kept.expect(200);
        same_page(&kept, &same_browser_on(&v, &full).get(&shop).await);

        // A consumer with a basket of a kilo-priced, a counted and a weighed offer.
        let mut v = app.visit(lang);
        v.log_in("marie.dupuis@example.org", store::fixtures::DEMO_PASSWORD)
            .await;
        let page = v.get(&shop).await;
        page.expect(200);
        let mut fields = Vec::new();
        for (unit, q) in [("kg", "1.5"), ("piece", "2"), ("dozen", "1")] {
            if let Some(o) = offers
                .iter()
                .find(|o| o["unit"] == unit && o["stock_left"] != "0")
            {
                fields.push((format!("q_{}", o["id"]), q.to_owned()));
            }
        }
        assert!(fields.len() >= 2, "offers to put in the basket");
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, q)| (k.as_str(), q.as_str()))
            .collect();
        v.post(&shop, &pairs).await.expect(303);
        // Twice on the kept node: rendered, then from memory.
        for _ in 0..2 {
            let kept = v.get(&shop).await;
            kept.expect(200)
                .contains(&format!("name=\"{}\"", fields[0].0))
                .contains(&format!("value=\"{}\"", fields[0].1));
            same_page(&kept, &same_browser_on(&v, &full).get(&shop).await);
        }
        // gzip, from the kept deflated chunks: the same bytes once inflated, twice (the page
        // around the offers deflated, then kept).
        for _ in 0..2 {
            let (zipped, html) = gzipped(&v, &shop).await;
            assert_eq!(html, v.get(&shop).await.html, "the gzip of the kept page");
            assert_eq!(html, same_browser_on(&v, &full).get(&shop).await.html);
            eprintln!("{lang}: {} bytes, {} gzipped", html.len(), zipped);
            // Some 17.7 KB with the chunks linked (35 KB when each was deflated on its own).
            assert!(zipped < 25_000, "{zipped} bytes gzipped");
        }
    }
    full.cleanup().await;
    app.cleanup().await;
}

/// `path` asked with `Accept-Encoding: gzip`: its size and its text once inflated.
async fn gzipped(v: &Visit, path: &str) -> (usize, String) {
    let resp = v
        .client
        .get(format!("{}{path}", v.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("GET a page");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("content-encoding").map(|h| h.as_bytes()),
        Some(&b"gzip"[..])
    );
    let vary = resp.headers().get("vary").expect("a Vary header");
    assert!(vary.to_str().unwrap().contains("accept-encoding"));
    let bytes = resp.bytes().await.expect("the body");
    let mut html = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut html)
        .expect("valid gzip, CRC and length included");
    (bytes.len(), html)
}

/// Loads `path` in `v` until `shown` holds, for a few seconds at most (a node rechecks what it
/// keeps every second); how long it took is printed.
async fn poll(v: &mut Visit, path: &str, shown: impl Fn(&str) -> bool) {
    let start = Instant::now();
    loop {
        let page = v.get(path).await;
        page.expect(200);
        if shown(&page.html) {
            eprintln!("shown after {:?}", start.elapsed());
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the change never showed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn basket_price_and_stock_changes_show_on_the_next_load(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.other_node().await;
    let [carrots, eggs] = [w.offers[0], w.offers[1]];
    let shop = format!("/shop/{}", w.cycle_id);
    let consumer = app.user(Role::Consumer, None, None).await;
    let email = app.store.actor(consumer.id).await.expect("consumer").email;
    let mut v = app.visit("fr-FR");
    v.log_in(&email, crate::helpers::PASSWORD).await;
    let carrots_input = format!(
        "name=\"q_{carrots}\" type=\"number\" min=\"0\" step=\"0.5\" inputmode=\"decimal\""
    );

    // Loaded (and kept) with an empty basket, on both nodes.
    let page = v.get(&shop).await;
    page.expect(200).contains(&format!("{carrots_input}>"));
    let mut on_other = same_browser_on(&v, &other);
    on_other
        .get(&shop)
        .await
        .expect(200)
        .contains("2,80\u{a0}€ / kg");

    // A basket change shows on the next load.
    v.post(&shop, &[(&format!("q_{carrots}"), "1,5")])
        .await
        .expect(303);
    v.get(&shop)
        .await
        .expect(200)
        .contains(&format!("{carrots_input} value=\"1.5\">"));
    v.post(&shop, &[(&format!("q_{carrots}"), "2")])
        .await
        .expect(303);
    v.get(&shop)
        .await
        .expect(200)
        .contains(&format!("{carrots_input} value=\"2\">"));

    // The producer changes a price: the next load of this server shows it; the other node
    // within seconds.
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [
            {"product_id": w.products[0], "price": "3.10", "stock": "50"},
            {"product_id": w.products[1], "stock": "20"},
            {"product_id": w.products[2], "stock": "6"}
        ]}),
    )
    .await
    .expect(200);
    let page = v.get(&shop).await;
    page.expect(200)
        .contains("3,10\u{a0}€ / kg")
        .contains(&format!("{carrots_input} value=\"2\">"));
    assert!(!page.html.contains("2,80\u{a0}€ / kg"), "the old price");
    poll(&mut on_other, &shop, |html| {
        html.contains("3,10\u{a0}€ / kg")
    })
    .await;

    // An order takes eggs: "only N left" on the very next load of this server.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 13}]}),
    )
    .await
    .expect(201);
    let page = v.get(&shop).await;
    page.expect(200)
        .contains("Plus que 7")
        .contains("href=\"/orders/");
    poll(&mut on_other, &shop, |html| html.contains("Plus que 7")).await;
    other.cleanup().await;
    app.cleanup().await;
}
