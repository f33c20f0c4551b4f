//! The price book: USD unit prices keyed by (region, AWS usage type), with their source.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

const BUNDLED: &str = include_str!("../../data/prices.json");

/// Whether the bundled table prices `region` (its regions read once).
pub fn is_bundled(region: &str) -> bool {
    static REGIONS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    REGIONS
        .get_or_init(|| PriceBook::bundled().regions())
        .iter()
        .any(|r| r == region)
}

/// AWS billing prefix of a region's usage types (us-east-1 has none).
pub fn region_prefix(region: &str) -> Option<&'static str> {
    crate::regions::prefix(region)
}

/// What the cost model and the advisor need a price for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    NatHours,
    NatBytes,
    PublicIpv4Hours,
    EndpointHours,
    EndpointBytes,
    TransitGatewayHours,
    TransitGatewayBytes,
    InterAzBytes,
    InternetEgressBytes,
    NatInstanceHours,
    EbsGbMonth,
    /// Regional NAT gateway hour (billed per active AZ, by AWS's pricing page as quoted; see
    /// the report's assumptions).
    RegionalNatHours,
    RegionalNatBytes,
    /// Flow logs delivered to S3 (CloudWatch vended logs). Not in ALL: priced only where the
    /// bundled table has it, and only used to say what measuring costs.
    FlowLogS3Bytes,
}

impl Item {
    pub const ALL: [Item; 13] = [
        Item::NatHours,
        Item::NatBytes,
        Item::PublicIpv4Hours,
        Item::EndpointHours,
        Item::EndpointBytes,
        Item::TransitGatewayHours,
        Item::TransitGatewayBytes,
        Item::InterAzBytes,
        Item::InternetEgressBytes,
        Item::NatInstanceHours,
        Item::EbsGbMonth,
        Item::RegionalNatHours,
        Item::RegionalNatBytes,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Item::NatHours => "NatGateway-Hours",
            Item::NatBytes => "NatGateway-Bytes",
            Item::PublicIpv4Hours => "PublicIPv4:InUseAddress",
            Item::EndpointHours => "VpcEndpoint-Hours",
            Item::EndpointBytes => "VpcEndpoint-Bytes",
            Item::TransitGatewayHours => "TransitGateway-Hours",
            Item::TransitGatewayBytes => "TransitGateway-Bytes",
            Item::InterAzBytes => "DataTransfer-Regional-Bytes",
            Item::InternetEgressBytes => "DataTransfer-Out-Bytes",
            Item::NatInstanceHours => "BoxUsage:t4g.nano",
            Item::EbsGbMonth => "EBS:VolumeUsage.gp3",
            Item::RegionalNatHours => "RegionalNatGateway-Hours",
            Item::RegionalNatBytes => "RegionalNatGateway-Bytes",
            Item::FlowLogS3Bytes => "S3-Egress-Bytes",
        }
    }

    /// The AWS usage type of this item in a region, e.g. `APN2-NatGateway-Hours`.
    pub fn usage_type(self, region: &str) -> Result<String> {
        let prefix = region_prefix(region).with_context(|| {
            if crate::regions::is_known(region) {
                format!("no billing prefix bundled for {region}, and no live price names it: price it with the Pricing API (--prices live, with AWS credentials)")
            } else {
                format!("unknown AWS region {region:?}: no billing prefix known")
            }
        })?;
        Ok(self.with_prefix(prefix))
    }

    /// The usage type after a billing prefix ("" for us-east-1).
    fn with_prefix(self, prefix: &str) -> String {
        if prefix.is_empty() {
            self.suffix().to_string()
        } else {
            format!("{prefix}-{}", self.suffix())
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Price {
    pub region: String,
    pub usage_type: String,
    /// AWS's unit: Hrs, GB, GB-Mo.
    pub unit: String,
    /// The unit price natcost uses: the first paid tier when there are tiers.
    #[serde(with = "rust_decimal::serde::str")]
    pub usd: Decimal,
    /// Confirmed against the Price List or a bill (false: from a price page, to be confirmed).
    #[serde(default)]
    pub checked: bool,
    #[serde(default)]
    pub description: String,
    /// Volume tiers, when AWS prices the usage type in tiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// Where this price comes from, e.g. "bundled table of 2026-11-01" (set when loaded).
    #[serde(skip)]
    pub origin: String,
}

/// A volume tier: `[begin, end)` units at `usd` each; `end` None is unbounded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tier {
    #[serde(with = "rust_decimal::serde::str")]
    pub begin: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub end: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub usd: Decimal,
}

/// The JSON file format of `data/prices.json`, of the cache and of `--prices FILE`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceFile {
    /// "bundled table: …", "Pricing API", …: the part before ':' names it in reports.
    pub source: String,
    /// YYYY-MM-DD
    pub as_of: String,
    pub currency: String,
    pub prices: Vec<Price>,
}

/// No NAT-related unit AWS sells costs more (an hour, a GB, an address-hour cost cents): a
/// price above it is a typo or an attack, and would overflow the cost model's sums.
pub const MAX_USD_PER_UNIT: Decimal = dec!(1000);

/// The most units a tier boundary may name (a billion TB in GB): beyond it, not a price list.
const MAX_TIER_UNITS: Decimal = dec!(1_000_000_000_000_000);

impl Price {
    /// A price natcost can compute with: from 0 to `MAX_USD_PER_UNIT`, its tiers too, and each
    /// tier's bounds from 0 to `MAX_TIER_UNITS`, its end not before its begin.
    pub fn check(&self) -> Result<()> {
        let what = || format!("{} in {}", self.usage_type, self.region);
        let in_range = |usd: Decimal| usd >= Decimal::ZERO && usd <= MAX_USD_PER_UNIT;
        if !in_range(self.usd) {
            bail!(
                "price {} USD for {} is outside 0 to {MAX_USD_PER_UNIT} USD per unit",
                self.usd,
                what()
            );
        }
        for t in &self.tiers {
            if !in_range(t.usd) {
                bail!(
                    "tier price {} USD for {} is outside 0 to {MAX_USD_PER_UNIT} USD per unit",
                    t.usd,
                    what()
                );
            }
            let end = t.end.unwrap_or(MAX_TIER_UNITS);
            if t.begin < Decimal::ZERO || end > MAX_TIER_UNITS || end < t.begin {
                bail!(
                    "tier {} to {} of {} is not a range from 0 to {MAX_TIER_UNITS} units",
                    t.begin,
                    end,
                    what()
                );
            }
        }
        Ok(())
    }
}

impl PriceFile {
    pub fn parse(text: &str) -> Result<PriceFile> {
        let file: PriceFile = serde_json::from_str(text).context("price table is not valid")?;
        if file.currency != "USD" {
            bail!("price table currency {} is not USD", file.currency);
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &file.prices {
            p.check()?;
            if !seen.insert((&p.region, &p.usage_type)) {
                bail!(
                    "{} in {} is priced twice: refused, as which one counts would be a guess",
                    p.usage_type,
                    p.region
                );
            }
        }
        Ok(file)
    }

    /// "bundled table of 2026-11-01"
    pub fn label(&self) -> String {
        let kind = self.source.split(':').next().unwrap_or(&self.source);
        format!("{kind} of {}", self.as_of)
    }

    pub fn into_book(self) -> PriceBook {
        let label = self.label();
        PriceBook::from_prices(self.prices.into_iter().map(|mut p| {
            p.origin = label.clone();
            p
        }))
    }
}

#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    prices: BTreeMap<(String, String), Price>,
}

impl PriceBook {
    pub fn bundled() -> PriceBook {
        PriceBook::from_json(BUNDLED).expect("the bundled price table is valid")
    }

    pub fn from_json(text: &str) -> Result<PriceBook> {
        Ok(PriceFile::parse(text)?.into_book())
    }

    pub fn from_prices(prices: impl IntoIterator<Item = Price>) -> PriceBook {
        PriceBook {
            prices: prices
                .into_iter()
                .map(|p| ((p.region.clone(), p.usage_type.clone()), p))
                .collect(),
        }
    }

    /// Adds `other`'s prices, replacing any for the same region and usage type.
    pub fn extend(&mut self, other: PriceBook) {
        self.prices.extend(other.prices);
    }

    /// Only the prices of these regions.
    pub fn for_regions(&self, regions: &[String]) -> PriceBook {
        PriceBook::from_prices(
            self.prices
                .values()
                .filter(|p| regions.contains(&p.region))
                .cloned(),
        )
    }

    /// Where the prices come from: "bundled table of 2026-11-01", or several joined by "; ".
    pub fn label(&self) -> String {
        let origins: std::collections::BTreeSet<&str> =
            self.prices.values().map(|p| p.origin.as_str()).collect();
        origins.into_iter().collect::<Vec<_>>().join("; ")
    }

    /// The billing prefix of a region's usage types: bundled, or as the Pricing API named it
    /// in this book's NAT gateway hour price (a region natcost does not bundle).
    pub fn prefix(&self, region: &str) -> Option<String> {
        if let Some(p) = region_prefix(region) {
            return Some(p.to_string());
        }
        self.prices
            .range((region.to_string(), String::new())..)
            .take_while(|((r, _), _)| r == region)
            .find_map(|((_, usage), _)| {
                let p = usage.strip_suffix("NatGateway-Hours")?;
                match p.strip_suffix('-') {
                    Some(p) if !p.ends_with("Regional") => Some(p.to_string()),
                    None if p.is_empty() => Some(String::new()),
                    _ => None,
                }
            })
    }

    pub fn get(&self, region: &str, item: Item) -> Result<&Price> {
        let usage_type = match self.prefix(region) {
            Some(p) => item.with_prefix(&p),
            None => item.usage_type(region)?,
        };
        self.prices
            .get(&(region.to_string(), usage_type.clone()))
            .with_context(|| {
                if self.has_region(region) {
                    format!(
                        "no price for {usage_type} in {region} in the {}",
                        self.label()
                    )
                } else if is_bundled(region) {
                    format!("no prices for {region} in the {}", self.label())
                } else {
                    format!("no prices for {region}: natcost bundles none for it; price it from the Pricing API (--prices live, with AWS credentials)")
                }
            })
    }

    pub fn usd(&self, region: &str, item: Item) -> Result<Decimal> {
        Ok(self.get(region, item)?.usd)
    }

    /// The date the prices are as of: the oldest of their sources' dates ("bundled table of
    /// 2026-11-01" is as of 2026-11-01, whatever day the report is made), so a report made
    /// from the same snapshot and prices is the same file on any day.
    pub fn as_of(&self) -> Option<NaiveDate> {
        self.prices
            .values()
            .filter_map(|p| {
                let date = p.origin.rsplit(" of ").next()?;
                NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
            })
            .min()
    }

    /// Whether the book has any price for `region`.
    pub fn has_region(&self, region: &str) -> bool {
        self.prices
            .range((region.to_string(), String::new())..)
            .next()
            .is_some_and(|((r, _), _)| r == region)
    }

    pub fn regions(&self) -> Vec<String> {
        let mut r: Vec<String> = self.prices.keys().map(|(r, _)| r.clone()).collect();
        r.dedup();
        r
    }

    pub fn all(&self) -> impl Iterator<Item = &Price> {
        self.prices.values()
    }

    /// The book as a price file dated by [`PriceBook::as_of`] (today when no source names a
    /// date), e.g. to save beside a report so it can be reproduced.
    pub fn to_dated_file(&self, source: &str) -> PriceFile {
        let as_of = self
            .as_of()
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        self.to_file(source, &as_of.to_string())
    }

    /// The book as a price file.
    pub fn to_file(&self, source: &str, as_of: &str) -> PriceFile {
        PriceFile {
            source: source.to_string(),
            as_of: as_of.to_string(),
            currency: "USD".into(),
            prices: self.prices.values().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn usage_types_follow_aws_prefixes() {
        assert_eq!(
            Item::NatHours.usage_type("us-east-1").unwrap(),
            "NatGateway-Hours"
        );
        assert_eq!(
            Item::NatBytes.usage_type("eu-west-1").unwrap(),
            "EU-NatGateway-Bytes"
        );
        assert_eq!(
            Item::PublicIpv4Hours.usage_type("ap-south-1").unwrap(),
            "APS3-PublicIPv4:InUseAddress"
        );
        assert!(crate::regions::codes().all(|r| region_prefix(r).is_some()));
        let err = Item::NatHours.usage_type("xx-nowhere-1").unwrap_err();
        assert!(err.to_string().contains("unknown AWS region"), "{err}");
    }

    #[test]
    fn a_book_is_as_of_its_oldest_source_not_of_today() {
        let bundled = PriceBook::bundled();
        let date = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(bundled.as_of(), Some(date("2026-11-01")));
        assert_eq!(bundled.to_dated_file("x").as_of, "2026-11-01");
        let mut mixed = bundled.clone();
        mixed.extend(PriceBook::from_prices([Price {
            region: "af-south-1".into(),
            usage_type: "AFS1-NatGateway-Hours".into(),
            unit: "Hrs".into(),
            usd: dec!(0.06),
            checked: true,
            description: String::new(),
            tiers: Vec::new(),
            origin: "Pricing API of 2027-02-28".into(),
        }]));
        assert_eq!(mixed.as_of(), Some(date("2026-11-01")));
        assert_eq!(
            mixed.for_regions(&["af-south-1".into()]).as_of(),
            Some(date("2027-02-28"))
        );
        assert_eq!(PriceBook::default().as_of(), None);
    }

    #[test]
    fn bundled_table_has_the_published_prices() {
        let book = PriceBook::bundled();
        assert_eq!(
            book.usd("ap-northeast-2", Item::NatHours).unwrap(),
            dec!(0.059)
        );
        assert_eq!(
            book.usd("ap-northeast-2", Item::NatBytes).unwrap(),
            dec!(0.059)
        );
        assert_eq!(book.usd("us-east-1", Item::NatHours).unwrap(), dec!(0.045));
        assert_eq!(book.usd("eu-west-1", Item::NatBytes).unwrap(), dec!(0.048));
        assert_eq!(book.usd("sa-east-1", Item::NatHours).unwrap(), dec!(0.093));
        assert_eq!(
            book.usd("ap-northeast-2", Item::PublicIpv4Hours).unwrap(),
            dec!(0.005)
        );
        assert_eq!(
            book.usd("ap-northeast-2", Item::EndpointHours).unwrap(),
            dec!(0.013)
        );
        assert_eq!(
            book.usd("ap-northeast-2", Item::InternetEgressBytes)
                .unwrap(),
            dec!(0.126)
        );
        assert_eq!(book.label(), "bundled table of 2026-11-01");
    }

    #[test]
    fn every_bundled_region_prices_every_item() {
        let book = PriceBook::bundled();
        assert_eq!(book.regions().len(), 17);
        for region in book.regions() {
            for item in Item::ALL {
                let p = book.get(&region, item).unwrap();
                assert!(p.usd > Decimal::ZERO, "{region} {item:?}");
            }
        }
    }

    #[test]
    fn missing_price_is_an_error_not_zero() {
        let book = PriceBook::bundled();
        let err = book
            .usd("ap-south-2", Item::NatHours)
            .unwrap_err()
            .to_string();
        assert!(
            err == "no prices for ap-south-2: natcost bundles none for it; price it from the Pricing API (--prices live, with AWS credentials)",
            "{err}"
        );
        // A region the book has, without one of its prices.
        let seoul = book.for_regions(&["ap-northeast-2".into()]);
        let partial = PriceBook::from_prices(
            seoul
                .all()
                .filter(|p| p.usage_type != "APN2-NatGateway-Hours")
                .cloned(),
        );
        let err = partial
            .usd("ap-northeast-2", Item::NatHours)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "no price for APN2-NatGateway-Hours in ap-northeast-2 in the bundled table of "
            ),
            "{err}"
        );
    }
}

/// Arbitrary and mutated price files never panic the loader, and whatever loads is in range.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn mutated_tables_load_in_range_or_are_refused(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut bytes = BUNDLED.as_bytes().to_vec();
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if let Ok(file) = PriceFile::parse(&String::from_utf8_lossy(&bytes)) {
                for p in &file.prices {
                    prop_assert!(p.usd >= Decimal::ZERO && p.usd <= MAX_USD_PER_UNIT);
                }
            }
        }

        #[test]
        fn a_price_loads_exactly_when_in_range(mantissa in any::<i64>(), scale in 0u32..28) {
            let usd = Decimal::new(mantissa, scale);
            let text = format!(
                r#"{{"source":"t","as_of":"2026-11-01","currency":"USD","prices":[{{"region":"us-east-1","usage_type":"NatGateway-Hours","unit":"Hrs","usd":"{usd}"}}]}}"#
            );
            let loaded = PriceFile::parse(&text);
            let in_range = usd >= Decimal::ZERO && usd <= MAX_USD_PER_UNIT;
            prop_assert_eq!(loaded.is_ok(), in_range, "{}", usd);
            if let Ok(f) = loaded {
                prop_assert_eq!(f.prices[0].usd, usd);
            }
        }
    }
}
