//! Bearer tokens end when asked: logout, "log out everywhere", a password change. It takes effect
//! at once on every node sharing the database, whatever each node keeps in memory; expired
//! tokens are purged.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp},
};

both!(
    logout_on_one_node_is_refused_at_once_on_the_other,
    a_basket_with_a_token_logged_out_on_another_node_is_refused_and_not_written,
    revoking_all_tokens_and_changing_the_password,
    expired_tokens_are_purged,
);

async fn logout_on_one_node_is_refused_at_once_on_the_other(db: Db) {
    let app = TestApp::spawn(db).await;
    let second = app.other_node().await;
    let alice = app.user(Role::Consumer, None, None).await;
    // Both nodes have seen (and cached) the token.
    app.get("/api/v1/me", alice.t()).await.expect(200);
    second.get("/api/v1/me", alice.t()).await.expect(200);
    // Logged out on the first node: the second refuses it at the very next request.
    app.delete("/api/v1/auth/token", alice.t())
        .await
        .expect(204);
    second
        .get("/api/v1/me", alice.t())
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/v1/me", alice.t())
        .await
        .expect_error(401, "unauthenticated");
    // Logging out twice is refused too: the token is gone.
    second
        .delete("/api/v1/auth/token", alice.t())
        .await
        .expect_error(401, "unauthenticated");
    // Other tokens of the account are untouched by a logout.
    let bob = app.user(Role::Consumer, None, None).await;
    let me = app.get("/api/v1/me", bob.t()).await.expect(200);
    let email = me["email"].as_str().unwrap().to_owned();
    let phone = app.login(&email, PASSWORD).await;
    second.get("/api/v1/me", Some(&phone)).await.expect(200);
    second
        .delete("/api/v1/auth/token", bob.t())
        .await
        .expect(204);
    app.get("/api/v1/me", Some(&phone)).await.expect(200);
    app.get("/api/v1/me", bob.t())
        .await
        .expect_error(401, "unauthenticated");
    // A token deleted in the database by hand is refused at once as well.
    second.get("/api/v1/me", Some(&phone)).await.expect(200);
    app.store
        .db()
        .execute_unprepared("DELETE FROM api_tokens")
        .await
        .unwrap();
    second
        .get("/api/v1/me", Some(&phone))
        .await
        .expect_error(401, "unauthenticated");
    app.cleanup().await;
}

/// Placing a basket takes the token from the node's memory and leaves its check to the order
/// writer, in the basket's own transaction: a token logged out elsewhere must still stop it.
async fn a_basket_with_a_token_logged_out_on_another_node_is_refused_and_not_written(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let second = app.other_node().await;
    let carol = app.user(Role::Consumer, None, None).await;
    let basket =
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]});
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    // The second node knows the token now (it placed a basket with it).
    second
        .post(&orders, carol.t(), basket.clone())
        .await
        .expect(201);
    app.delete("/api/v1/auth/token", carol.t())
        .await
        .expect(204);
    second
        .post(&orders, carol.t(), basket.clone())
        .await
        .expect_error(401, "unauthenticated");
    // Refused with a key too (the answer to a retry is not given to a stranger).
    let keyed = second
        .client
        .post(format!("{}{orders}", second.base))
        .bearer_auth(&carol.token)
        .header("Idempotency-Key", "after-logout")
        .json(&basket)
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status().as_u16(), 401);
    // Only the first basket was written, and only its stock is gone.
    let placed = app
        .store
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            app.store.db().get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM orders WHERE account_id = {}",
                carol.id
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(placed.try_get::<i64>("", "n").unwrap(), 1);
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "19");
    app.cleanup().await;
}

async fn revoking_all_tokens_and_changing_the_password(db: Db) {
    let app = TestApp::spawn(db).await;
    let second = app.other_node().await;
    let alice = app.user(Role::Consumer, None, None).await;
    let email = app.get("/api/v1/me", alice.t()).await.expect(200)["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let laptop = app.login(&email, PASSWORD).await;
    second.get("/api/v1/me", Some(&laptop)).await.expect(200);
    // Log out everywhere, from one device: every token of the account stops working.
    app.delete("/api/v1/me/tokens", alice.t()).await.expect(204);
    for token in [alice.token.as_str(), laptop.as_str()] {
        second
            .get("/api/v1/me", Some(token))
            .await
            .expect_error(401, "unauthenticated");
    }
    // A password change asks for the current password and ends every session.
    let phone = app.login(&email, PASSWORD).await;
    let tablet = app.login(&email, PASSWORD).await;
    second.get("/api/v1/me", Some(&tablet)).await.expect(200);
    app.put(
        "/api/v1/me/password",
        Some(&phone),
        json!({"old_password": "not it at all", "new_password": "a much longer one"}),
    )
    .await
    .expect_error(403, "forbidden");
    app.put(
        "/api/v1/me/password",
        Some(&phone),
        json!({"old_password": PASSWORD, "new_password": "short"}),
    )
    .await
    .expect_error(422, "weak_password");
    second.get("/api/v1/me", Some(&tablet)).await.expect(200);
    app.put(
        "/api/v1/me/password",
        Some(&phone),
        json!({"old_password": PASSWORD, "new_password": "a much longer one"}),
    )
    .await
    .expect(204);
    for token in [&phone, &tablet] {
        second
            .get("/api/v1/me", Some(token))
            .await
            .expect_error(401, "unauthenticated");
    }
    app.post(
        "/api/v1/auth/token",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await
    .expect_error(401, "unauthenticated");
    let fresh = app.login(&email, "a much longer one").await;
    second.get("/api/v1/me", Some(&fresh)).await.expect(200);
    // Without a token, none of these.
    app.delete("/api/v1/me/tokens", None)
        .await
        .expect_error(401, "unauthenticated");
    app.delete("/api/v1/auth/token", None)
        .await
        .expect_error(401, "unauthenticated");
    app.cleanup().await;
}

async fn expired_tokens_are_purged(db: Db) {
    use store::entities::api_token;
    let app = TestApp::spawn(db).await;
    let alice = app.user(Role::Consumer, None, None).await;
    let bob = app.user(Role::Consumer, None, None).await;
    let email = app.get("/api/v1/me", alice.t()).await.expect(200)["email"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/api/v1/me", bob.t()).await.expect(200);
    let tokens = || async {
        api_token::Entity::find()
            .count(app.store.db())
            .await
            .unwrap()
    };
    assert_eq!(tokens().await, 2);
    // Both tokens expired yesterday.
    let yesterday = Utc::now() - Duration::days(1);
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::ExpiresAt,
            sea_orm::sea_query::Expr::val(yesterday),
        )
        .exec(app.store.db())
        .await
        .unwrap();
    // Alice's, shown again, is refused and deleted at once, even though it was cached.
    app.get("/api/v1/me", alice.t())
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(tokens().await, 1);
    // Bob's is never shown again: the next login on a node that has not purged in the last
    // minute (a fresh one here) deletes it.
    let second = app.other_node().await;
    let fresh = second.login(&email, PASSWORD).await;
    assert_eq!(tokens().await, 1, "the expired token is still stored");
    second.get("/api/v1/me", Some(&fresh)).await.expect(200);
    app.get("/api/v1/me", bob.t())
        .await
        .expect_error(401, "unauthenticated");
    app.cleanup().await;
}
