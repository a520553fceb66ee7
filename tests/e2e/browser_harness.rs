//! The browser harness checks what it is meant to: axe-core finds what a person with a screen
//! reader would stumble on, a page too wide for a phone is caught, forms are filled and
//! submitted, and a browser without JavaScript runs no script. Pages made on the spot
//! (`data:` URLs) hold the faults on purpose.

use crate::browser::{Browser, Lang, Options, Screen};

/// A `data:` URL for an HTML page in French with `body` as its body.
fn page(title: &str, body: &str) -> String {
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    let mut url = String::from("data:text/html;charset=utf-8,");
    for byte in html.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_and_the_phone_width_catch_faults_and_pass_a_clean_page() {
    let browser = Browser::launch("", Options::default()).await;

    browser
        .goto_url(&page(
            "Faute",
            "<form><input name=\"q\"></form>\
             <p style=\"color:#bbb;background:#fff\">Gris sur blanc</p>\
             <div style=\"width:600px\">Trop large</div>",
        ))
        .await;
    let violations = browser.axe_violations("a faulty page").await.join("\n");
    assert!(
        violations.contains("label"),
        "axe missed the unlabelled field:\n{violations}"
    );
    assert!(
        violations.contains("color-contrast"),
        "axe missed grey on white:\n{violations}"
    );
    let overflow = browser.horizontal_overflow().await;
    assert!(
        overflow.is_some(),
        "a 600 px block fits a 360 px phone? {:?}",
        browser.widths().await
    );

    browser
        .goto_url(&page(
            "Propre",
            "<form><label for=\"q\">Chercher</label><input id=\"q\" name=\"q\"></form>\
             <p>Noir sur blanc</p>",
        ))
        .await;
    browser.look("harness-clean").await;
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/screenshots/harness-clean-360.png");
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert_eq!(&png[1..4], b"PNG", "{} is no PNG", shot.display());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_are_found_by_label_or_name_and_buttons_by_text() {
    let browser = Browser::launch(
        "",
        Options {
            screen: Screen::Desktop,
            javascript: true,
            language: Lang::Fr,
        },
    )
    .await;
    browser
        .goto_url(&page(
            "Formulaire",
            "<form onsubmit=\"event.preventDefault(); document.getElementById('out').textContent = \
               [this.nom.value, this.tel.value, this.jour.value, this.ok.checked].join('|')\">\
             <label for=\"nom\">Nom d'usage</label><input id=\"nom\" name=\"nom\" value=\"x\">\
             <label>Téléphone <input name=\"tel\"></label>\
             <label for=\"jour\">Jour</label><select id=\"jour\" name=\"jour\">\
               <option value=\"1\">Lundi</option><option value=\"2\">Mardi</option></select>\
             <input type=\"checkbox\" id=\"ok\" name=\"ok\"><label for=\"ok\">D'accord</label>\
             <button>Envoyer</button></form><p id=\"out\"></p>",
        ))
        .await;
    assert_eq!(browser.widths().await.1, 1280);
    browser.fill("Nom d'usage", "Mme Pérez").await;
    browser.fill("Téléphone", "06 12").await;
    browser.select("jour", "Mardi").await;
    browser.check("D'accord", true).await;
    browser.press("Envoyer").await;
    browser.assert_shows("Mme Pérez|06 12|2|true").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_without_javascript_runs_no_script() {
    let browser = Browser::launch(
        "",
        Options {
            screen: Screen::Phone,
            javascript: false,
            language: Lang::Fr,
        },
    )
    .await;
    browser
        .goto_url(&page(
            "Sans script",
            "<p id=\"p\">avant</p><script>document.getElementById('p').textContent = 'après'</script>\
             <noscript><p>Pas de JavaScript</p></noscript>",
        ))
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("avant") && !text.contains("après") && text.contains("Pas de JavaScript"),
        "a script ran in a browser without JavaScript: {text}"
    );
    // axe-core runs all the same (scripts are let run for it alone), and scripts stay off.
    let faults = browser.axe_violations("a page without scripts").await;
    assert!(faults.is_empty(), "{faults:?}");
    browser
        .goto_url(&page("Sans script", "<input name=\"q\">"))
        .await;
    let faults = browser
        .axe_violations("a faulty page without scripts")
        .await;
    assert!(faults.join("").contains("label"), "{faults:?}");
    browser
        .goto_url(&page(
            "Toujours sans script",
            "<p id=\"p\">avant</p><script>document.getElementById('p').textContent = 'après'</script>",
        ))
        .await;
    browser.assert_shows("avant").await;
    // What a person without scripts sees is captured all the same.
    browser.no_horizontal_scroll().await;
    browser.screenshot("harness-nojs").await;
    browser.close().await;
}
