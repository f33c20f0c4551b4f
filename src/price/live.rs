//! Prices from the AWS Pricing API (GetProducts): exactly the usage types natcost needs, in
//! the regions being reported. Each PriceList entry is a JSON string.

use crate::aws::calls::{host, one_line, Calls};
use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_pricing::types::{Filter, FilterType};
use aws_sdk_pricing::Client;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;

use super::book::{Price, Tier};

/// One product of a GetProducts answer, reduced to what a price book needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub region_code: String,
    pub usage_type: String,
    pub unit: String,
    pub description: String,
    pub tiers: Vec<Tier>,
}

#[derive(Deserialize)]
struct RawItem {
    product: RawProduct,
    terms: BTreeMap<String, BTreeMap<String, RawTerm>>,
}

#[derive(Deserialize)]
struct RawProduct {
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTerm {
    price_dimensions: BTreeMap<String, RawDimension>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDimension {
    unit: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    begin_range: Option<String>,
    #[serde(default)]
    end_range: Option<String>,
    price_per_unit: BTreeMap<String, String>,
}

/// Parses one PriceList entry (a JSON document in a string): its on-demand price tiers.
pub fn parse_product(text: &str) -> Result<Product> {
    let raw: RawItem =
        serde_json::from_str(text).context("PriceList entry is not the JSON AWS documents")?;
    let attr = |k: &str| raw.product.attributes.get(k).cloned().unwrap_or_default();
    let usage_type = attr("usagetype");
    let on_demand = raw
        .terms
        .get("OnDemand")
        .and_then(|t| t.values().next())
        .with_context(|| format!("{usage_type}: no on-demand terms"))?;
    let mut tiers = Vec::new();
    let mut unit = String::new();
    let mut description = String::new();
    for d in on_demand.price_dimensions.values() {
        let usd = d
            .price_per_unit
            .get("USD")
            .with_context(|| format!("{usage_type}: no USD price"))?;
        let begin = d.begin_range.as_deref().unwrap_or("0");
        tiers.push(Tier {
            begin: Decimal::from_str(begin)
                .with_context(|| format!("{usage_type}: beginRange {begin:?}"))?,
            end: match d.end_range.as_deref() {
                None | Some("Inf") => None,
                Some(e) => Some(
                    Decimal::from_str(e)
                        .with_context(|| format!("{usage_type}: endRange {e:?}"))?,
                ),
            },
            usd: Decimal::from_str(usd)
                .with_context(|| format!("{usage_type}: price {usd:?}"))?
                .normalize(),
        });
        unit = d.unit.clone();
        description = d.description.clone();
    }
    if tiers.is_empty() {
        bail!("{usage_type}: no price dimensions");
    }
    tiers.sort_by_key(|t| t.begin);
    Ok(Product {
        region_code: attr("regionCode"),
        usage_type,
        unit,
        description,
        tiers,
    })
}

/// The price a per-unit comparison uses: the first tier that is not free. None when every
/// tier is free: such a product is no price at all, never a 0 that looks checked.
pub fn first_paid(tiers: &[Tier]) -> Option<Decimal> {
    tiers.iter().map(|t| t.usd).find(|p| *p > Decimal::ZERO)
}

fn term(field: &str, value: &str) -> Filter {
    Filter::builder()
        .r#type(FilterType::TermMatch)
        .field(field)
        .value(value)
        .build()
        .expect("type, field and value are set")
}

async fn products(
    client: &Client,
    calls: &Calls,
    service: &str,
    filters: Vec<Filter>,
) -> Result<Vec<Product>> {
    let mut pages = client
        .get_products()
        .service_code(service)
        .set_filters(Some(filters))
        .format_version("aws_v1")
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        calls.add("pricing:GetProducts");
        let page = page.map_err(|e| {
            let region = client
                .config()
                .region()
                .map(|r| r.to_string())
                .unwrap_or_default();
            anyhow!("{}", one_line(&e, &host("pricing", &region)))
        })?;
        for item in page.price_list() {
            out.push(parse_product(item)?);
        }
    }
    Ok(out)
}

/// What natcost asks for besides the NAT gateway family: service code, usage type suffix
/// (after the region's prefix), and extra attribute filters.
struct Wanted {
    service: &'static str,
    suffix: &'static str,
    filters: &'static [(&'static str, &'static str)],
}

const OTHERS: &[Wanted] = &[
    Wanted {
        service: "AmazonVPC",
        suffix: "PublicIPv4:InUseAddress",
        filters: &[],
    },
    Wanted {
        service: "AmazonVPC",
        suffix: "VpcEndpoint-Hours",
        filters: &[],
    },
    Wanted {
        service: "AmazonVPC",
        suffix: "VpcEndpoint-Bytes",
        filters: &[],
    },
    Wanted {
        service: "AmazonVPC",
        suffix: "TransitGateway-Hours",
        filters: &[],
    },
    Wanted {
        service: "AmazonVPC",
        suffix: "TransitGateway-Bytes",
        filters: &[],
    },
    Wanted {
        service: "AWSDataTransfer",
        suffix: "DataTransfer-Regional-Bytes",
        filters: &[],
    },
    Wanted {
        service: "AWSDataTransfer",
        suffix: "DataTransfer-Out-Bytes",
        filters: &[],
    },
    Wanted {
        service: "AmazonEC2",
        suffix: "BoxUsage:t4g.nano",
        filters: &[
            ("operatingSystem", "Linux"),
            ("tenancy", "Shared"),
            ("preInstalledSw", "NA"),
            ("capacitystatus", "Used"),
        ],
    },
    Wanted {
        service: "AmazonEC2",
        suffix: "EBS:VolumeUsage.gp3",
        filters: &[],
    },
];

/// The product's price, or None when it has no paid tier (the caller then fills the usage
/// type from the bundled table and says so).
fn price_of(region: &str, p: &Product, origin: &str) -> Option<Price> {
    Some(Price {
        region: region.to_string(),
        usage_type: p.usage_type.clone(),
        unit: p.unit.clone(),
        usd: first_paid(&p.tiers)?,
        checked: true,
        description: p.description.clone(),
        tiers: if p.tiers.len() > 1 {
            p.tiers.clone()
        } else {
            Vec::new()
        },
        origin: origin.to_string(),
    })
}

/// Every price natcost uses in one region that the API has. The region's usage type prefix is
/// read from the NAT gateway products the API returns for its regionCode, never guessed.
pub async fn fetch_region(
    client: &Client,
    calls: &Calls,
    region: &str,
    origin: &str,
) -> Result<Vec<Price>> {
    let nat = products(
        client,
        calls,
        "AmazonEC2",
        vec![
            term("regionCode", region),
            term("productFamily", "NAT Gateway"),
        ],
    )
    .await?;
    let nat: Vec<&Product> = nat.iter().filter(|p| p.region_code == region).collect();
    // `RegionalNatGateway-Hours` also ends in `NatGateway-Hours`: match the whole suffix.
    let hours = nat
        .iter()
        .find(|p| is_usage(&p.usage_type, "NatGateway-Hours"))
        .with_context(|| format!("the Pricing API has no NAT gateway price for {region}"))?;
    let prefix = hours
        .usage_type
        .strip_suffix("NatGateway-Hours")
        .unwrap_or_default()
        .to_string();
    let mut out: Vec<Price> = nat
        .iter()
        .filter_map(|p| price_of(region, p, origin))
        .collect();
    for p in &out {
        p.check().context("the Pricing API's answer")?;
    }
    for suffix in ["NatGateway-Hours", "NatGateway-Bytes"] {
        if !out
            .iter()
            .any(|p| p.usage_type == format!("{prefix}{suffix}"))
        {
            bail!("the Pricing API has no paid {prefix}{suffix} price for {region}");
        }
    }
    for w in OTHERS {
        let usage = format!("{prefix}{}", w.suffix);
        let mut filters = vec![term("regionCode", region), term("usagetype", &usage)];
        filters.extend(w.filters.iter().map(|(f, v)| term(f, v)));
        let found = products(client, calls, w.service, filters).await?;
        // A usage type the API lacks is filled in (and said) by the caller.
        if let Some(p) = found
            .iter()
            .find(|p| p.usage_type == usage)
            .and_then(|p| price_of(region, p, origin))
        {
            p.check().context("the Pricing API's answer")?;
            out.push(p);
        }
    }
    Ok(out)
}

/// `usage` is `suffix` itself, or `suffix` after a region prefix and a dash.
fn is_usage(usage: &str, suffix: &str) -> bool {
    usage == suffix
        || usage
            .strip_suffix(suffix)
            .is_some_and(|p| p.ends_with('-') && !p[..p.len() - 1].contains('-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    pub(crate) fn item(
        region: &str,
        usage: &str,
        unit: &str,
        tiers: &[(&str, &str, &str)],
    ) -> String {
        let dims: serde_json::Map<String, serde_json::Value> = tiers
            .iter()
            .enumerate()
            .map(|(i, (begin, end, usd))| {
                (
                    format!("SKU.TERM.DIM{i}"),
                    serde_json::json!({
                        "unit": unit, "endRange": end, "beginRange": begin, "appliesTo": [],
                        "rateCode": format!("SKU.TERM.DIM{i}"),
                        "description": format!("${usd} per {unit} for {usage}"),
                        "pricePerUnit": {"USD": usd}
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "product": {"productFamily": "NAT Gateway", "attributes": {"regionCode": region, "usagetype": usage, "servicecode": "AmazonEC2", "operation": "NatGateway"}, "sku": "SKU"},
            "serviceCode": "AmazonEC2",
            "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions": dims, "sku": "SKU", "effectiveDate": "2026-10-01T00:00:00Z", "offerTermCode": "TERM", "termAttributes": {}}}},
            "version": "20261001000000",
            "publicationDate": "2026-10-01T00:00:00Z"
        })
        .to_string()
    }

    #[test]
    fn parses_a_price_list_entry() {
        let p = parse_product(&item(
            "ap-northeast-2",
            "APN2-NatGateway-Hours",
            "Hrs",
            &[("0", "Inf", "0.0590000000")],
        ))
        .unwrap();
        assert_eq!(p.usage_type, "APN2-NatGateway-Hours");
        assert_eq!(p.region_code, "ap-northeast-2");
        assert_eq!(p.unit, "Hrs");
        assert_eq!(first_paid(&p.tiers), Some(dec!(0.059)));
    }

    #[test]
    fn tiers_are_ordered_and_the_first_paid_one_is_used() {
        let p = parse_product(&item(
            "ap-northeast-2",
            "APN2-DataTransfer-Out-Bytes",
            "GB",
            &[
                ("10240", "51200", "0.1220000000"),
                ("0", "100", "0.0000000000"),
                ("100", "10240", "0.1260000000"),
                ("51200", "Inf", "0.1170000000"),
            ],
        ))
        .unwrap();
        assert_eq!(p.tiers.len(), 4);
        assert_eq!(p.tiers[0].begin, dec!(0));
        assert_eq!(p.tiers[3].end, None);
        assert_eq!(first_paid(&p.tiers), Some(dec!(0.126)));
    }

    #[test]
    fn a_product_without_a_paid_tier_is_no_price() {
        let p = parse_product(&item(
            "ap-northeast-2",
            "APN2-VpcEndpoint-Bytes",
            "GB",
            &[("0", "Inf", "0.0000000000")],
        ))
        .unwrap();
        assert_eq!(first_paid(&p.tiers), None);
        assert!(price_of("ap-northeast-2", &p, "Pricing API").is_none());
    }

    #[test]
    fn regional_nat_gateway_is_not_a_nat_gateway_hour() {
        assert!(is_usage("APN2-NatGateway-Hours", "NatGateway-Hours"));
        assert!(is_usage("NatGateway-Hours", "NatGateway-Hours"));
        assert!(!is_usage(
            "APN2-RegionalNatGateway-Hours",
            "NatGateway-Hours"
        ));
        assert!(!is_usage("RegionalNatGateway-Hours", "NatGateway-Hours"));
    }

    #[test]
    fn malformed_entries_are_errors() {
        assert!(parse_product("{}").is_err());
        assert!(parse_product("not json").is_err());
        let no_usd = item("us-east-1", "NatGateway-Hours", "Hrs", &[("0", "Inf", "x")]);
        assert!(parse_product(&no_usd).is_err());
    }
}
