//! Strict types for what request bodies carry, so that the OpenAPI document and the server agree.
//!
//! poem-openapi's `String` takes a JSON number or boolean and stringifies it (`{"name": false}`
//! made a producer named "false"), and its `Decimal` is documented as any string. These types
//! take only what their schema says: [`Text`] a JSON string, [`NonBlank`] a JSON string with a
//! visible character, [`Dec`] a decimal written as digits (a string or a JSON number).

use std::{borrow::Cow, str::FromStr};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use rust_decimal::Decimal;
use serde_json::Value;

/// Accepts only a JSON string: neither a number nor a boolean is text.
fn json_string<T: Type>(value: Option<Value>) -> Result<String, ParseError<T>> {
    match value.unwrap_or_default() {
        Value::String(s) => Ok(s),
        other => Err(ParseError::expected_type(other)),
    }
}

macro_rules! string_type {
    ($ty:ident, $name:literal, $schema:expr) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&String> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
                Box::new(std::iter::once(&self.0))
            }
        }

        impl ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }

        impl From<$ty> for String {
            fn from(t: $ty) -> String {
                t.0
            }
        }

        impl std::ops::Deref for $ty {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Any text, sent as a JSON string (notes, descriptions, optional contact fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text(pub String);

string_type!(Text, "string", MetaSchema::new("string"));

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        json_string(value).map(Self)
    }
}

/// The document's pattern for [`NonBlank`]: one character that is not whitespace, the class
/// spelled out (Rust's `char::is_whitespace`, Unicode's White_Space) because `\S` differs
/// between regex engines (Python's counts U+001C..U+001F as whitespace, JavaScript's U+FEFF).
pub(crate) const NON_BLANK_PATTERN: &str =
    "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// Required text: a JSON string with at least one character that is not whitespace (names,
/// addresses, postal codes, emails, passwords...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonBlank(pub String);

string_type!(NonBlank, "string_non_blank", {
    let mut schema = MetaSchema::new("string");
    schema.min_length = Some(1);
    schema.pattern = Some(NON_BLANK_PATTERN.to_owned());
    schema
});

impl ParseFromJSON for NonBlank {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let s = json_string(value)?;
        if s.chars().all(char::is_whitespace) {
            return Err(ParseError::custom("must not be empty or only whitespace"));
        }
        Ok(Self(s))
    }
}

/// Largest magnitude a decimal may have: far above any price, quantity or weight.
const DEC_MAX: f64 = 1e15;

/// A decimal sent as a string of digits ("3.50", "-0.5") or as a JSON number (3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dec(pub Decimal);

/// The digits a decimal string may have: up to 15 before the point and 9 after.
pub(crate) const DEC_PATTERN: &str = r"^-?[0-9]{1,15}(\.[0-9]{1,9})?$";

/// Whether `s` matches [`DEC_PATTERN`], with `$` read as JSON Schema tools built on Python's
/// `re` read it (a final newline may follow).
fn decimal_digits(s: &str) -> bool {
    let s = s.strip_suffix('\n').unwrap_or(s);
    let s = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let digits =
        |p: &str, max: usize| (1..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    digits(whole, 15) && fraction.is_none_or(|f| digits(f, 9))
}

impl Type for Dec {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "decimal".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut text = MetaSchema::new_with_format("string", "decimal");
        text.pattern = Some(DEC_PATTERN.to_owned());
        let mut number = MetaSchema::new("number");
        number.minimum = Some(-DEC_MAX);
        number.maximum = Some(DEC_MAX);
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            any_of: vec![
                MetaSchemaRef::Inline(Box::new(text)),
                MetaSchemaRef::Inline(Box::new(number)),
            ],
            ..MetaSchema::ANY
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromJSON for Dec {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) if decimal_digits(&s) => Decimal::from_str(s.trim_end())
                .map(Self)
                .map_err(ParseError::custom),
            Value::String(_) => Err(ParseError::custom(
                "a decimal is written with digits and an optional point, e.g. \"3.50\"",
            )),
            Value::Number(n) => {
                if let Some(i) = n.as_i64()
                    && i.unsigned_abs() as f64 <= DEC_MAX
                {
                    return Ok(Self(Decimal::from(i)));
                }
                match n.as_f64() {
                    Some(f) if f.is_finite() && f.abs() <= DEC_MAX => {
                        // Nine decimals, as a string may have: a binary float has no exact
                        // decimal value, and 1e-300 must not fail to convert.
                        Decimal::from_str(&format!("{f:.9}"))
                            .map(|d| Self(d.normalize()))
                            .map_err(ParseError::custom)
                    }
                    _ => Err(ParseError::custom(format!(
                        "a decimal must be within ±{DEC_MAX:e}"
                    ))),
                }
            }
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Dec {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

impl From<Dec> for Decimal {
    fn from(d: Dec) -> Decimal {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse<T: ParseFromJSON>(v: Value) -> Option<T> {
        T::parse_from_json(Some(v)).ok()
    }

    #[test]
    fn text_takes_only_strings() {
        assert_eq!(parse::<Text>(json!("")), Some(Text(String::new())));
        assert_eq!(parse::<Text>(json!(false)), None);
        assert_eq!(parse::<Text>(json!(123456)), None);
        assert_eq!(parse::<Text>(json!(null)), None);
    }

    #[test]
    fn non_blank_needs_a_visible_character() {
        assert!(parse::<NonBlank>(json!("Ferme du Bois")).is_some());
        assert!(parse::<NonBlank>(json!(" x ")).is_some());
        assert!(parse::<NonBlank>(json!("\u{1f}")).is_some());
        assert!(parse::<NonBlank>(json!("\u{feff}")).is_some());
        for blank in ["", " ", "\t\n ", "\u{a0}", "\u{85}", "\u{3000}"] {
            assert_eq!(parse::<NonBlank>(json!(blank)), None, "{blank:?}");
        }
        assert_eq!(parse::<NonBlank>(json!(true)), None);
    }

    #[test]
    fn decimals_are_digits_or_numbers_within_bounds() {
        let d = |s: &str| s.parse().ok().map(Dec);
        assert_eq!(parse::<Dec>(json!("3.50")), d("3.50"));
        assert_eq!(parse::<Dec>(json!("-0.5")), d("-0.5"));
        assert_eq!(parse::<Dec>(json!("7\n")), d("7"));
        assert_eq!(parse::<Dec>(json!(2)), d("2"));
        assert_eq!(parse::<Dec>(json!(0.1)), d("0.1"));
        assert_eq!(parse::<Dec>(json!(1e-300)), d("0"));
        for bad in [
            json!(""),
            json!("1_000"),
            json!("+1"),
            json!("1e3"),
            json!(".5"),
            json!("1."),
            json!(" 1"),
            json!("١"),
            json!("1234567890123456"),
            json!("0.1234567890"),
            json!(1e16),
            json!(u64::MAX),
            json!(true),
        ] {
            assert_eq!(parse::<Dec>(bad.clone()), None, "{bad}");
        }
    }
}
