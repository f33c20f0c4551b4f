//! A second currency beside USD (`--currency KRW --fx-rate 1400`): every amount natcost
//! computes stays in exact USD; this only shows the converted figure next to it.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::shown::round_shown;

/// ISO 4217 currencies without minor units (shown with no decimals).
const NO_MINOR_UNITS: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fx {
    /// ISO 4217 code, e.g. `KRW`.
    pub currency: String,
    /// Units of `currency` per USD.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// Where the rate comes from.
    pub source: String,
}

impl Fx {
    pub fn decimals(&self) -> u32 {
        if NO_MINOR_UNITS.contains(&self.currency.as_str()) {
            0
        } else {
            2
        }
    }

    /// `974,722 KRW` for 696.23 USD at 1400. The USD amount is taken at the cents shown beside
    /// it, so a reader multiplying what they see gets the same figure.
    pub fn show(&self, usd: Decimal) -> String {
        let amount = round_shown(round_shown(usd, 2) * self.rate, self.decimals());
        format!("{} {}", grouped(amount, self.decimals()), self.currency)
    }
}

/// Thousands separated by commas: `974,722` or `1,234.50`.
fn grouped(d: Decimal, decimals: u32) -> String {
    let text = format!("{:.*}", decimals as usize, d.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if d.is_sign_negative() && !d.is_zero() {
        out.insert(0, '-');
    }
    out
}

/// `--currency`: three letters, as ISO 4217 writes them.
pub fn parse_currency(s: &str) -> Result<String, String> {
    let code = s.to_ascii_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) && code != "USD" {
        Ok(code)
    } else if code == "USD" {
        Err("amounts are in USD already: name another currency, e.g. KRW".into())
    } else {
        Err("not an ISO 4217 currency code: use three letters, e.g. KRW or EUR".into())
    }
}

/// `--fx-rate`: units of the currency per USD, a positive number.
pub fn parse_rate(s: &str) -> Result<Decimal, String> {
    // No currency trades near ten million per USD; a larger rate is a typo, and would overflow.
    match s.parse::<Decimal>() {
        Ok(r) if r > Decimal::ZERO && r <= Decimal::from(10_000_000) => Ok(r),
        _ => Err("not a positive number of units per USD up to 10,000,000, e.g. 1400".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fx(code: &str, rate: Decimal) -> Fx {
        Fx {
            currency: code.into(),
            rate,
            source: "--fx-rate".into(),
        }
    }

    #[test]
    fn amounts_in_the_currencys_own_units() {
        // 696.23 × 1400 = 974,722; 59.95 × 1400 = 83,930.
        assert_eq!(fx("KRW", dec!(1400)).show(dec!(696.23)), "974,722 KRW");
        assert_eq!(fx("KRW", dec!(1400)).show(dec!(59.95)), "83,930 KRW");
        // The cents shown (1.02) times the rate.
        assert_eq!(fx("EUR", dec!(2)).show(dec!(1.015)), "2.04 EUR");
        assert_eq!(fx("KRW", dec!(1400)).show(dec!(696.2262)), "974,722 KRW");
        assert_eq!(
            fx("EUR", dec!(0.92)).show(dec!(1234567.89)),
            "1,135,802.46 EUR"
        );
        assert_eq!(fx("JPY", dec!(150)).show(dec!(-4.53)), "-680 JPY");
        assert_eq!(fx("KRW", dec!(1400)).show(dec!(0)), "0 KRW");
    }

    #[test]
    fn codes_and_rates_are_checked() {
        assert_eq!(parse_currency("krw").unwrap(), "KRW");
        assert!(parse_currency("wons").is_err());
        assert!(parse_currency("k1w").is_err());
        assert!(parse_currency("USD").is_err());
        assert_eq!(parse_rate("1400.5").unwrap(), dec!(1400.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-3").is_err());
        assert!(parse_rate("abc").is_err());
        assert!(parse_rate("10000001").is_err());
        assert!(parse_rate("79228162514264337593543950335").is_err());
    }
}
