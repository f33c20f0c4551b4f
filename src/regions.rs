//! The AWS commercial regions natcost knows: code, billing prefix of its usage types, and city.
//! The one list every region check, price lookup and suggestion reads.

/// (code, usage-type prefix, city). us-east-1's usage types have no prefix.
pub const REGIONS: &[(&str, &str, &str)] = &[
    ("us-east-1", "", "N. Virginia"),
    ("us-east-2", "USE2", "Ohio"),
    ("us-west-1", "USW1", "N. California"),
    ("us-west-2", "USW2", "Oregon"),
    ("ca-central-1", "CAN1", "Canada Central"),
    ("sa-east-1", "SAE1", "Sao Paulo"),
    ("eu-west-1", "EU", "Ireland"),
    ("eu-west-2", "EUW2", "London"),
    ("eu-west-3", "EUW3", "Paris"),
    ("eu-central-1", "EUC1", "Frankfurt"),
    ("eu-central-2", "EUC2", "Zurich"),
    ("eu-north-1", "EUN1", "Stockholm"),
    ("eu-south-1", "EUS1", "Milan"),
    ("ap-northeast-1", "APN1", "Tokyo"),
    ("ap-northeast-2", "APN2", "Seoul"),
    ("ap-northeast-3", "APN3", "Osaka"),
    ("ap-south-1", "APS3", "Mumbai"),
    ("ap-south-2", "APS5", "Hyderabad"),
    ("ap-southeast-1", "APS1", "Singapore"),
    ("ap-southeast-2", "APS2", "Sydney"),
    ("ap-southeast-3", "APS4", "Jakarta"),
    ("ap-east-1", "APE1", "Hong Kong"),
    ("me-south-1", "MES1", "Bahrain"),
    ("me-central-1", "MEC1", "UAE"),
    ("il-central-1", "ILC1", "Tel Aviv"),
    ("af-south-1", "AFS1", "Cape Town"),
];

/// AWS billing prefix of a region's usage types (us-east-1 has none).
pub fn prefix(region: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(code, _, _)| *code == region)
        .map(|(_, p, _)| *p)
}

pub fn codes() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|(code, _, _)| *code)
}

/// Whether `s` looks like a region code (`xx-name-N`): a new region natcost does not list yet
/// is still let through (live prices name its prefix).
fn is_code_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The known region a mistyped one most likely means: a city name, or the closest code.
pub fn suggest(s: &str) -> Option<(&'static str, &'static str)> {
    let want: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if want.is_empty() {
        return None;
    }
    let squash = |t: &str| -> String {
        t.to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect()
    };
    if let Some((code, _, city)) = REGIONS
        .iter()
        .find(|(_, _, city)| squash(city).contains(&want) || want.contains(&squash(city)))
    {
        return Some((code, city));
    }
    REGIONS
        .iter()
        .map(|(code, _, city)| (distance(&want, &squash(code)), *code, *city))
        .filter(|(d, _, _)| *d <= 3)
        .min_by_key(|(d, _, _)| *d)
        .map(|(_, code, city)| (code, city))
}

/// Levenshtein distance: small strings, no crate needed.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A `--region` value: a known code, or a code-shaped one; anything else is refused with the
/// region it probably means.
pub fn parse_arg(s: &str) -> Result<String, String> {
    if prefix(s).is_some() || is_code_shaped(s) {
        return Ok(s.to_string());
    }
    Err(match suggest(s) {
        Some((code, city)) => format!("not a region code: did you mean {code} ({city})?"),
        None => format!(
            "not a region code (e.g. ap-northeast-2); known: {}",
            codes().collect::<Vec<_>>().join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn city_names_and_typos_suggest_the_region() {
        assert_eq!(
            parse_arg("seoul").unwrap_err(),
            "not a region code: did you mean ap-northeast-2 (Seoul)?"
        );
        assert_eq!(suggest("Tokyo"), Some(("ap-northeast-1", "Tokyo")));
        assert_eq!(suggest("frankfurt"), Some(("eu-central-1", "Frankfurt")));
        assert_eq!(suggest("apnortheast2"), Some(("ap-northeast-2", "Seoul")));
        assert_eq!(suggest("ap-northest-2"), Some(("ap-northeast-2", "Seoul")));
        assert_eq!(suggest("xyzzy"), None);
        assert!(parse_arg("xyzzy").unwrap_err().contains("known: us-east-1"));
    }

    #[test]
    fn codes_pass_even_when_not_listed() {
        assert_eq!(parse_arg("ap-northeast-2").unwrap(), "ap-northeast-2");
        assert_eq!(parse_arg("mx-central-1").unwrap(), "mx-central-1");
        assert!(parse_arg("ap-northeast").is_err());
        assert!(parse_arg("AP-NORTHEAST-2").is_err());
        assert_eq!(prefix("eu-west-1"), Some("EU"));
        assert_eq!(prefix("us-east-1"), Some(""));
    }
}
