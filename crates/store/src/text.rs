//! Text the database is asked to keep: no NUL (PostgreSQL refuses it in `text`, which made it a
//! 500) and no other control character but tab and line breaks. The web layer already refuses
//! a NUL in any request; this is the same rule next to the data, for every caller.

use crate::StoreError;

/// Refuses control characters in `value`, except tab, line feed and carriage return.
pub(crate) fn check_chars(field: &str, value: &str) -> Result<(), StoreError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(StoreError::invalid(
            "invalid_text",
            format!("{field} contains a control character (such as NUL), which no text may hold"),
        ));
    }
    Ok(())
}

/// [`check_chars`] for each named field, absent ones skipped.
pub(crate) fn check_all<'a>(
    fields: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<(), StoreError> {
    fields
        .into_iter()
        .try_for_each(|(field, value)| value.map_or(Ok(()), |v| check_chars(field, v)))
}

#[cfg(test)]
mod tests {
    use super::check_chars;

    #[test]
    fn nul_and_control_characters_are_refused_but_not_line_breaks() {
        assert!(check_chars("name", "a\0b").is_err());
        assert!(check_chars("name", "a\u{1b}[31m").is_err());
        assert!(check_chars("notes", "first line\r\nsecond\tline").is_ok());
        assert!(check_chars("name", "Œufs frais — 6 €").is_ok());
    }
}
