//! Pages: sessions and accounts (sign-up, login, logout, profile, password, language), CSRF.

use store::Role;

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp},
};

async fn email_of(app: &TestApp, id: i64) -> String {
    app.store.actor(id).await.expect("the account").email
}

async fn a_visitor_signs_up_logs_out_and_in_again(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut v = app.visit("fr-FR,fr;q=0.9");
    v.get("/signup")
        .await
        .expect(200)
        .contains("Créer un compte");
    let page = v
        .post(
            "/signup",
            &[
                ("name", "Mme Jeanne Roux"),
                ("email", "jeanne@example.org"),
                ("password", "un mot de passe long"),
                ("phone", "06 12 34 56 78"),
            ],
        )
        .await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.html);
    let cookie = page
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("halle_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(cookie.contains("Max-Age="), "{cookie}");
    v.get("/account")
        .await
        .expect(200)
        .contains("Mme Jeanne Roux")
        .contains("06 12 34 56 78");

    v.post("/logout", &[]).await.expect(303);
    let page = v.get("/account").await;
    page.expect(303);
    assert!(
        page.location().starts_with("/login?next="),
        "{}",
        page.location()
    );

    v.log_in("jeanne@example.org", "un mot de passe long").await;
    v.get("/account")
        .await
        .expect(200)
        .contains("Mme Jeanne Roux");
    app.cleanup().await;
}

async fn a_failed_login_does_not_tell_whether_the_email_exists(db: Db) {
    let app = TestApp::spawn(db).await;
    let user = app.user(Role::Consumer, None, None).await;
    let email = email_of(&app, user.id).await;
    let mut v = app.visit("en");
    v.get("/login").await.expect(200);
    let wrong_password = v
        .post(
            "/login",
            &[("email", &email), ("password", "not the password")],
        )
        .await;
    v.get("/login").await;
    let unknown = v
        .post(
            "/login",
            &[
                ("email", "nobody@example.org"),
                ("password", "not the password"),
            ],
        )
        .await;
    wrong_password
        .expect(401)
        .contains("Wrong email address or password.");
    unknown
        .expect(401)
        .contains("Wrong email address or password.");
    // The email typed stays in the form, the password does not.
    assert!(wrong_password.html.contains(&format!("value=\"{email}\"")));
    assert!(!wrong_password.html.contains("not the password"));
    app.cleanup().await;
}

async fn a_form_without_its_csrf_token_changes_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut v = app.visit("fr");
    v.get("/signup").await.expect(200);
    let fields = [
        ("name", "Paul"),
        ("email", "paul@example.org"),
        ("password", "un mot de passe long"),
    ];
    v.post_raw("/signup", &fields)
        .await
        .expect(403)
        .contains("expiré");
    let mut with_other = fields.to_vec();
    with_other.push(("csrf", "0123456789abcdef0123456789abcdef0123456789abcdef"));
    v.post_raw("/signup", &with_other).await.expect(403);
    // Nothing was created: the email is still free.
    v.get("/signup").await;
    v.post("/signup", &fields).await.expect(303);

    // Logged in, the token is the session's: another session's does not do.
    let page = v.get("/account").await;
    page.expect(200);
    let mine = v.csrf.clone();
    let mut other = app.visit("fr");
    other.get("/signup").await;
    let theirs = other.csrf.clone();
    assert_ne!(mine, theirs);
    v.post_raw(
        "/account",
        &[("csrf", &theirs), ("name", "Pirate"), ("language", "fr")],
    )
    .await
    .expect(403);
    v.post_raw("/logout", &[]).await.expect(403);
    v.get("/account").await.expect(200).contains("Paul");
    app.cleanup().await;
}

async fn a_session_made_on_one_node_works_on_another_and_ends_everywhere(db: Db) {
    let app = TestApp::spawn(db).await;
    let user = app.user(Role::Consumer, None, None).await;
    let email = email_of(&app, user.id).await;
    let other = app.other_node().await;
    let mut v = app.visit("fr");
    let login = v.log_in(&email, PASSWORD).await;
    let session = login
        .cookies()
        .into_iter()
        .find_map(|c| c.split(';').next().map(str::to_owned))
        .expect("a session cookie");
    // The same browser (same cookie) on the other node.
    let mut there = other.visit_with_cookie("fr", &session);
    there.get("/account").await.expect(200);
    v.get("/account").await.expect(200);
    v.post("/logout", &[]).await.expect(303);
    // Writes check the database: the other node refuses the ended session at once.
    let page = there
        .post("/account", &[("name", "Encore moi"), ("language", "fr")])
        .await;
    assert_ne!(page.status.as_u16(), 303, "{}", page.html);
    assert_eq!(
        app.store.actor(user.id).await.expect("the account").name,
        "Test consumer"
    );
    other.cleanup().await;
    app.cleanup().await;
}

async fn a_password_change_ends_the_other_sessions(db: Db) {
    let app = TestApp::spawn(db).await;
    let user = app.user(Role::Consumer, None, None).await;
    let email = email_of(&app, user.id).await;
    let mut phone = app.visit("fr");
    phone.log_in(&email, PASSWORD).await;
    let mut laptop = app.visit("fr");
    laptop.log_in(&email, PASSWORD).await;

    laptop.get("/account/password").await.expect(200);
    laptop
        .post(
            "/account/password",
            &[
                ("current_password", "wrong one!!"),
                ("new_password", "a new long password"),
            ],
        )
        .await
        .expect(422)
        .contains("Le mot de passe actuel n&#x27;est pas le bon.");
    laptop
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", "court")],
        )
        .await
        .expect(422)
        .contains("aria-invalid=\"true\"");
    let page = laptop
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new long password"),
            ],
        )
        .await;
    page.expect(303);
    laptop
        .get("/account?done=password")
        .await
        .expect(200)
        .contains("mot de passe est changé");
    // The phone's session ended; its next page asks to log in.
    phone.get("/account").await.expect(303);
    app.cleanup().await;
}

async fn pages_speak_the_visitors_language_and_remember_the_accounts(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut en = app.visit("en-GB,en;q=0.9");
    en.get("/login")
        .await
        .expect(200)
        .contains("<html lang=\"en\">")
        .contains("Log in");
    let mut fr = app.visit("de-DE");
    fr.get("/login")
        .await
        .expect(200)
        .contains("<html lang=\"fr\">")
        .contains("Se connecter");
    // The switch: a cookie for a visitor.
    fr.post("/language", &[("lang", "en"), ("next", "/login")])
        .await
        .expect(303);
    fr.get("/login").await.contains("<html lang=\"en\">");
    // An open redirect is not possible through `next`.
    let page = fr
        .post("/language", &[("lang", "fr"), ("next", "//evil.example/")])
        .await;
    assert_eq!(page.location(), "/");

    // With an account, the language is the account's, whatever the browser says.
    let user = app.user(Role::Consumer, None, None).await;
    let email = email_of(&app, user.id).await;
    let mut v = app.visit("fr");
    v.log_in(&email, PASSWORD).await;
    v.get("/account").await;
    v.post("/language", &[("lang", "en"), ("next", "/account")])
        .await
        .expect(303);
    let mut elsewhere = app.visit("fr");
    elsewhere.log_in(&email, PASSWORD).await;
    elsewhere
        .get("/account")
        .await
        .contains("<html lang=\"en\">")
        .contains("My account");
    app.cleanup().await;
}

async fn what_the_routes_refuse_is_a_page_for_people_and_json_for_the_api(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut v = app.visit("en");
    let page = v.get("/no/such/page").await;
    page.expect(404)
        .contains("<html lang=\"en\">")
        .contains("does not exist");
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    v.get("/shop/not-a-number")
        .await
        .expect(400)
        .contains("This address is not valid.");
    let api = v.get("/api/v1/no-such-thing").await;
    api.expect(404);
    assert!(
        api.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    app.cleanup().await;
}

both!(
    what_the_routes_refuse_is_a_page_for_people_and_json_for_the_api,
    a_visitor_signs_up_logs_out_and_in_again,
    a_failed_login_does_not_tell_whether_the_email_exists,
    a_form_without_its_csrf_token_changes_nothing,
    a_session_made_on_one_node_works_on_another_and_ends_everywhere,
    a_password_change_ends_the_other_sessions,
    pages_speak_the_visitors_language_and_remember_the_accounts,
);
