//! Weekly slot rules: a Thursday 17:30 slot stays at 17:30 in Parthenay across the change to
//! winter time; one week's slot can be moved or cancelled, and who must be told is listed.

use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(
    a_weekly_rule_keeps_local_time_across_daylight_saving,
    a_moved_slot_lists_the_consumers_to_tell
);

async fn a_weekly_rule_keeps_local_time_across_daylight_saving(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    app.post(
        &format!("/api/v1/pickup-points/{}/slot-rules", w.points[0]),
        w.coordinator.t(),
        json!({"weekday": "thu", "starts": "17:30", "ends": "19:30"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/pickup-points/{}/slot-rules", w.points[0]),
        w.coordinator.t(),
        json!({"weekday": "thu", "starts": "19:30", "ends": "17:30"}),
    )
    .await
    .expect_error(422, "invalid_slot");
    app.post(
        &format!("/api/v1/pickup-points/{}/slot-rules", w.points[0]),
        w.producer.t(),
        json!({"weekday": "thu", "starts": "17:30", "ends": "19:30"}),
    )
    .await
    .expect_error(403, "forbidden");
    // Summer time (CEST, UTC+2) the week before 25 October 2026, winter time (CET, UTC+1) after.
    for (closes, expected_start) in [
        ("2026-10-20T18:00:00Z", "2026-10-22T15:30:00Z"),
        ("2026-10-27T18:00:00Z", "2026-10-29T16:30:00Z"),
    ] {
        let cycle = app
            .post(
                &format!("/api/v1/markets/{}/cycles", w.market_id),
                w.coordinator.t(),
                json!({"name": "Semaine", "opens_at": "2026-10-14T18:00:00Z", "closes_at": closes}),
            )
            .await
            .expect(201);
        let slots = app
            .post(
                &format!("/api/v1/cycles/{}/slots/generate", cycle["id"]),
                w.coordinator.t(),
                json!({}),
            )
            .await
            .expect(200);
        let slots = slots.as_array().unwrap();
        assert_eq!(slots.len(), 1, "{slots:?}");
        let start =
            chrono::DateTime::parse_from_rfc3339(slots[0]["starts_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            start,
            chrono::DateTime::parse_from_rfc3339(expected_start).unwrap()
        );
        let end =
            chrono::DateTime::parse_from_rfc3339(slots[0]["ends_at"].as_str().unwrap()).unwrap();
        assert_eq!(end - start, chrono::Duration::hours(2));
        // Generating twice adds nothing.
        let again = app
            .post(
                &format!("/api/v1/cycles/{}/slots/generate", cycle["id"]),
                w.coordinator.t(),
                json!({}),
            )
            .await
            .expect(200);
        assert_eq!(again.as_array().unwrap().len(), 1);
    }
    app.cleanup().await;
}

async fn a_moved_slot_lists_the_consumers_to_tell(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let lea = app
        .named_user("Léa Martin", Role::Consumer, None, None)
        .await;
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            lea.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
        )
        .await
        .expect(201);
    let slot = format!("/api/v1/slots/{}", w.slots[0]);
    let changed = app
        .call(
            reqwest::Method::PATCH,
            &slot,
            w.coordinator.t(),
            Some(json!({"cancelled": true, "note": "Jour férié : retrait vendredi"})),
        )
        .await
        .expect(200);
    assert_eq!(changed["slot"]["cancelled"], true);
    assert_eq!(changed["consumers"][0]["name"], "Léa Martin");
    assert_eq!(changed["consumers"][0]["order_id"], order["id"]);
    // A cancelled slot takes no new basket; the consumer can move hers to the other slot.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        lea.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect_error(409, "slot_cancelled");
    app.put(
        &format!("/api/v1/orders/{}", order["id"]),
        lea.t(),
        json!({"slot_id": w.slots[1], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect(200);
    app.call(
        reqwest::Method::PATCH,
        &slot,
        lea.t(),
        Some(json!({"cancelled": false})),
    )
    .await
    .expect_error(403, "forbidden");
    app.get(&format!("/api/v1/slots/{}/consumers", w.slots[1]), lea.t())
        .await
        .expect_error(403, "forbidden");
    let at_second = app
        .get(
            &format!("/api/v1/slots/{}/consumers", w.slots[1]),
            w.coordinator.t(),
        )
        .await
        .expect(200);
    assert_eq!(at_second.as_array().unwrap().len(), 1);
    app.cleanup().await;
}
