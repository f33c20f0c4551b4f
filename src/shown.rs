//! The one rounding rule for figures people read (tables, charts, notes): the CSV and JSON
//! files keep full precision; everything shown rounds here, once.

use rust_decimal::{Decimal, RoundingStrategy};

/// The one rounding rule for what people read: `dp` decimals, halves away from zero (as on
/// an invoice: 0.005 → 0.01, 2.675 → 2.68), on the exact decimal, never on a float.
pub fn round_shown(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// A decimal as shown to people: `dp` decimals by [`round_shown`], zeros kept ("90.80").
pub fn fixed(d: Decimal, dp: u32) -> String {
    let mut r = round_shown(d, dp);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r.rescale(dp);
    r.to_string()
}

/// Money as shown to people: two decimals by [`round_shown`].
pub fn money(d: Decimal) -> String {
    fixed(d, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn shown_figures_round_half_away_from_zero_on_the_exact_decimal() {
        assert_eq!(money(dec!(90.795789)), "90.80");
        assert_eq!(money(dec!(0.005)), "0.01");
        assert_eq!(money(dec!(0.004999)), "0.00");
        // 2.675 is 2.67499999… as a float: the decimal rounds up, as a bill does.
        assert_eq!(money(dec!(2.675)), "2.68");
        assert_eq!(format!("{:.2}", 2.675_f64), "2.67");
        // Banker's rounding would give 0.28 and 0.02.
        assert_eq!(money(dec!(0.285)), "0.29");
        assert_eq!(money(dec!(0.015)), "0.02");
        assert_eq!(money(dec!(0.025)), "0.03");
        assert_eq!(money(dec!(-2.675)), "-2.68");
        assert_eq!(money(dec!(7)), "7.00");
        assert_eq!(money(dec!(738.9)), "738.90");
        assert_eq!(fixed(dec!(1.0005), 3), "1.001");
        assert_eq!(fixed(dec!(12), 3), "12.000");
        assert_eq!(round_shown(dec!(90.795789), 2), dec!(90.80));
        assert_eq!(money(dec!(-0.004)), "0.00");
    }
}
