//! Accounts in a real browser: a visitor signs up, edits the profile, switches language, logs
//! out and in, in French then English, with JavaScript off on a phone; every page visited
//! passes axe-core and fits 360 px, and the main ones are photographed at 360 and 1280 px.

use crate::{
    both,
    browser::{Browser, Lang, Options, Screen},
    helpers::{Db, TestApp},
};

both!(
    a_visitor_signs_up_edits_the_profile_and_switches_language,
    a_browser_asking_for_english_gets_english_pages,
);

async fn a_browser_asking_for_english_gets_english_pages(db: Db) {
    let app = TestApp::spawn(db).await;
    let b = Browser::start_with(
        &app,
        Options {
            screen: Screen::Phone,
            javascript: false,
            language: Lang::En,
        },
    )
    .await;
    b.goto("/").await;
    b.assert_shows("Sign up").await;
    assert_eq!(b.js("return document.documentElement.lang").await, "en");
    // The switch wins over the browser's languages, for the rest of the visit.
    b.click("Français").await;
    b.goto("/login").await;
    b.assert_shows("Se connecter").await;
    b.close().await;
    app.cleanup().await;
}

async fn a_visitor_signs_up_edits_the_profile_and_switches_language(db: Db) {
    let app = TestApp::spawn(db).await;
    let phone = Browser::phone(&app).await;

    phone.goto("/").await;
    phone.assert_shows("Vos producteurs locaux").await;
    phone.look("home-fr").await;

    phone.click("Créer un compte").await;
    assert_eq!(phone.path().await, "/signup");
    phone.look("signup-fr").await;
    // Sent empty: the form again, each error next to its field (and announced: axe checks
    // the error state too).
    phone.click("Créer mon compte").await;
    phone
        .assert_shows("Cette adresse e-mail ne semble pas valide.")
        .await;
    phone.look("signup-errors-fr").await;
    phone.fill("Nom et prénom", "Mme Jeanne Roux").await;
    phone.fill("Adresse e-mail", "jeanne@example.org").await;
    phone.fill("Téléphone", "06 12 34 56 78").await;
    phone.fill("Mot de passe", "un mot de passe long").await;
    phone.click("Créer mon compte").await;
    phone.assert_shows("Se déconnecter").await;

    phone.goto("/account").await;
    phone.look("account-fr").await;
    assert_eq!(phone.value("Nom et prénom").await, "Mme Jeanne Roux");
    phone.fill("Téléphone", "05 49 00 00 00").await;
    phone.check("English", true).await;
    phone.click("Enregistrer").await;
    // The account's language now rules its pages.
    phone.assert_shows("Your details are saved.").await;
    assert_eq!(phone.value("Phone").await, "05 49 00 00 00");

    phone.goto("/account/password").await;
    phone.look("password-en").await;
    phone.fill("Current password", "un mot de passe long").await;
    phone.fill("New password", "un autre mot de passe").await;
    phone.click("Change the password").await;
    phone.assert_shows("Your password is changed.").await;

    // Logged out, the browser's language (French) rules again, until the visitor's switch.
    phone.click("Log out").await;
    phone.assert_shows("Se connecter").await;
    phone.click("English").await;
    phone.assert_shows("Sign up").await;
    assert_eq!(phone.path().await, "/");
    phone.click("Log in").await;
    phone.look("login-en").await;
    phone.fill("Email address", "jeanne@example.org").await;
    phone.fill("Password", "un mot de passe long").await;
    phone.click("Log in").await;
    phone.assert_shows("Wrong email address or password.").await;
    phone.look("login-error-en").await;
    phone.fill("Password", "un autre mot de passe").await;
    phone.click("Log in").await;
    phone.assert_shows("Log out").await;
    phone.goto("/account").await;
    assert_eq!(phone.value("Phone").await, "05 49 00 00 00");
    phone.close().await;

    // The same pages on a desktop screen, scripts on, in both languages.
    let desktop = Browser::desktop(&app).await;
    for (lang, switch) in [("fr", None), ("en", Some("English"))] {
        desktop.goto("/").await;
        if let Some(switch) = switch {
            desktop.click(switch).await;
        }
        desktop.look(&format!("home-{lang}")).await;
        desktop.goto("/signup").await;
        desktop.look(&format!("signup-{lang}")).await;
        desktop.goto("/login").await;
        desktop.look(&format!("login-{lang}")).await;
    }
    desktop.fill("Email address", "jeanne@example.org").await;
    desktop.fill("Password", "un autre mot de passe").await;
    desktop.click("Log in").await;
    desktop.goto("/account").await;
    desktop.look("account-en").await;
    desktop.close().await;
    app.cleanup().await;
}
