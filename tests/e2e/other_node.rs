//! The order path keeps what a cycle sells in memory (see `store::sale_cache`). A change made
//! behind this server's back (by another Halle node, or by hand in the database) must still be
//! honoured by the very next basket: a new price, a cancelled slot, a closed cycle. A change
//! made through this server is seen at once too.

use sea_orm::ConnectionTrait;
use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(changes_made_elsewhere_reach_the_next_basket);

async fn changes_made_elsewhere_reach_the_next_basket(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let basket =
        |slot: i64| json!({"slot_id": slot, "lines": [{"offer_id": w.offers[1], "quantity": 1}]});
    let sql = |s: String| {
        let store = app.store.clone();
        async move { store.db().execute_unprepared(&s).await.unwrap() }
    };

    // A first basket: the cycle is now in the server's memory.
    let first = app
        .post(&orders, consumer.t(), basket(w.slots[0]))
        .await
        .expect(201);
    assert_eq!(first["lines"][0]["unit_price"], "4.20");

    // Another node raises the eggs to 4.50: the next basket pays 4.50, and so does its line.
    sql(format!(
        "UPDATE offers SET price_cents = 450 WHERE id = {}",
        w.offers[1]
    ))
    .await;
    let second = app
        .post(&orders, consumer.t(), basket(w.slots[0]))
        .await
        .expect(201);
    assert_eq!(second["lines"][0]["unit_price"], "4.50", "{second}");
    assert_eq!(second["total"], "4.50");
    let stored = app
        .get(&format!("/api/v1/orders/{}", second["id"]), consumer.t())
        .await
        .expect(200);
    assert_eq!(stored["lines"][0]["unit_price"], "4.50");

    // Through this server, the producer lowers it to 4.00: seen at once.
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [
            {"product_id": w.products[0], "stock": "50"},
            {"product_id": w.products[1], "price": "4.00", "stock": "20"},
            {"product_id": w.products[2], "stock": "6"}
        ]}),
    )
    .await
    .expect(200);
    let third = app
        .post(&orders, consumer.t(), basket(w.slots[0]))
        .await
        .expect(201);
    assert_eq!(third["lines"][0]["unit_price"], "4.00", "{third}");

    // Another node changes the VAT of the eggs: the line carries the new rate.
    sql(format!(
        "UPDATE products SET vat_basis_points = 2000 WHERE id = {}",
        w.products[1]
    ))
    .await;
    let fourth = app
        .post(&orders, consumer.t(), basket(w.slots[0]))
        .await
        .expect(201);
    assert_eq!(fourth["lines"][0]["vat_rate"], "20", "{fourth}");

    // Another node cancels the first slot: no basket for it any more, the other slot still works.
    sql(format!(
        "UPDATE distribution_slots SET cancelled = TRUE WHERE id = {}",
        w.slots[0]
    ))
    .await;
    app.post(&orders, consumer.t(), basket(w.slots[0]))
        .await
        .expect_error(409, "slot_cancelled");
    app.post(&orders, consumer.t(), basket(w.slots[1]))
        .await
        .expect(201);

    // Another node closes the cycle: the next basket is refused, none is written.
    sql(format!(
        "UPDATE order_cycles SET state = 'closed' WHERE id = {}",
        w.cycle_id
    ))
    .await;
    app.post(&orders, consumer.t(), basket(w.slots[1]))
        .await
        .expect_error(409, "cycle_closed");
    let mine = app.get("/api/v1/me/orders", consumer.t()).await.expect(200);
    assert_eq!(mine.as_array().map(Vec::len), Some(5), "{mine}");
    // Stock: 20 dozen, 5 sold.
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "15");
    app.cleanup().await;
}
