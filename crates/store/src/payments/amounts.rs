//! What a card is asked to hold for a basket: pure arithmetic, in cents.

/// The amount to hold: every line at its total, and variable-weight lines (priced on their
/// estimated weight) raised by the market's margin (basis points), rounded up to the cent, so
/// that a piece a little heavier than estimated is still covered by the hold.
#[must_use]
pub fn hold_cents(lines: &[(i64, bool)], margin_bp: i32) -> i64 {
    let margin = i64::from(margin_bp.max(0));
    lines
        .iter()
        .map(|&(total, variable)| {
            if variable {
                total + (total * margin + 9_999) / 10_000
            } else {
                total
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::hold_cents;

    #[test]
    fn fixed_lines_are_held_at_their_total() {
        assert_eq!(hold_cents(&[(280, false), (420, false)], 1_500), 700);
    }

    #[test]
    fn variable_weight_lines_get_the_margin_rounded_up() {
        // 22.50 € estimated, 15 % margin: 3.375 € rounded up to 3.38 €.
        assert_eq!(
            hold_cents(&[(2_250, true), (280, false)], 1_500),
            2_250 + 338 + 280
        );
    }

    #[test]
    fn no_margin_holds_the_estimate() {
        assert_eq!(hold_cents(&[(2_250, true)], 0), 2_250);
    }
}
