//! The one rounding rule for figures people read (tables, charts, notes): the CSV and JSON
//! files keep full precision; everything shown rounds here, once. And text from AWS or files
//! as a terminal, a chart or Markdown may show it.

use std::borrow::Cow;

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

/// What the lines as shown leave of their total as shown: the exact total rounded once, minus
/// the sum of the lines each rounded once. A table shows a non-zero rounding on a line of its
/// own ("(rounding of the lines above)"), so every column adds up as shown.
pub fn rounding(lines: impl IntoIterator<Item = Decimal>, total: Decimal, dp: u32) -> Decimal {
    let shown: Decimal = lines.into_iter().map(|l| round_shown(l, dp)).sum();
    round_shown(total, dp) - shown
}

/// natcost's own prose in ASCII punctuation, for CSV files a spreadsheet may open as another
/// code page: "730 h × 0.059" → "730 h x 0.059", "≤" → "<=", "→" → "->".
pub fn ascii_punctuation(s: &str) -> Cow<'_, str> {
    let swap = |c: char| -> Option<&'static str> {
        Some(match c {
            '×' => "x",
            '≤' => "<=",
            '≥' => ">=",
            '→' => "->",
            '←' => "<-",
            '−' | '–' | '—' => "-",
            '…' => "...",
            '‘' | '’' => "'",
            '“' | '”' => "\"",
            '·' | '•' => "-",
            '≈' => "~",
            '\u{a0}' => " ",
            _ => return None,
        })
    };
    if !s.chars().any(|c| swap(c).is_some()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match swap(c) {
            Some(a) => out.push_str(a),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters that would act instead of show: controls (an ESC sequence in a tag drives the
/// terminal; SVG refuses them) and the bidirectional overrides that reorder what is read.
fn acts(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` without the characters that would act on a terminal or in an SVG; line breaks kept.
pub fn printable(s: &str) -> Cow<'_, str> {
    if s.chars().any(acts) {
        Cow::Owned(s.chars().filter(|c| !acts(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// `s` on one line of stderr: what `printable` keeps, line breaks as spaces.
pub fn one_line(s: &str) -> String {
    printable(s).replace(['\n', '\t'], " ")
}

/// A label at most `max` characters long, on one line: a longer one ends in an ellipsis (the
/// CSVs keep it whole).
pub fn clipped(s: &str, max: usize) -> String {
    let line: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !acts(*c))
        .collect();
    match line.char_indices().nth(max) {
        Some(_) => {
            let keep: String = line.chars().take(max.saturating_sub(1)).collect();
            keep + "…"
        }
        None => line,
    }
}

/// Text from AWS or files inside Markdown prose: shown as written, never markup. HTML is
/// escaped, brackets cannot make a link or an image, a line break cannot start a heading or
/// a list, and nothing acts on a terminal.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // Only where it could start an entity (`&lt;`, `&#60;`): `a && b` stays readable.
            '&' if chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '#') =>
            {
                out.push_str("&amp;")
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if acts(c) => {}
            c => out.push(c),
        }
    }
    out
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

    #[test]
    fn rounding_is_what_the_shown_lines_leave_of_the_shown_total() {
        // 3 × 0.333 shows 0.33 each (0.99) against a total of 1.00 (0.999 rounded).
        let lines = [dec!(0.333); 3];
        assert_eq!(rounding(lines, lines.iter().sum(), 2), dec!(0.01));
        // 0.125 + 0.125 shows 0.13 + 0.13 = 0.26 against 0.25: rounding -0.01.
        assert_eq!(rounding([dec!(0.125); 2], dec!(0.25), 2), dec!(-0.01));
        assert_eq!(rounding([dec!(1.10), dec!(2.20)], dec!(3.30), 2), dec!(0));
        assert_eq!(rounding([], dec!(0), 2), dec!(0));
    }

    #[test]
    fn csv_prose_is_ascii() {
        assert_eq!(
            ascii_punctuation("2 × 730 h × 0.059 → 86.14 (SampleCount ≤ 60; 0.059 − 0.01) …"),
            "2 x 730 h x 0.059 -> 86.14 (SampleCount <= 60; 0.059 - 0.01) ..."
        );
        assert!(matches!(ascii_punctuation("plain"), Cow::Borrowed("plain")));
        // Letters are data: only punctuation changes.
        assert_eq!(ascii_punctuation("서울 café"), "서울 café");
    }

    #[test]
    fn text_from_aws_shows_and_never_acts() {
        assert_eq!(
            printable("web\u{1b}]0;pwned\u{7}\nnext"),
            "web]0;pwned\nnext"
        );
        assert_eq!(printable("a\u{202e}b"), "ab");
        assert!(matches!(printable("plain"), Cow::Borrowed("plain")));
        assert_eq!(clipped("abcdef", 4), "abc…");
        assert_eq!(clipped("abcd", 4), "abcd");
        assert_eq!(clipped("a\nb\u{1b}c", 10), "a bc");
        assert_eq!(clipped(&"x".repeat(30_000), 60).chars().count(), 60);
        assert_eq!(
            markdown("<img src=x onerror=alert(1)>\n# head [l](u) a&b a && b \\"),
            "&lt;img src=x onerror=alert(1)&gt; # head \\[l\\](u) a&amp;b a && b \\\\"
        );
    }
}
