//! The directory kept in memory (`store::directory::index`): its answers are the database's
//! (the SQL bounding box and the brute-force scan), on the demo and on a generated sample, and
//! a change shows in the very next search of the node that made it, and within a second or two
//! on another node sharing the database (or after a write behind every node's back).

use std::time::{Duration, Instant};

use chrono::Utc;
use distribution::directory::{Label, Point};
use domain::Category;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use store::{
    DirectorySearch, EntryInput, Role, SearchResults, Store,
    entities::{directory_entry, distribution_slot, market_producer, pickup_point, producer},
};

use crate::{
    both,
    helpers::{Db, TestApp, iso},
};

const DEMO: &str = include_str!("../../fixtures/demo.json");

both!(
    the_index_answers_as_the_database_does,
    a_change_shows_in_the_next_search_here_and_soon_on_another_node,
);

#[path = "../support/xorshift.rs"]
mod xorshift;

use xorshift::Rng;

/// A place around Parthenay and Niort (46.2-47.0 N, 0.8 W-0.2 E).
fn place(rng: &mut Rng) -> Point {
    Point {
        lat: 46.2 + 0.8 * rng.unit(),
        lon: -0.8 + 1.0 * rng.unit(),
    }
}

fn around(center: Point, radius_km: u32) -> DirectorySearch {
    DirectorySearch {
        center,
        radius_km,
        categories: Vec::new(),
        labels: Vec::new(),
        collect_near: false,
        page: 0,
    }
}

/// Everything a page says (ids, names, distances, next slots, totals, the next page).
fn said(r: &SearchResults) -> String {
    format!("{r:?}")
}

/// The three ways of answering agree on every query.
async fn same_answers(store: &Store, queries: &[DirectorySearch]) -> usize {
    let mut found = 0;
    for q in queries {
        let memory = store.search_directory(q).await.expect("from memory");
        let sql = store.search_directory_sql(q).await.expect("by the box");
        let scan = store.search_directory_scan(q).await.expect("by the scan");
        assert_eq!(said(&memory), said(&sql), "memory and SQL differ for {q:?}");
        assert_eq!(
            said(&memory),
            said(&scan),
            "memory and scan differ for {q:?}"
        );
        found += memory.producers_total + memory.points_total;
    }
    found
}

/// Producers (some unpublished, some hidden, some in no market), pickup points and slots (some
/// past, some cancelled, some beyond two weeks) written straight into the database.
async fn generate(store: &Store, markets: [i64; 2], cycle_id: i64) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let now = Utc::now();
    let producers: Vec<producer::ActiveModel> = (0..300)
        .map(|i| {
            let at = place(&mut rng);
            producer::ActiveModel {
                name: Set(format!("Ferme générée {i}")),
                farmer_name: Set("Paysan".into()),
                description: Set(String::new()),
                address: Set("Le bourg".into()),
                postal_code: Set("79200".into()),
                city: Set(format!("Village {i}")),
                latitude: Set(at.lat),
                longitude: Set(at.lon),
                created_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    producer::Entity::insert_many(producers)
        .exec_without_returning(store.db())
        .await
        .unwrap();
    let ids: Vec<i64> = producer::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.name.starts_with("Ferme générée"))
        .map(|p| p.id)
        .collect();
    let mut entries = Vec::new();
    let mut links = Vec::new();
    for &id in &ids {
        let mut categories: Vec<&str> = (0..1 + rng.below(2))
            .map(|_| Category::ALL[rng.below(Category::ALL.len())].slug())
            .collect();
        categories.sort_unstable();
        categories.dedup();
        let labels: Vec<&str> = match rng.below(4) {
            0 => vec![Label::Organic.slug()],
            1 => vec![Label::Organic.slug(), Label::Hve.slug()],
            _ => Vec::new(),
        };
        entries.push(directory_entry::ActiveModel {
            producer_id: Set(id),
            summary: Set("Une ferme".into()),
            categories: Set(distribution::directory::wrap_slugs(categories)),
            labels: Set(distribution::directory::wrap_slugs(labels)),
            contact_note: Set(String::new()),
            farm_gate: Set(rng.below(2) == 0),
            opening_hours: Set(String::new()),
            published: Set(rng.below(10) != 0),
            first_published_at: Set(Some(now)),
            hidden: Set(rng.below(20) == 0),
            updated_at: Set(now),
            updated_by: Set(None),
        });
        match rng.below(3) {
            0 => {}
            k => links.push(market_producer::ActiveModel {
                market_id: Set(markets[k - 1]),
                producer_id: Set(id),
            }),
        }
    }
    directory_entry::Entity::insert_many(entries)
        .exec_without_returning(store.db())
        .await
        .unwrap();
    market_producer::Entity::insert_many(links)
        .exec_without_returning(store.db())
        .await
        .unwrap();
    let points: Vec<pickup_point::ActiveModel> = (0..60)
        .map(|i| {
            let at = place(&mut rng);
            pickup_point::ActiveModel {
                market_id: Set(markets[i % 2]),
                name: Set(format!("Point généré {i}")),
                address: Set("Place de l'église".into()),
                postal_code: Set("79000".into()),
                city: Set(format!("Bourg {i}")),
                latitude: Set(at.lat),
                longitude: Set(at.lon),
                host_kind: Set("town_hall".into()),
                host_name: Set("Mairie".into()),
                access_notes: Set(String::new()),
                created_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    pickup_point::Entity::insert_many(points)
        .exec_without_returning(store.db())
        .await
        .unwrap();
    let point_ids: Vec<i64> = pickup_point::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.name.starts_with("Point généré"))
        .map(|p| p.id)
        .collect();
    let slots: Vec<distribution_slot::ActiveModel> = point_ids
        .iter()
        .flat_map(|&id| {
            // From two days ago to a month ahead, at whole hours (no slot begins while the
            // three answers are computed).
            let starts: Vec<i64> = (0..rng.below(3))
                .map(|_| rng.below(32 * 24) as i64 - 48)
                .collect();
            let cancelled = rng.below(6) == 0;
            starts.into_iter().map(move |h| {
                let at = now + chrono::Duration::hours(h) + chrono::Duration::minutes(30);
                distribution_slot::ActiveModel {
                    cycle_id: Set(cycle_id),
                    pickup_point_id: Set(id),
                    starts_at: Set(at),
                    ends_at: Set(at + chrono::Duration::hours(2)),
                    cancelled: Set(cancelled),
                    ..Default::default()
                }
            })
        })
        .collect();
    distribution_slot::Entity::insert_many(slots)
        .exec_without_returning(store.db())
        .await
        .unwrap();
}

fn queries(n: usize) -> Vec<DirectorySearch> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|_| DirectorySearch {
            center: place(&mut rng),
            radius_km: [5, 10, 20, 30, 50, 100][rng.below(6)],
            categories: match rng.below(3) {
                0 => vec![Category::ALL[rng.below(Category::ALL.len())]],
                1 => vec![
                    Category::ALL[rng.below(Category::ALL.len())],
                    Category::ALL[rng.below(Category::ALL.len())],
                ],
                _ => Vec::new(),
            },
            labels: if rng.below(4) == 0 {
                vec![Label::Organic]
            } else {
                Vec::new()
            },
            collect_near: rng.below(3) == 0,
            page: u32::from(rng.below(4) == 0),
        })
        .collect()
}

async fn the_index_answers_as_the_database_does(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = store::fixtures::load_demo(&app.store, DEMO, Utc::now())
        .await
        .expect("the demo loads");
    // The demo's own directory, around its town and its neighbours.
    let demo_queries: Vec<DirectorySearch> = queries(40)
        .into_iter()
        .map(|q| DirectorySearch { page: 0, ..q })
        .collect();
    let found = same_answers(&app.store, &demo_queries).await;
    assert!(found > 0, "the demo's directory answers something");

    // Then a generated sample beside it.
    let w = app.world().await;
    generate(&app.store, [demo.market_id, w.market_id], w.cycle_id).await;
    // Written behind the store's back: give the index its second to see it.
    tokio::time::sleep(store::DIRECTORY_RECHECK + Duration::from_millis(200)).await;
    let found = same_answers(&app.store, &queries(150)).await;
    assert!(found > 300, "the sample answers plenty: {found}");
    app.cleanup().await;
}

/// Searches `store` until `ok` holds, for three seconds at most; how long it took.
async fn until(
    store: &Store,
    s: &DirectorySearch,
    ok: impl Fn(&SearchResults) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let r = store.search_directory(s).await.expect("a search");
        if ok(&r) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "not seen after 3 s: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_change_shows_in_the_next_search_here_and_soon_on_another_node(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.other_node().await;
    let admin = app.user(Role::Admin, None, None).await;
    let admin = app.store.actor(admin.id).await.expect("the admin");
    let parthenay = around(
        Point {
            lat: 46.64,
            lon: -0.24,
        },
        30,
    );
    let producers = |r: &SearchResults| r.producers.iter().map(|p| p.id).collect::<Vec<_>>();
    let here = |s: &DirectorySearch| {
        let store = app.store.clone();
        let s = s.clone();
        async move { store.search_directory(&s).await.expect("a search") }
    };
    // Both nodes hold the directory: the world's producer has no entry yet.
    assert!(producers(&here(&parthenay).await).is_empty());
    assert!(producers(&other.store.search_directory(&parthenay).await.unwrap()).is_empty());

    // Published here: in this node's very next search, and soon in the other's.
    app.store
        .save_directory_entry(
            &admin,
            w.producer_id,
            EntryInput {
                summary: "Légumes".into(),
                categories: vec![Category::Vegetables],
                published: true,
                ..Default::default()
            },
        )
        .await
        .expect("published");
    assert_eq!(producers(&here(&parthenay).await), [w.producer_id]);
    until(&other.store, &parthenay, |r| {
        producers(r) == [w.producer_id]
    })
    .await;

    // Hidden by an admin: gone from the next search here, soon there.
    app.store
        .hide_directory_entry(&admin, w.producer_id, true)
        .await
        .expect("hidden");
    assert!(producers(&here(&parthenay).await).is_empty());
    until(&other.store, &parthenay, |r| producers(r).is_empty()).await;

    // A pickup point moved behind both nodes' backs (another node's write, by hand): both see
    // it within a second or two.
    let points = |r: &SearchResults| r.points.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(points(&here(&parthenay).await).len(), 2);
    other
        .store
        .db()
        .execute_unprepared(&format!(
            "UPDATE pickup_points SET latitude = 44.84, longitude = -0.58 WHERE id = {}",
            w.points[1]
        ))
        .await
        .unwrap();
    let bordeaux = around(
        Point {
            lat: 44.84,
            lon: -0.58,
        },
        5,
    );
    for node in [&app.store, &other.store] {
        until(node, &parthenay, |r| points(r) == [w.points[0]]).await;
        until(node, &bordeaux, |r| points(r) == [w.points[1]]).await;
    }

    // A new point in Niort, then a slot there: "collect near here" finds it on the next
    // search here, soon on the other node.
    let point = app
        .post(
            &format!("/api/v1/markets/{}/pickup-points", w.market_id),
            w.coordinator.t(),
            json!({"name": "Halles de Niort", "address": "Place des Halles", "postal_code": "79000", "city": "Niort",
                   "latitude": 46.3236, "longitude": -0.4588, "host_kind": "shop", "host_name": "Halles"}),
        )
        .await
        .expect(201);
    let point_id = point["id"].as_i64().expect("point id");
    let niort = DirectorySearch {
        collect_near: true,
        ..around(
            Point {
                lat: 46.3236,
                lon: -0.4588,
            },
            5,
        )
    };
    let plain = DirectorySearch {
        collect_near: false,
        ..niort.clone()
    };
    assert_eq!(points(&here(&plain).await), [point_id], "the new point");
    assert!(points(&here(&niort).await).is_empty(), "no slot yet");
    // After the cycle closes (in three days), within the two weeks.
    let starts = Utc::now() + chrono::Duration::days(4) + chrono::Duration::hours(3);
    app.post(
        &format!("/api/v1/cycles/{}/slots", w.cycle_id),
        w.coordinator.t(),
        json!({"pickup_point_id": point_id, "starts_at": iso(starts), "ends_at": iso(starts + chrono::Duration::hours(2))}),
    )
    .await
    .expect(201);
    let found = here(&niort).await;
    assert_eq!(points(&found), [point_id]);
    assert_eq!(
        found.points[0].next_slot.map(|(s, _)| s.timestamp()),
        Some(starts.timestamp())
    );
    until(&other.store, &niort, |r| points(r) == [point_id]).await;
    app.cleanup().await;
}
