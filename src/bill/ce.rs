//! The bill from Cost Explorer: GetCostAndUsage, MONTHLY, on-demand usage records only,
//! filtered to the NAT-related usage types of the regions and accounts reported, grouped by
//! usage type and linked account. Each request costs 0.01 USD: natcost asks for every month at
//! once and follows pages only.

use anyhow::{anyhow, Context, Result};
use aws_config::Region;
use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition,
    GroupDefinitionType,
};
use aws_sdk_costexplorer::Client;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::Billed;
use crate::aws::calls;
use crate::aws::session::Remote;

/// Pages at most (each request is charged).
const MAX_REQUESTS: u64 = 100;

/// What AWS charges per GetCostAndUsage request.
pub const USD_PER_REQUEST: Decimal = rust_decimal_macros::dec!(0.01);

/// The billed lines of the report's months, and the requests it took (also when it failed).
pub fn fetch(remote: &Remote, cost: &super::Model<'_>) -> (u64, Result<Vec<Billed>>) {
    let conf = aws_sdk_costexplorer::config::Builder::from(&remote.base)
        // Cost Explorer answers in us-east-1 only.
        .region(Region::from_static("us-east-1"))
        .build();
    let client = Client::from_conf(conf);
    let mut requests = 0;
    let result = remote.runtime.block_on(ask(&client, cost, &mut requests));
    (requests, result)
}

fn next_month(d: NaiveDate) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(1)).unwrap_or(d)
}

/// The first day of the window's first month, and the first day after its last.
fn period(cost: &super::Model<'_>) -> (NaiveDate, NaiveDate) {
    let start = cost
        .window
        .start
        .date_naive()
        .with_day(1)
        .unwrap_or_default();
    let last = (cost.window.end - chrono::Duration::seconds(1)).date_naive();
    (start, next_month(last.with_day(1).unwrap_or(last)))
}

fn dimension(key: Dimension, values: Vec<String>) -> Expression {
    Expression::builder()
        .dimensions(
            DimensionValues::builder()
                .key(key)
                .set_values(Some(values))
                .build(),
        )
        .build()
}

async fn ask(client: &Client, cost: &super::Model<'_>, requests: &mut u64) -> Result<Vec<Billed>> {
    let (start, end) = period(cost);
    let mut usage: Vec<String> = cost
        .regions
        .iter()
        .flat_map(|r| super::usage_types(r))
        .collect();
    usage.sort();
    usage.dedup();
    let accounts: Vec<String> = cost.accounts.iter().map(|a| a.to_string()).collect();
    let filter = Expression::builder()
        .and(dimension(Dimension::UsageType, usage))
        .and(dimension(Dimension::LinkedAccount, accounts))
        .and(dimension(Dimension::RecordType, vec!["Usage".into()]))
        .build();
    let host = calls::host("ce", "us-east-1");
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        *requests += 1;
        let page = client
            .get_cost_and_usage()
            .time_period(
                DateInterval::builder()
                    .start(start.to_string())
                    .end(end.to_string())
                    .build()
                    .context("time period")?,
            )
            .granularity(Granularity::Monthly)
            .metrics("UnblendedCost")
            .metrics("UsageQuantity")
            .filter(filter.clone())
            .group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key("USAGE_TYPE")
                    .build(),
            )
            .group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key("LINKED_ACCOUNT")
                    .build(),
            )
            .set_next_page_token(token.clone())
            .send()
            .await
            .map_err(|e| anyhow!("ce:GetCostAndUsage failed: {}", calls::one_line(&e, &host)))?;
        for period in page.results_by_time() {
            let month = period
                .time_period()
                .map(|t| t.start().get(..7).unwrap_or_default().to_string())
                .unwrap_or_default();
            for g in period.groups() {
                let keys = g.keys();
                let (Some(usage_type), Some(account)) = (keys.first(), keys.get(1)) else {
                    continue;
                };
                let metric = |name: &str| -> Result<Decimal> {
                    g.metrics()
                        .and_then(|m| m.get(name))
                        .and_then(|v| v.amount())
                        .map(|a| {
                            a.parse::<Decimal>()
                                .or_else(|_| Decimal::from_scientific_lossy(a))
                                .map_err(|_| anyhow!("{name} {a} is not a number"))
                        })
                        .transpose()
                        .map(Option::unwrap_or_default)
                };
                // Kept even when natcost cannot place it: a bill line is never dropped.
                let region = super::region_of_usage(usage_type).unwrap_or_else(|| "unknown".into());
                out.push(Billed {
                    month: month.clone(),
                    account_id: account.clone(),
                    region,
                    usage_type: usage_type.clone(),
                    resource_id: String::new(),
                    quantity: metric("UsageQuantity")?,
                    cost: metric("UnblendedCost")?,
                });
            }
        }
        let next = page.next_page_token().map(str::to_string);
        if next.is_some() && next == token {
            anyhow::bail!("Cost Explorer gave the same page token twice");
        }
        if *requests >= MAX_REQUESTS && next.is_some() {
            anyhow::bail!("more than {MAX_REQUESTS} pages: stopped (each costs 0.01 USD)");
        }
        token = next;
        if token.is_none() {
            return Ok(out);
        }
    }
}
