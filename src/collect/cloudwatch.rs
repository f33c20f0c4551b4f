//! CloudWatch GetMetricData for the AWS/NATGateway metrics at a 1-hour period, batched to
//! the API's limits. Kept behind this module so the SDK version pin can move on its own.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_cloudwatch::primitives::DateTime as SmithyTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_sdk_cloudwatch::Client;
use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{smithy_time, Tolerate};
use crate::aws::calls::{all_pages, Calls, Failure};
use crate::snapshot::{
    MetricSeries, Metrics, RegionSnapshot, Window, BUSIEST_MINUTE, DATAPOINTS_PER_HOUR, NAT_METRICS,
};

/// GetMetricData limits: queries per call, and datapoints per call.
pub const MAX_QUERIES: usize = 500;
pub const MAX_DATAPOINTS: usize = 100_800;
const HOUR: i64 = 3600;
const MINUTE: i64 = 60;
/// How long CloudWatch keeps 1-minute datapoints.
const MINUTE_DATA_DAYS: i64 = 15;

/// How many queries fit in one call for this many datapoints each.
pub fn queries_per_call(points: usize) -> usize {
    (MAX_DATAPOINTS / points.max(1)).clamp(1, MAX_QUERIES)
}

/// One wanted series: where (namespace and dimension), resource (NAT gateway or function),
/// metric, statistic. Queries of several namespaces go in the same GetMetricData batches.
type Wanted<'a> = (Source, String, &'a str, &'a str);

/// Metrics every NAT gateway publishes while it exists (ActiveConnectionCount even with no
/// traffic): listing these two finds every NAT gateway with recent data in one or two pages
/// per 500, where listing the namespace would take 14 times as many.
const LISTED: [&str; 2] = ["ActiveConnectionCount", "BytesOutToDestination"];

/// The NAT gateways CloudWatch lists metrics for (both [`LISTED`] metrics, at once): asked
/// with DescribeNatGateways, as a region with neither needs nothing else read.
pub async fn listed_nats(
    client: &Client,
    calls: &Calls,
    region: &str,
) -> Result<BTreeSet<String>, Failure> {
    let list = |metric: &'static str| {
        all_pages(
            calls,
            region,
            "cloudwatch:ListMetrics",
            client
                .list_metrics()
                .namespace(NAT.0)
                .metric_name(metric)
                .into_paginator()
                .send(),
        )
    };
    let pages = match tokio::join!(list(LISTED[0]), list(LISTED[1])) {
        (Ok(first), Ok(second)) => [first, second],
        // A failure stops the collection before a denial is merely recorded.
        (Err(e @ Failure::Fatal(_)), _) | (_, Err(e @ Failure::Fatal(_))) => return Err(e),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let mut ids = BTreeSet::new();
    for page in pages.iter().flatten() {
        for m in page.metrics() {
            let id = m
                .dimensions()
                .iter()
                .find(|d| d.name() == Some(NAT.1))
                .and_then(|d| d.value());
            if let Some(id) = id {
                ids.insert(id.to_string());
            }
        }
    }
    Ok(ids)
}

/// NAT gateways CloudWatch has metrics for (`listed`, from [`listed_nats`]) but
/// DescribeNatGateways no longer returns: deleted before collection. Added as `deleted`, found
/// by `cloudwatch:ListMetrics`; [`collect`] then reads their metrics and [`settle_deleted`]
/// dates them. ListMetrics lists a metric only for 14 days after its last datapoint, so a NAT
/// gateway deleted earlier is not found.
pub fn add_deleted(
    r: &mut RegionSnapshot,
    listed: Result<BTreeSet<String>, Failure>,
) -> Result<()> {
    // Without the NAT gateways AWS still lists, every one would look deleted: ListMetrics's
    // answer is not used, whatever it was.
    if r.not_collected
        .iter()
        .any(|n| n.what == "ec2:DescribeNatGateways")
    {
        return Ok(());
    }
    let listed = listed
        .map(|ids| vec![ids])
        .tolerate("cloudwatch:ListMetrics", &mut r.not_collected)?;
    let known: std::collections::HashSet<&str> = r
        .nat_gateways
        .iter()
        .map(|n| n.nat_gateway_id.as_str())
        .collect();
    let found: Vec<String> = listed
        .into_iter()
        .flatten()
        .filter(|id| !known.contains(id.as_str()))
        .collect();
    for id in found {
        r.nat_gateways.push(crate::snapshot::NatGateway {
            nat_gateway_id: id,
            state: "deleted".into(),
            connectivity_type: "unknown".into(),
            found_by: Some("cloudwatch:ListMetrics".into()),
            ..Default::default()
        });
    }
    Ok(())
}

/// Dates the NAT gateways [`find_deleted`] found from their metrics: created at the start of
/// their first hour with a datapoint, deleted at the end of their last. One with no datapoint
/// in the window is dropped: nothing of it is billed in the window.
pub fn settle_deleted(r: &mut RegionSnapshot, window: Window) {
    let mut span: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for m in &r.metrics {
        let hours = m.values.iter().enumerate().filter(|(_, v)| v.is_some());
        for (i, _) in hours {
            let e = span.entry(m.nat_gateway_id.clone()).or_insert((i, i));
            e.0 = e.0.min(i);
            e.1 = e.1.max(i);
        }
    }
    let mut dropped = std::collections::HashSet::new();
    for n in r.nat_gateways.iter_mut().filter(|n| n.found_by.is_some()) {
        match span.get(&n.nat_gateway_id) {
            Some(&(first, last)) => {
                n.create_time = window.start + Duration::hours(first as i64);
                n.delete_time = Some(window.start + Duration::hours(last as i64 + 1));
            }
            None => {
                dropped.insert(n.nat_gateway_id.clone());
            }
        }
    }
    r.nat_gateways
        .retain(|n| !dropped.contains(&n.nat_gateway_id));
    r.metrics.retain(|m| !dropped.contains(&m.nat_gateway_id));
}

pub async fn collect(
    client: &Client,
    calls: &Calls,
    r: &mut RegionSnapshot,
    window: Window,
) -> Result<()> {
    let mut wanted: Vec<Wanted> = Vec::new();
    for nat in &r.nat_gateways {
        for (metric, stat) in NAT_METRICS {
            wanted.push((NAT, nat.nat_gateway_id.clone(), metric, stat));
        }
    }
    let series = fetch(client, calls, r, &wanted, window.start, window.end, HOUR).await?;
    for ((_, nat, metric, stat), values) in wanted.into_iter().zip(series) {
        if let Some(values) = values {
            r.metrics.push(MetricSeries {
                nat_gateway_id: nat,
                metric_name: metric.to_string(),
                statistic: stat.to_string(),
                period_seconds: HOUR as u32,
                values: values.into(),
            });
        }
    }
    busiest_minutes(client, calls, r, window).await
}

/// Where SampleCount shows more than one datapoint a minute, the hourly Maximum is not a
/// minute's bytes: read 1-minute Sums for the part of the window CloudWatch still keeps.
async fn busiest_minutes(
    client: &Client,
    calls: &Calls,
    r: &mut RegionSnapshot,
    window: Window,
) -> Result<()> {
    let metrics = Metrics::new(r);
    let dense: Vec<String> = r
        .nat_gateways
        .iter()
        .map(|n| n.nat_gateway_id.as_str())
        .filter(|id| {
            metrics
                .stat(id, "BytesInFromSource", "SampleCount")
                .is_some_and(|s| s.values.iter().flatten().any(|n| n > DATAPOINTS_PER_HOUR))
        })
        .map(str::to_string)
        .collect();
    if dense.is_empty() {
        return Ok(());
    }
    // CloudWatch keeps 1-minute data 15 days back from now (not from the window's end), and
    // returns nothing for a 60 s period that starts earlier.
    let kept_from = (Utc::now() - Duration::days(MINUTE_DATA_DAYS))
        .duration_trunc(Duration::hours(1))
        .map(|t| t + Duration::hours(1))
        .unwrap_or(window.end);
    let start = window.start.max(kept_from);
    if start >= window.end {
        return Ok(());
    }
    let wanted: Vec<Wanted> = dense
        .iter()
        .flat_map(|id| {
            ["BytesInFromSource", "BytesInFromDestination"].map(|m| (NAT, id.clone(), m, "Sum"))
        })
        .collect();
    let minutes = fetch(client, calls, r, &wanted, start, window.end, MINUTE).await?;
    let hours = window.hours() as usize;
    let first_hour = (start - window.start).num_hours() as usize;
    for (id, pair) in dense.into_iter().zip(minutes.chunks(2)) {
        let (Some(src), Some(dst)) = (&pair[0], &pair[1]) else {
            continue;
        };
        let values = busiest_minute_of_each_hour(src, dst, first_hour, hours);
        if values.iter().all(Option::is_none) {
            continue;
        }
        r.metrics.push(MetricSeries {
            nat_gateway_id: id,
            metric_name: BUSIEST_MINUTE.0.to_string(),
            statistic: BUSIEST_MINUTE.1.to_string(),
            period_seconds: HOUR as u32,
            values: values.into(),
        });
    }
    Ok(())
}

/// Each hour's largest 1-minute sum of two per-minute series that start `first_hour` hours
/// into a window of `hours` hours; None for an hour with no datapoint.
fn busiest_minute_of_each_hour(
    src: &[Option<f64>],
    dst: &[Option<f64>],
    first_hour: usize,
    hours: usize,
) -> Vec<Option<f64>> {
    let mut values = vec![None; hours];
    for (m, (a, b)) in src.iter().zip(dst).enumerate() {
        if a.is_none() && b.is_none() {
            continue;
        }
        let bytes = a.unwrap_or(0.0) + b.unwrap_or(0.0);
        if let Some(slot) = values.get_mut(first_hour + m / 60) {
            *slot = Some(slot.map_or(bytes, |v: f64| v.max(bytes)));
        }
    }
    values
}

/// Where a query's metric lives: namespace and the dimension naming the resource.
type Source = (&'static str, &'static str);
const NAT: Source = ("AWS/NATGateway", "NatGatewayId");
const LAMBDA: Source = ("AWS/Lambda", "FunctionName");
/// Lambda Insights (when enabled on a function) publishes its network bytes here.
const INSIGHTS: Source = ("LambdaInsights", "function_name");

/// Each VPC function's Duration and Invocations summed over the window (what a shared Lambda
/// ENI's bytes are split by) and, where Lambda Insights is on, its rx_bytes + tx_bytes (what
/// cost allocation splits a NAT gateway's bytes by), in the same batched GetMetricData.
pub async fn lambda_totals(
    client: &Client,
    calls: &Calls,
    r: &mut RegionSnapshot,
    window: Window,
) -> Result<()> {
    let names: Vec<String> = r
        .lambda_functions
        .iter()
        .filter(|f| f.vpc_config.is_some())
        .map(|f| f.function_name.clone())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let wanted: Vec<Wanted> = names
        .iter()
        .flat_map(|n| {
            [
                (LAMBDA, n.clone(), "Duration", "Sum"),
                (LAMBDA, n.clone(), "Invocations", "Sum"),
                (INSIGHTS, n.clone(), "rx_bytes", "Sum"),
                (INSIGHTS, n.clone(), "tx_bytes", "Sum"),
            ]
        })
        .collect();
    let series = fetch(client, calls, r, &wanted, window.start, window.end, HOUR).await?;
    let total = |v: &Option<Vec<Option<f64>>>| v.as_ref().map(|v| v.iter().flatten().sum::<f64>());
    // Insights is on only where it published a datapoint: an empty answer is "not enabled".
    let published =
        |v: &Option<Vec<Option<f64>>>| v.as_ref().is_some_and(|v| v.iter().any(Option::is_some));
    // `names` are the VPC functions in order: the i-th of them asked queries 4i to 4i + 3.
    let vpc_functions = r
        .lambda_functions
        .iter_mut()
        .filter(|f| f.vpc_config.is_some());
    for (i, f) in vpc_functions.enumerate() {
        f.duration_ms = total(&series[4 * i]);
        f.duration_ms_by_day = by_day(&series[4 * i], window.start);
        f.invocations = total(&series[4 * i + 1]);
        let (rx, tx) = (&series[4 * i + 2], &series[4 * i + 3]);
        f.insights_bytes = (published(rx) || published(tx))
            .then(|| total(rx).unwrap_or(0.0) + total(tx).unwrap_or(0.0));
    }
    Ok(())
}

/// An hourly series from `start` summed by UTC day, for the days with datapoints.
fn by_day(
    v: &Option<Vec<Option<f64>>>,
    start: DateTime<Utc>,
) -> std::collections::BTreeMap<chrono::NaiveDate, f64> {
    let mut out = std::collections::BTreeMap::new();
    for (i, x) in v.iter().flatten().enumerate() {
        if let Some(x) = x {
            let day = (start + Duration::hours(i as i64)).date_naive();
            *out.entry(day).or_default() += x;
        }
    }
    out
}

/// Runs the queries over `[start, end)` at `period` seconds, batched to the API's limits.
/// Each query's datapoints come back dense on the period grid; None: CloudWatch returned no
/// result for that query at all.
async fn fetch(
    client: &Client,
    calls: &Calls,
    r: &mut RegionSnapshot,
    wanted: &[Wanted<'_>],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    period: i64,
) -> Result<Vec<Option<Vec<Option<f64>>>>> {
    let points = ((end - start).num_seconds() / period) as usize;
    let queries: Vec<MetricDataQuery> = wanted
        .iter()
        .enumerate()
        .map(|(i, (source, resource, metric, stat))| {
            let m = Metric::builder()
                .namespace(source.0)
                .metric_name(*metric)
                .dimensions(Dimension::builder().name(source.1).value(resource).build())
                .build();
            MetricDataQuery::builder()
                .id(format!("m{i}"))
                .metric_stat(
                    MetricStat::builder()
                        .metric(m)
                        .period(period as i32)
                        .stat(*stat)
                        .build(),
                )
                .return_data(true)
                .build()
        })
        .collect();
    let mut values: BTreeMap<usize, Vec<Option<f64>>> = BTreeMap::new();
    for batch in queries.chunks(queries_per_call(points)) {
        let pages = client
            .get_metric_data()
            .set_metric_data_queries(Some(batch.to_vec()))
            .start_time(SmithyTime::from_secs(start.timestamp()))
            .end_time(SmithyTime::from_secs(end.timestamp()))
            .scan_by(ScanBy::TimestampAscending)
            .into_paginator()
            .send();
        let pages = all_pages(calls, &r.region, "cloudwatch:GetMetricData", pages)
            .await
            .tolerate("cloudwatch:GetMetricData", &mut r.not_collected)?;
        for page in pages {
            for result in page.metric_data_results() {
                let Some(i) = result
                    .id()
                    .and_then(|id| id.strip_prefix('m'))
                    .and_then(|n| n.parse().ok())
                else {
                    continue;
                };
                let series = values.entry(i).or_insert_with(|| vec![None; points]);
                for (t, v) in result.timestamps().iter().zip(result.values()) {
                    let Some(t) = smithy_time(t) else { continue };
                    let slot = (t - start).num_seconds().div_euclid(period);
                    if (0..points as i64).contains(&slot) {
                        series[slot as usize] = Some(*v);
                    }
                }
            }
        }
    }
    Ok((0..wanted.len()).map(|i| values.remove(&i)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_both_limits() {
        assert_eq!(queries_per_call(24), 500);
        assert_eq!(queries_per_call(720), 140);
        assert_eq!(queries_per_call(744), 135);
        assert_eq!(queries_per_call(455 * 24), 9);
        // 15 days of 1-minute datapoints
        assert_eq!(queries_per_call(15 * 24 * 60), 4);
    }

    #[test]
    fn minute_sums_add_both_directions_and_keep_each_hours_largest() {
        // Two hours of minutes, starting 3 hours into a 5-hour window.
        let mut src = vec![None; 120];
        let mut dst = vec![None; 120];
        src[0] = Some(10.0);
        dst[0] = Some(5.0); // minute 0: 15
        src[59] = Some(20.0); // minute 59: 20, the first hour's largest
        dst[60] = Some(7.0); // minute 60: 7, in the second hour
        src[61] = Some(1.0);
        dst[61] = Some(2.0); // minute 61: 3
        let v = busiest_minute_of_each_hour(&src, &dst, 3, 5);
        assert_eq!(v, [None, None, None, Some(20.0), Some(7.0)]);
        // Minutes past the window's end are dropped, not a panic.
        assert_eq!(busiest_minute_of_each_hour(&src, &dst, 4, 5)[4], Some(20.0));
    }
}
