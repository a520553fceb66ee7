//! The words of the pages, French first and English second, from Fluent catalogues a
//! translator can edit: `templates/locales/{fr,en}/*.ftl`, one file per area of the site, all
//! embedded in the binary. Templates reach them with the `t` helper
//! (`{{t "login-title"}}`, `{{t "stock-left" n=3}}`); Rust code with [`Catalogue::text`].
//!
//! A message missing in English falls back to French, and one missing in both shows its id:
//! a page never fails for a missing word (the `every_message_exists_in_both_languages` test
//! keeps the two catalogues whole).

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, RenderErrorReason,
    ScopedJson,
};
use rust_embed::Embed;
use unic_langid::LanguageIdentifier;

pub(crate) use print::Lang;

#[derive(Embed)]
#[folder = "../../templates/locales/"]
struct Locales;

/// Every message of both languages.
pub(crate) struct Catalogue {
    fr: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl Catalogue {
    /// Loads the embedded catalogues; an error names the file and message that do not parse.
    pub(crate) fn load() -> Result<Self, String> {
        Ok(Self {
            fr: bundle("fr")?,
            en: bundle("en")?,
        })
    }

    /// The message `id` in `lang`, with its arguments.
    pub(crate) fn text(&self, lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundles = match lang {
            Lang::Fr => [&self.fr, &self.fr],
            Lang::En => [&self.en, &self.fr],
        };
        for b in bundles {
            if let Some(pattern) = b.get_message(id).and_then(|m| m.value()) {
                let mut errors = vec![];
                let text = b.format_pattern(pattern, args, &mut errors);
                if !errors.is_empty() {
                    tracing::warn!(id, ?errors, "a page message did not format");
                }
                return text.into_owned();
            }
        }
        tracing::warn!(id, "a page message is missing");
        id.to_owned()
    }

    /// True when `id` exists in `lang`.
    pub(crate) fn has(&self, lang: Lang, id: &str) -> bool {
        match lang {
            Lang::Fr => self.fr.has_message(id),
            Lang::En => self.en.has_message(id),
        }
    }

    /// Every message id of `lang` (for the test that keeps both catalogues whole).
    #[cfg(test)]
    fn ids(lang: &str) -> Vec<String> {
        let mut ids = vec![];
        for file in Locales::iter().filter(|f| f.starts_with(&format!("{lang}/"))) {
            let Some(data) = Locales::get(&file) else {
                continue;
            };
            let source = String::from_utf8_lossy(&data.data).into_owned();
            for line in source.lines() {
                if let Some((id, _)) = line.split_once(" =")
                    && !id.starts_with(['#', ' ', '.', '*', '['])
                    && !id.is_empty()
                {
                    ids.push(id.trim().to_owned());
                }
            }
        }
        ids
    }
}

fn bundle(lang: &str) -> Result<FluentBundle<FluentResource>, String> {
    let id: LanguageIdentifier = lang.parse().map_err(|e| format!("{lang}: {e}"))?;
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the pages are left-to-right only, and the
    // marks would end up inside names, phone numbers and form values.
    bundle.set_use_isolating(false);
    let mut files: Vec<_> = Locales::iter()
        .filter(|f| f.starts_with(&format!("{lang}/")) && f.ends_with(".ftl"))
        .collect();
    files.sort();
    for file in files {
        let data = Locales::get(&file).ok_or_else(|| format!("{file}: missing"))?;
        let source = String::from_utf8_lossy(&data.data).into_owned();
        let resource =
            FluentResource::try_new(source).map_err(|(_, errors)| format!("{file}: {errors:?}"))?;
        bundle
            .add_resource(resource)
            .map_err(|errors| format!("{file}: {errors:?}"))?;
    }
    Ok(bundle)
}

/// The language of a visitor without an account setting: the first of French or English in
/// `Accept-Language`, French when neither is there.
pub(crate) fn from_accept_language(header: Option<&str>) -> Lang {
    let Some(header) = header else {
        return Lang::Fr;
    };
    let requested = fluent_langneg::accepted_languages::parse(header);
    for l in requested {
        match l.language.as_str() {
            "fr" => return Lang::Fr,
            "en" => return Lang::En,
            _ => {}
        }
    }
    Lang::Fr
}

/// The language of a stored code ("fr", "en"), French for anything else.
pub(crate) fn lang_of(code: &str) -> Lang {
    if code == "en" { Lang::En } else { Lang::Fr }
}

/// `{{t "id" name=value ...}}`: the message `id` in the page's language (`@root.lang`).
pub(crate) struct TranslateHelper(pub(crate) std::sync::Arc<Catalogue>);

impl HelperDef for TranslateHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let id = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = lang_of(ctx.data()["lang"].as_str().unwrap_or("fr"));
        let text = if h.hash().is_empty() {
            self.0.text(lang, id, None)
        } else {
            let mut args = FluentArgs::new();
            for (k, v) in h.hash() {
                let value: FluentValue<'_> = match v.value() {
                    serde_json::Value::Number(n) => n
                        .as_f64()
                        .map(FluentValue::from)
                        .unwrap_or_else(|| FluentValue::from(n.to_string())),
                    serde_json::Value::String(s) => match s.parse::<f64>() {
                        // Plurals need numbers; quantities arrive as decimal strings.
                        Ok(n) if k.starts_with('n') => FluentValue::from(n),
                        _ => FluentValue::from(s.clone()),
                    },
                    other => FluentValue::from(other.to_string()),
                };
                args.set(*k, value);
            }
            self.0.text(lang, id, Some(&args))
        };
        Ok(ScopedJson::Derived(serde_json::Value::String(text)))
    }
}

/// Arguments for [`Catalogue::text`] from pairs.
pub(crate) fn args<'a>(pairs: &[(&'a str, String)]) -> FluentArgs<'a> {
    let mut args = FluentArgs::new();
    for (k, v) in pairs {
        args.set(*k, FluentValue::from(v.clone()));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_both_languages() {
        let fr = Catalogue::ids("fr");
        let en = Catalogue::ids("en");
        assert!(fr.len() > 20, "the French catalogue is loaded");
        let missing_en: Vec<_> = fr.iter().filter(|id| !en.contains(id)).collect();
        let missing_fr: Vec<_> = en.iter().filter(|id| !fr.contains(id)).collect();
        assert!(missing_en.is_empty(), "missing in English: {missing_en:?}");
        assert!(missing_fr.is_empty(), "missing in French: {missing_fr:?}");
        assert!(Catalogue::load().is_ok(), "both catalogues parse");
    }

    #[test]
    fn accept_language_picks_french_or_english() {
        assert_eq!(
            from_accept_language(Some("en-GB,en;q=0.9,fr;q=0.5")),
            Lang::En
        );
        assert_eq!(from_accept_language(Some("de-DE,fr;q=0.5")), Lang::Fr);
        assert_eq!(from_accept_language(Some("de-DE")), Lang::Fr);
        assert_eq!(from_accept_language(None), Lang::Fr);
    }
}
