//! The bill from Cost Explorer: GetCostAndUsage, MONTHLY, filtered to the NAT-related usage
//! types of the regions and accounts reported: usage records grouped by usage type and linked
//! account, then the other record types (credits, refunds, discounts, tax) grouped by record
//! type and usage type. Each request costs 0.01 USD: natcost asks for every month at once
//! and follows pages only.

use anyhow::{anyhow, Context, Result};
use aws_config::Region;
use aws_sdk_costexplorer::error::SdkError;
use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition,
    GroupDefinitionType,
};
use aws_sdk_costexplorer::Client;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::cur::Adjustment;
use super::Billed;
use crate::aws::calls;
use crate::aws::session::Remote;

/// Pages at most (each request is charged).
const MAX_REQUESTS: u64 = 100;

/// The bill's usage lines and its other records (credits, refunds, discounts, tax).
pub type Lines = (Vec<Billed>, Vec<Adjustment>);

/// What AWS charges per GetCostAndUsage request.
pub const USD_PER_REQUEST: Decimal = rust_decimal_macros::dec!(0.01);

/// The billed lines and adjustments of the report's months, and the requests it took (also
/// when it failed).
pub fn fetch(remote: &Remote, cost: &super::Model<'_>) -> (u64, Result<Lines>) {
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

/// The bill's lines for the report's months: usage records grouped by usage type and account,
/// then every other record type (credits, refunds, discounts, tax) grouped by record type and
/// usage type, as the CUR path reads them.
async fn ask(client: &Client, cost: &super::Model<'_>, requests: &mut u64) -> Result<Lines> {
    let mut usage: Vec<String> = cost
        .regions
        .iter()
        .flat_map(|r| super::usage_types(r))
        .collect();
    usage.sort();
    usage.dedup();
    let accounts: Vec<String> = cost.accounts.iter().map(|a| a.to_string()).collect();
    let usage_records = Expression::builder()
        .and(dimension(Dimension::UsageType, usage.clone()))
        .and(dimension(Dimension::LinkedAccount, accounts.clone()))
        .and(dimension(Dimension::RecordType, vec!["Usage".into()]))
        .build();
    let mut billed = Vec::new();
    for g in groups(
        client,
        cost,
        usage_records,
        ["USAGE_TYPE", "LINKED_ACCOUNT"],
        requests,
    )
    .await?
    {
        let [usage_type, account] = g.keys;
        // Kept even when natcost cannot place it: a bill line is never dropped.
        let region = super::region_of_usage(&usage_type).unwrap_or_else(|| "unknown".into());
        billed.push(Billed {
            month: g.month,
            account_id: account,
            region,
            usage_type,
            resource_id: String::new(),
            quantity: g.quantity,
            cost: g.cost,
        });
    }
    let other_records = Expression::builder()
        .and(dimension(Dimension::UsageType, usage))
        .and(dimension(Dimension::LinkedAccount, accounts))
        .and(
            Expression::builder()
                .not(dimension(Dimension::RecordType, vec!["Usage".into()]))
                .build(),
        )
        .build();
    // Cost Explorer groups by two dimensions at most: the account of an adjustment is the one
    // reported, or all of them.
    let account = match cost.accounts.as_slice() {
        [one] => one.to_string(),
        _ => "reported accounts".to_string(),
    };
    let mut adjustments = Vec::new();
    for g in groups(
        client,
        cost,
        other_records,
        ["RECORD_TYPE", "USAGE_TYPE"],
        requests,
    )
    .await?
    {
        let [record_type, usage_type] = g.keys;
        if g.cost.is_zero() {
            continue;
        }
        adjustments.push(Adjustment {
            month: g.month,
            account_id: account.clone(),
            region: super::region_of_usage(&usage_type).unwrap_or_else(|| "unknown".into()),
            usage_type,
            line_item_type: record_type,
            cost: g.cost,
        });
    }
    Ok((billed, adjustments))
}

/// One group of a GetCostAndUsage answer: its month, its two keys, its cost and quantity.
struct Group {
    month: String,
    keys: [String; 2],
    cost: Decimal,
    quantity: Decimal,
}

/// Every group of a MONTHLY GetCostAndUsage over the report's months, page after page.
async fn groups(
    client: &Client,
    cost: &super::Model<'_>,
    filter: Expression,
    by: [&str; 2],
    requests: &mut u64,
) -> Result<Vec<Group>> {
    let (start, end) = period(cost);
    let host = calls::host("ce", "us-east-1");
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = client
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
            .filter(filter.clone());
        for key in by {
            request = request.group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key(key)
                    .build(),
            );
        }
        let sent = request.set_next_page_token(token.clone()).send().await;
        // A request is billed once AWS has it: not one that never left the machine (offline,
        // refused, timed out before an answer).
        let reached = !matches!(
            &sent,
            Err(SdkError::DispatchFailure(_)
                | SdkError::TimeoutError(_)
                | SdkError::ConstructionFailure(_))
        );
        if reached {
            *requests += 1;
        }
        let page =
            sent.map_err(|e| anyhow!("ce:GetCostAndUsage failed: {}", calls::one_line(&e, &host)))?;
        for period in page.results_by_time() {
            let month = period
                .time_period()
                .map(|t| t.start().get(..7).unwrap_or_default().to_string())
                .unwrap_or_default();
            for g in period.groups() {
                let keys = g.keys();
                let (Some(a), Some(b)) = (keys.first(), keys.get(1)) else {
                    continue;
                };
                let metric = |name: &str| -> Result<Decimal> {
                    g.metrics()
                        .and_then(|m| m.get(name))
                        .and_then(|v| v.amount())
                        .map(|a| {
                            a.parse::<Decimal>()
                                .or_else(|_| Decimal::from_scientific_lossy(a))
                                .ok()
                                .and_then(super::plausible)
                                .ok_or_else(|| anyhow!("{name} {a} is not a number within ±1e15"))
                        })
                        .transpose()
                        .map(Option::unwrap_or_default)
                };
                out.push(Group {
                    month: month.clone(),
                    keys: [a.clone(), b.clone()],
                    cost: metric("UnblendedCost")?,
                    quantity: metric("UsageQuantity")?,
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
