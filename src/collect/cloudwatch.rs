//! CloudWatch GetMetricData for the AWS/NATGateway metrics at a 1-hour period, batched to
//! the API's limits. Kept behind this module so the SDK version pin can move on its own.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_cloudwatch::primitives::DateTime as SmithyTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_sdk_cloudwatch::Client;

use super::calls::{all_pages, Calls};
use super::{smithy_time, Tolerate};
use crate::snapshot::{MetricSeries, RegionSnapshot, Window, NAT_METRICS};

/// GetMetricData limits: queries per call, and datapoints per call.
pub const MAX_QUERIES: usize = 500;
pub const MAX_DATAPOINTS: usize = 100_800;
const PERIOD: i32 = 3600;

/// How many hourly queries fit in one call for a window of this many hours.
pub fn queries_per_call(hours: usize) -> usize {
    (MAX_DATAPOINTS / hours.max(1)).clamp(1, MAX_QUERIES)
}

pub async fn collect(
    client: &Client,
    calls: &Calls,
    r: &mut RegionSnapshot,
    window: Window,
) -> Result<()> {
    let hours = window.hours() as usize;
    let mut wanted: Vec<(String, &str, &str)> = Vec::new();
    for nat in &r.nat_gateways {
        for (metric, stat) in NAT_METRICS {
            wanted.push((nat.nat_gateway_id.clone(), metric, stat));
        }
    }
    let queries: Vec<MetricDataQuery> = wanted
        .iter()
        .enumerate()
        .map(|(i, (nat, metric, stat))| {
            let m = Metric::builder()
                .namespace("AWS/NATGateway")
                .metric_name(*metric)
                .dimensions(Dimension::builder().name("NatGatewayId").value(nat).build())
                .build();
            MetricDataQuery::builder()
                .id(format!("m{i}"))
                .metric_stat(
                    MetricStat::builder()
                        .metric(m)
                        .period(PERIOD)
                        .stat(*stat)
                        .build(),
                )
                .return_data(true)
                .build()
        })
        .collect();
    let mut values: BTreeMap<usize, Vec<Option<f64>>> = BTreeMap::new();
    let start = SmithyTime::from_secs(window.start.timestamp());
    let end = SmithyTime::from_secs(window.end.timestamp());
    for batch in queries.chunks(queries_per_call(hours)) {
        let pages = client
            .get_metric_data()
            .set_metric_data_queries(Some(batch.to_vec()))
            .start_time(start)
            .end_time(end)
            .scan_by(ScanBy::TimestampAscending)
            .into_paginator()
            .send();
        let pages = all_pages(calls, "cloudwatch:GetMetricData", pages)
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
                let series = values.entry(i).or_insert_with(|| vec![None; hours]);
                for (t, v) in result.timestamps().iter().zip(result.values()) {
                    let Some(t) = smithy_time(t) else { continue };
                    let h = (t - window.start).num_hours();
                    if (0..hours as i64).contains(&h) {
                        series[h as usize] = Some(*v);
                    }
                }
            }
        }
    }
    for (i, (nat, metric, stat)) in wanted.into_iter().enumerate() {
        if let Some(v) = values.remove(&i) {
            r.metrics.push(MetricSeries {
                nat_gateway_id: nat,
                metric_name: metric.to_string(),
                statistic: stat.to_string(),
                period_seconds: PERIOD as u32,
                values: v,
            });
        }
    }
    Ok(())
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
    }
}
