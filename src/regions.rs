//! The AWS commercial regions natcost knows: code, billing prefix of its usage types, and city.
//! The one list every region check, price lookup and suggestion reads. Which regions have
//! bundled prices is the bundled table's business (`natcost prices`), not this list's.

/// (code, usage-type prefix, city). us-east-1's usage types have no prefix. The prefixes are
/// AWS's billing codes ("AWS Region billing codes" in the AWS Regions and Availability Zones
/// guide), the same the Pricing API's usage types start with.
pub const REGIONS: &[(&str, &str, &str)] = &[
    ("us-east-1", "", "N. Virginia"),
    ("us-east-2", "USE2", "Ohio"),
    ("us-west-1", "USW1", "N. California"),
    ("us-west-2", "USW2", "Oregon"),
    ("ca-central-1", "CAN1", "Canada Central"),
    ("ca-west-1", "CAN2", "Calgary"),
    ("mx-central-1", "MXC1", "Mexico"),
    ("sa-east-1", "SAE1", "Sao Paulo"),
    ("eu-west-1", "EU", "Ireland"),
    ("eu-west-2", "EUW2", "London"),
    ("eu-west-3", "EUW3", "Paris"),
    ("eu-central-1", "EUC1", "Frankfurt"),
    ("eu-central-2", "EUC2", "Zurich"),
    ("eu-north-1", "EUN1", "Stockholm"),
    ("eu-south-1", "EUS1", "Milan"),
    ("eu-south-2", "EUS2", "Spain"),
    ("ap-northeast-1", "APN1", "Tokyo"),
    ("ap-northeast-2", "APN2", "Seoul"),
    ("ap-northeast-3", "APN3", "Osaka"),
    ("ap-south-1", "APS3", "Mumbai"),
    ("ap-south-2", "APS5", "Hyderabad"),
    ("ap-southeast-1", "APS1", "Singapore"),
    ("ap-southeast-2", "APS2", "Sydney"),
    ("ap-southeast-3", "APS4", "Jakarta"),
    ("ap-southeast-4", "APS6", "Melbourne"),
    ("ap-southeast-5", "APS7", "Malaysia"),
    ("ap-southeast-6", "APS8", "New Zealand"),
    ("ap-southeast-7", "APS9", "Thailand"),
    ("ap-east-1", "APE1", "Hong Kong"),
    ("ap-east-2", "APE2", "Taipei"),
    ("me-south-1", "MES1", "Bahrain"),
    ("me-central-1", "MEC1", "UAE"),
    ("il-central-1", "ILC1", "Tel Aviv"),
    ("af-south-1", "AFS1", "Cape Town"),
];

/// Commercial regions AWS lists (its ip-ranges.json of 2026-08-22, without the China, GovCloud
/// and European Sovereign Cloud partitions) whose billing prefix natcost does not know yet:
/// accepted, and priced from the Pricing API, which names their prefix.
pub const NO_PREFIX: &[(&str, &str)] = &[
    ("me-west-1", "me-west-1"),
    ("sa-west-1", "sa-west-1"),
    ("us-south-1", "us-south-1"),
];

/// Whether natcost knows `region`: with its billing prefix, or listed by AWS without one.
pub fn is_known(region: &str) -> bool {
    prefix(region).is_some() || NO_PREFIX.iter().any(|(code, _)| *code == region)
}

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

/// Every region natcost knows: with a billing prefix, then without.
pub fn all_codes() -> impl Iterator<Item = &'static str> {
    codes().chain(NO_PREFIX.iter().map(|(code, _)| *code))
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
    let all = REGIONS
        .iter()
        .map(|(code, _, city)| (*code, *city))
        .chain(NO_PREFIX.iter().copied());
    if let Some((code, city)) = all
        .clone()
        .find(|(_, city)| squash(city).contains(&want) || want.contains(&squash(city)))
    {
        return Some((code, city));
    }
    all.map(|(code, city)| (distance(&want, &squash(code)), code, city))
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

/// A `--region` value: a region AWS lists; anything else is refused at once, with the region it
/// probably means.
pub fn parse_arg(s: &str) -> Result<String, String> {
    if is_known(s) {
        return Ok(s.to_string());
    }
    Err(match suggest(s) {
        Some((code, city)) => format!("not an AWS region: did you mean {code} ({city})?"),
        None => format!(
            "not an AWS region (e.g. ap-northeast-2); known: {}",
            codes()
                .chain(NO_PREFIX.iter().map(|(code, _)| *code))
                .collect::<Vec<_>>()
                .join(", ")
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
            "not an AWS region: did you mean ap-northeast-2 (Seoul)?"
        );
        assert_eq!(suggest("Tokyo"), Some(("ap-northeast-1", "Tokyo")));
        assert_eq!(suggest("frankfurt"), Some(("eu-central-1", "Frankfurt")));
        assert_eq!(suggest("apnortheast2"), Some(("ap-northeast-2", "Seoul")));
        assert_eq!(suggest("ap-northest-2"), Some(("ap-northeast-2", "Seoul")));
        assert_eq!(suggest("xyzzy"), None);
        assert!(parse_arg("xyzzy").unwrap_err().contains("known: us-east-1"));
    }

    #[test]
    fn regions_aws_lists_pass_and_no_other() {
        assert_eq!(parse_arg("ap-northeast-2").unwrap(), "ap-northeast-2");
        assert_eq!(parse_arg("mx-central-1").unwrap(), "mx-central-1");
        assert_eq!(parse_arg("ca-west-1").unwrap(), "ca-west-1");
        assert_eq!(prefix("ca-west-1"), Some("CAN2"));
        assert_eq!(prefix("ap-southeast-6"), Some("APS8"));
        assert_eq!(parse_arg("us-south-1").unwrap(), "us-south-1");
        assert_eq!(prefix("us-south-1"), None, "the API names its prefix");
        // One entry per region, one region per prefix.
        let codes: std::collections::BTreeSet<&str> = all_codes().collect();
        let prefixes: std::collections::BTreeSet<&str> = REGIONS.iter().map(|r| r.1).collect();
        assert_eq!(codes.len(), REGIONS.len() + NO_PREFIX.len());
        assert_eq!(prefixes.len(), REGIONS.len());
        assert_eq!(
            parse_arg("ap-northeast-9").unwrap_err(),
            "not an AWS region: did you mean ap-northeast-1 (Tokyo)?"
        );
        assert_eq!(suggest("calgary"), Some(("ca-west-1", "Calgary")));
        assert!(parse_arg("ap-northeast").is_err());
        assert!(parse_arg("AP-NORTHEAST-2").is_err());
        assert_eq!(prefix("eu-west-1"), Some("EU"));
        assert_eq!(prefix("us-east-1"), Some(""));
    }
}
