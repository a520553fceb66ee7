//! The passwords too common to accept: the 10,000 most frequent of 10 characters or more,
//! shipped with the binary (`common_passwords.txt`, its source named in its header). Checked
//! wherever a password is chosen: sign-up, password change, invitation, `halle admin`.

use std::{collections::HashSet, sync::OnceLock};

static LIST: &str = include_str!("common_passwords.txt");

fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        LIST.lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// True when `password`, compared without case, is on the list.
pub(crate) fn is_common(password: &str) -> bool {
    set().contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::{is_common, set};

    #[test]
    fn the_list_holds_ten_thousand_and_is_checked_without_case() {
        assert_eq!(set().len(), 10_000);
        assert!(is_common("password123"));
        assert!(is_common("QwertyUiop"));
        assert!(is_common("1234567890"));
        assert!(!is_common("sel de Guérande 2026"));
        assert!(!is_common("# The 10,000 most common passwords"));
    }
}
