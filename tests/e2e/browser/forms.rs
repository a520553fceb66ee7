//! Forms as a person fills them: fields found by their label, buttons by their text, and the
//! wait for the page a click loads.

use fantoccini::{Locator, elements::Element};
use serde_json::{Value, json};

use super::Browser;

/// An XPath string literal for any text, quotes included.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    if !text.contains('"') {
        return format!("\"{text}\"");
    }
    let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

impl Browser {
    /// The form field whose label reads `label` (its whole text, or the text before a marker
    /// such as "(obligatoire)", or else its beginning; spaces trimmed), or else whose `name`
    /// is `label`.
    pub async fn field(&self, label: &str) -> Element {
        self.field_in("", label).await
    }

    /// [`Browser::field`] within the part of the page `scope` selects (an XPath; empty: all).
    async fn field_in(&self, scope: &str, label: &str) -> Element {
        let lit = xpath_literal(label);
        // The label's whole text, else its text before a marker, else its beginning
        // ("Carottes, Quantité" for "Carottes, Quantité (kg)").
        for test in [
            format!("normalize-space() = {lit} or normalize-space(text()[1]) = {lit}"),
            format!("starts-with(normalize-space(), {lit})"),
        ] {
            let labels = format!("{scope}//label[{test}]");
            let by_label = format!(
                "//*[@id = {labels}/@for] | {labels}//*[self::input or self::select or self::textarea]"
            );
            if let Ok(found) = self.client.find(Locator::XPath(&by_label)).await {
                return found;
            }
        }
        let by_name = format!(
            "{scope}//*[(self::input or self::select or self::textarea) and @name = {lit}]"
        );
        match self.client.find(Locator::XPath(&by_name)).await {
            Ok(found) => found,
            Err(_) => panic!(
                "no field labelled or named {label:?}{} {}",
                in_scope(scope),
                self.context().await
            ),
        }
    }

    /// The part of the page about `name`: the fieldset of that legend, or the section, list
    /// item, article or form headed by it (h2 or h3). For the rows of a page that repeat the
    /// same labels ("Prix", "Stock" for each product).
    pub fn group<'a>(&'a self, name: &str) -> Group<'a> {
        let lit = xpath_literal(name);
        Group {
            browser: self,
            scope: format!(
                "(//fieldset[legend[normalize-space() = {lit}]] | //*[self::section or self::li or self::article or self::form][*[self::h2 or self::h3][normalize-space() = {lit}]])[1]"
            ),
        }
    }

    /// What the field labelled (or named) `label` holds.
    pub async fn value(&self, label: &str) -> String {
        value_of(&self.field(label).await).await
    }

    /// Types `value` into the field labelled (or named) `label`, replacing what it held.
    pub async fn fill(&self, label: &str, value: &str) {
        self.fill_field(&self.field(label).await, value).await;
    }

    async fn fill_field(&self, field: &Element, value: &str) {
        let kind = field.attr("type").await.ok().flatten().unwrap_or_default();
        if matches!(
            kind.as_str(),
            "date" | "time" | "month" | "week" | "datetime-local"
        ) {
            // A date picker is typed in the order of the browser's locale: the value is set
            // as the picker would set it (ISO), whatever the locale.
            let element = serde_json::to_value(field).expect("an element reference");
            self.client
                .execute(
                    "arguments[0].value = arguments[1];
                     arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
                    vec![element, json!(value)],
                )
                .await
                .expect("set a date");
            return;
        }
        field.clear().await.expect("clear a field");
        field.send_keys(value).await.expect("type into a field");
    }

    /// Chooses the option whose text is `option` in the list labelled (or named) `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let field = self.field(label).await;
        if field.select_by_label(option).await.is_err() {
            panic!(
                "the list {label:?} has no option {option:?} {}",
                self.context().await
            );
        }
    }

    /// Ticks or unticks the checkbox (or picks the radio button) labelled (or named) `label`.
    pub async fn check(&self, label: &str, on: bool) {
        self.set_checked(&self.field(label).await, label, on).await;
    }

    /// Picks the radio button (or ticks the checkbox) whose label holds `text` anywhere (a
    /// pickup slot: "Salle des fêtes, mardi 8 décembre...").
    pub async fn choose(&self, text: &str) {
        self.choose_in("", text).await;
    }

    async fn choose_in(&self, scope: &str, text: &str) {
        let lit = xpath_literal(text);
        let labels = format!("{scope}//label[contains(normalize-space(), {lit})]");
        let xpath = format!(
            "//input[@id = {labels}/@for] | {labels}//input[@type = 'radio' or @type = 'checkbox']"
        );
        let Ok(field) = self.client.find(Locator::XPath(&xpath)).await else {
            panic!(
                "no choice labelled with {text:?}{} {}",
                in_scope(scope),
                self.context().await
            );
        };
        self.set_checked(&field, text, true).await;
    }

    async fn set_checked(&self, field: &Element, label: &str, on: bool) {
        let checked = field.prop("checked").await.expect("read a checkbox");
        if (checked.as_deref() == Some("true")) != on {
            if self.options.javascript {
                field.click().await.expect("click a checkbox");
            } else {
                self.click_without_scripts(field, label, false).await;
            }
        }
    }

    /// Clicks the button (or submit input) whose text is `text`, or else the link, and waits
    /// for the page it loads (it fails if none comes). What is in the page's `main` comes first
    /// (the header's "Se connecter" link is not the login form's button).
    pub async fn click(&self, text: &str) {
        self.click_in("", text, true).await;
    }

    /// Like [`Browser::click`], for a button that loads no page (a script's).
    pub async fn press(&self, text: &str) {
        self.click_in("", text, false).await;
    }

    async fn click_in(&self, scope: &str, text: &str, then_page: bool) {
        let lit = xpath_literal(text);
        let buttons = |within: &str| {
            format!(
                "{within}//button[normalize-space() = {lit}] | {within}//input[(@type = 'submit' or @type = 'button') and @value = {lit}]"
            )
        };
        let link = |within: &str| format!("{within}//a[normalize-space() = {lit}]");
        let candidates = if scope.is_empty() {
            vec![buttons("//main"), buttons(""), link("//main"), link("")]
        } else {
            vec![buttons(scope), link(scope)]
        };
        for xpath in candidates {
            if let Ok(target) = self.client.find(Locator::XPath(&xpath)).await {
                if !self.options.javascript {
                    self.click_without_scripts(&target, text, then_page).await;
                    return;
                }
                self.mark_page().await;
                target
                    .click()
                    .await
                    .unwrap_or_else(|e| panic!("cannot click {text:?}: {e}"));
                if then_page {
                    self.next_page(text).await;
                }
                return;
            }
        }
        panic!(
            "no button or link {text:?}{} {}",
            in_scope(scope),
            self.context().await
        );
    }

    /// A click as a person makes it, through DevTools' mouse events, then (`then_page`) a
    /// wait for the page it loads. chromedriver's own click waits on a page timer after
    /// clicking, and timers never fire in a page without scripts: it would hang there.
    async fn click_without_scripts(&self, target: &Element, text: &str, then_page: bool) {
        let element = serde_json::to_value(target).expect("an element reference");
        self.mark_page().await;
        let center = self
            .client
            .execute(
                "const e = arguments[0]; e.scrollIntoView({ block: 'center' });
                 // A link wrapped over two lines: the middle of its box may be beside both.
                 const r = e.getClientRects()[0] || e.getBoundingClientRect();
                 return [r.left + r.width / 2, r.top + r.height / 2];",
                vec![element],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot reach {text:?}: {e}"));
        let (x, y) = (center[0].as_f64(), center[1].as_f64());
        for kind in ["mousePressed", "mouseReleased"] {
            self.cdp(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )
            .await;
        }
        if then_page {
            self.next_page(text).await;
        }
    }

    /// Marks the page shown, so that [`Browser::next_page`] knows when it is gone.
    async fn mark_page(&self) {
        self.client
            .execute("window.__halleOldPage = true", vec![])
            .await
            .expect("mark the page");
    }

    /// Waits until the marked page is replaced by one fully loaded.
    async fn next_page(&self, text: &str) {
        for _ in 0..600 {
            let loaded = self
                .client
                .execute(
                    "return window.__halleOldPage !== true && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "clicking {text:?} loaded no page in 30 s {}",
            self.context().await
        );
    }
}

/// A part of a page ([`Browser::group`]): the same helpers, looking only there.
pub struct Group<'a> {
    browser: &'a Browser,
    scope: String,
}

impl Group<'_> {
    /// Types into the field labelled (or named) `label` in this group.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.browser.field_in(&self.scope, label).await;
        self.browser.fill_field(&field, value).await;
    }

    /// What the field labelled (or named) `label` in this group holds.
    pub async fn value(&self, label: &str) -> String {
        value_of(&self.browser.field_in(&self.scope, label).await).await
    }

    /// Ticks or unticks the checkbox labelled (or named) `label` in this group.
    pub async fn check(&self, label: &str, on: bool) {
        let field = self.browser.field_in(&self.scope, label).await;
        self.browser.set_checked(&field, label, on).await;
    }

    /// Picks the radio button whose label holds `text` in this group.
    pub async fn choose(&self, text: &str) {
        self.browser.choose_in(&self.scope, text).await;
    }

    /// Clicks the button (or else the link) `text` of this group, and waits for the page.
    pub async fn click(&self, text: &str) {
        self.browser.click_in(&self.scope, text, true).await;
    }
}

async fn value_of(field: &Element) -> String {
    field
        .prop("value")
        .await
        .expect("a field's value")
        .unwrap_or_default()
}

fn in_scope(scope: &str) -> String {
    if scope.is_empty() {
        String::new()
    } else {
        format!(" in {scope}")
    }
}
