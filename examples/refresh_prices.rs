//! Maintainers: regenerates `data/prices.json` from the AWS Pricing API for every commercial
//! region natcost knows (those in `src/regions.rs`'s NO_PREFIX list too), with today's date.
//! Needs AWS credentials (any account: the Pricing API is free and read-only;
//! pricing:GetProducts).
//!
//!     cargo run --example refresh_prices [-- OUTPUT]
//!
//! Regions the API has no NAT gateway price for are left out and listed on stderr. For a region
//! of the NO_PREFIX list it prints the billing prefix the API names, to move the region into
//! REGIONS; for the others it checks that the API uses the prefix REGIONS holds.

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region};
use natcost::live_prices as live;
use natcost::PriceBook;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/prices.json".into());
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .load()
        .await;
    let client = aws_sdk_pricing::Client::new(&config);
    let today = chrono::Utc::now().date_naive().to_string();
    let origin = format!("Pricing API of {today}");
    let mut book = PriceBook::default();
    for region in natcost::all_region_codes() {
        match live::fetch_region(&client, &natcost::Calls::default(), region, &origin).await {
            Ok(prices) => {
                eprintln!("{region}: {} prices", prices.len());
                let fetched = PriceBook::from_prices(prices);
                match natcost::region_prefix(region) {
                    None => eprintln!(
                        "{region}: move it into REGIONS in src/regions.rs with prefix {:?}",
                        fetched.prefix(region).unwrap_or_default()
                    ),
                    Some(p) => {
                        let hours = match p {
                            "" => "NatGateway-Hours".to_string(),
                            p => format!("{p}-NatGateway-Hours"),
                        };
                        if !fetched.all().any(|x| x.usage_type == hours) {
                            eprintln!("{region}: the API names no {hours}: check its prefix in REGIONS in src/regions.rs");
                        }
                    }
                }
                book.extend(fetched);
            }
            Err(e) => eprintln!("{region}: left out: {e:#}"),
        }
    }
    let file = book.to_file(
        "Pricing API: AWS Price List GetProducts (AmazonEC2, AmazonVPC, AWSDataTransfer)",
        &today,
    );
    let text = serde_json::to_string_pretty(&file)? + "\n";
    std::fs::write(&out, text).with_context(|| format!("cannot write {out}"))?;
    eprintln!("wrote {out}");
    Ok(())
}
