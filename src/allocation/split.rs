//! Splitting an exact amount by weights so that the parts add up to it exactly.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimals kept in each part (as quantities in the cost model): far below a cent, so parts
/// rounded to cents still add up within a cent per part, and their exact sum is the whole.
const PART_DP: u32 = 9;

/// `total` split in proportion to `weights`, each part cut to 9 decimals (toward zero, so no
/// part can go negative), the remainder on the largest weight (the first of equals): the parts
/// add up to `total` exactly.
/// All weights zero (or none positive) splits evenly.
pub fn split(total: Decimal, weights: &[f64]) -> Vec<Decimal> {
    if weights.is_empty() {
        return Vec::new();
    }
    let positive: Vec<f64> = weights.iter().map(|w| w.max(0.0)).collect();
    let sum: f64 = positive.iter().sum();
    let shares: Vec<f64> = if sum > 0.0 && sum.is_finite() {
        positive.iter().map(|w| w / sum).collect()
    } else {
        vec![1.0 / weights.len() as f64; weights.len()]
    };
    let mut parts: Vec<Decimal> = shares
        .iter()
        .map(|s| {
            Decimal::try_from(*s)
                .ok()
                .and_then(|s| total.checked_mul(s))
                .unwrap_or_default()
                .round_dp_with_strategy(PART_DP, RoundingStrategy::ToZero)
        })
        .collect();
    let rest = total - parts.iter().sum::<Decimal>();
    let largest = (0..shares.len())
        .rev()
        .max_by(|a, b| shares[*a].total_cmp(&shares[*b]))
        .unwrap_or(0);
    parts[largest] += rest;
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parts_add_up_exactly() {
        let parts = split(dec!(10), &[1.0, 1.0, 1.0]);
        assert_eq!(
            parts,
            [dec!(3.333333334), dec!(3.333333333), dec!(3.333333333)]
        );
        assert_eq!(parts.iter().sum::<Decimal>(), dec!(10));
        assert_eq!(split(dec!(7.5), &[3.0, 1.0]), [dec!(5.625), dec!(1.875)]);
        // More decimals than a part keeps: the remainder lands on the largest weight.
        let total = dec!(0.123456789123);
        let parts = split(total, &[2.0, 1.0]);
        assert_eq!(parts.iter().sum::<Decimal>(), total);
        assert_eq!(parts[1], dec!(0.041152263));
    }

    #[test]
    fn many_small_parts_never_go_negative() {
        let total = dec!(0.000002);
        let parts = split(total, &[1.0; 300]);
        assert!(parts.iter().all(|p| *p >= Decimal::ZERO), "{parts:?}");
        assert_eq!(parts.iter().sum::<Decimal>(), total);
    }

    #[test]
    fn no_weight_splits_evenly() {
        assert_eq!(split(dec!(1), &[0.0, 0.0]), [dec!(0.5), dec!(0.5)]);
        assert_eq!(split(dec!(1), &[f64::NAN, 0.0]), [dec!(0.5), dec!(0.5)]);
        assert!(split(dec!(1), &[]).is_empty());
    }
}
