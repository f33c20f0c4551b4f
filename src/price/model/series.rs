//! The metric series the cost model reads for one NAT gateway, and what it reads off them:
//! bytes processed and crossing AZs, connections, the busiest minute, AWS's idle rule.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use super::{gb, BYTES_PER_GB, IDLE_RULE_DAYS, NEEDED_METRICS};
use crate::snapshot::{Hourly, Metrics, Window, BUSIEST_MINUTE, DATAPOINTS_PER_HOUR};

/// One NAT gateway's byte and connection series, read once.
pub(super) struct Series {
    /// Bytes processed each hour (BytesInFromSource + BytesInFromDestination); None: a metric
    /// is missing.
    pub processed: Option<Vec<f64>>,
    /// Bytes between the client subnets and the NAT each hour (BytesInFromSource +
    /// BytesOutToSource): these cross AZs for subnets in another AZ. None: a metric is missing.
    pub crossing: Option<Vec<f64>>,
    /// GB sent to destinations (BytesOutToDestination).
    pub egress_gb: Option<Decimal>,
    pub connection_attempts: Option<f64>,
    pub max_active_connections: Option<f64>,
    /// Byte metrics with no bytes in the window while another direction has some: a gap in
    /// collection or in CloudWatch, read as unknown (never as zero traffic).
    pub inconsistent: Vec<String>,
}

const BYTE_METRICS: [&str; 4] = [
    "BytesInFromSource",
    "BytesInFromDestination",
    "BytesOutToSource",
    "BytesOutToDestination",
];

impl Series {
    /// The series of NAT gateway `id` in region `r`; a missing or empty byte series is warned.
    pub(super) fn read(metrics: &Metrics, id: &str, r: &str, warnings: &mut Vec<String>) -> Series {
        // Traffic through a NAT gateway flows both ways: a direction with no bytes while
        // another has some is a gap, not silence.
        let total = |name: &str| {
            metrics
                .get(id, name)
                .map(|m| m.values.iter().flatten().sum::<f64>())
        };
        let busiest = BYTE_METRICS
            .iter()
            .filter_map(|m| Some((*m, total(m)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, bytes)| *bytes > 0.0);
        let inconsistent: Vec<String> = match busiest {
            Some((other, other_bytes)) => BYTE_METRICS
                .iter()
                .filter(|m| total(m) == Some(0.0))
                .map(|m| {
                    warnings.push(format!(
                        "{id} ({r}): {m} has no bytes in the window while {other} has {} GB: the series are inconsistent (a gap in collection or in CloudWatch), so {m} is read as unknown, not as zero traffic",
                        crate::shown::fixed(gb(other_bytes), 2)
                    ));
                    m.to_string()
                })
                .collect(),
            None => Vec::new(),
        };
        let bytes = |name: &str| {
            metrics
                .get(id, name)
                .filter(|_| !inconsistent.iter().any(|m| m == name))
                .map(|m| &m.values)
        };
        let from_src = bytes("BytesInFromSource");
        let from_dst = bytes("BytesInFromDestination");
        let out_src = bytes("BytesOutToSource");
        let out_dst = bytes("BytesOutToDestination");
        let processed = match (from_src, from_dst) {
            (Some(a), Some(b)) => {
                if a.iter().chain(b.iter()).all(|v| v.is_none()) {
                    warnings.push(format!(
                        "{id} ({r}): CloudWatch has no byte datapoints in the window (none are published without traffic): counted as 0 GB"
                    ));
                }
                Some(add_series(a, b))
            }
            _ => {
                warnings.push(format!(
                    "{id} ({r}): no BytesInFromSource/BytesInFromDestination metrics: its data processing cost is unknown, not zero"
                ));
                None
            }
        };
        let crossing = match (from_src, out_src) {
            (Some(a), Some(b)) => Some(add_series(a, b)),
            _ => None,
        };
        let values = |name: &str| metrics.get(id, name).map(|m| m.values.iter().flatten());
        Series {
            processed,
            crossing,
            egress_gb: out_dst.map(|v| gb(v.iter().flatten().sum())),
            connection_attempts: values("ConnectionAttemptCount").map(|v| v.sum()),
            max_active_connections: values("ActiveConnectionCount").map(|v| v.fold(0.0, f64::max)),
            inconsistent,
        }
    }

    /// GB processed in the window.
    pub(super) fn processed_gb(&self) -> Option<Decimal> {
        self.processed.as_ref().map(|p| gb(p.iter().sum()))
    }

    /// Bytes between the client subnets and the NAT in the window.
    pub(super) fn crossing_bytes(&self) -> Option<f64> {
        self.crossing.as_ref().map(|c| c.iter().sum())
    }

    /// The busiest hour's processed bytes.
    pub(super) fn peak_hour_bytes(&self) -> Option<f64> {
        self.processed
            .as_ref()
            .map(|p| p.iter().copied().fold(0.0, f64::max))
    }

    /// Processed GB per UTC day.
    pub(super) fn daily_gb(&self, window: Window) -> Vec<(NaiveDate, f64)> {
        self.processed
            .as_ref()
            .map(|p| daily(window, p))
            .unwrap_or_default()
    }
}

/// Hour-by-hour sum of two series; a missing datapoint adds nothing.
fn add_series(a: &Hourly, b: &Hourly) -> Vec<f64> {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| x.unwrap_or(0.0) + y.unwrap_or(0.0))
        .collect()
}

fn daily(window: Window, hourly: &[f64]) -> Vec<(NaiveDate, f64)> {
    let mut out: Vec<(NaiveDate, f64)> = Vec::new();
    for (i, v) in hourly.iter().enumerate() {
        let day = (window.start + Duration::hours(i as i64)).date_naive();
        match out.last_mut() {
            Some((d, sum)) if *d == day => *sum += v / BYTES_PER_GB as f64,
            _ => out.push((day, v / BYTES_PER_GB as f64)),
        }
    }
    out
}

/// The metrics of NEEDED_METRICS the snapshot lacks for NAT gateway `id`, warned when any.
pub(super) fn missing_metrics(
    metrics: &Metrics,
    id: &str,
    r: &str,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let missing: Vec<String> = NEEDED_METRICS
        .iter()
        .filter(|m| metrics.get(id, m).is_none())
        .map(|m| m.to_string())
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "{id} ({r}): the snapshot has no {} metric(s): what depends on them is unknown, not zero, and the scenarios that need them are needs-data",
            missing.join(", ")
        ));
    }
    missing
}

/// Whether AWS's idle rule holds over the last IDLE_RULE_DAYS days of the window: no active
/// connection and no packet in. None when the window is shorter or a metric is missing.
pub(super) fn idle_by_aws_rule(window: Window, metrics: &Metrics, id: &str) -> Option<bool> {
    let idle_hours = (IDLE_RULE_DAYS * 24) as usize;
    if (window.hours() as usize) < idle_hours {
        return None;
    }
    [
        "ActiveConnectionCount",
        "PacketsInFromSource",
        "PacketsInFromDestination",
    ]
    .iter()
    .map(|name| {
        metrics.get(id, name).map(|m| {
            m.values
                .iter()
                .skip(m.values.len() - idle_hours)
                .flatten()
                .all(|v| v == 0.0)
        })
    })
    .collect::<Option<Vec<bool>>>()
    .map(|all| all.into_iter().all(|quiet| quiet))
}

/// The busiest minute's processed bytes over the window, and how it was found.
///
/// The hourly `Maximum` of a byte metric is its largest datapoint in the hour; it is one
/// minute's bytes only while SampleCount stays at or under 60 an hour. The two directions'
/// maxima may fall in different minutes, so their sum is an upper bound: safe for sizing.
/// Hours with more datapoints need the collector's 1-minute sums, which CloudWatch keeps only
/// 15 days: a dense hour without them leaves the busiest minute unknown.
pub(super) fn busiest_minute(metrics: &Metrics, id: &str) -> (Option<f64>, String) {
    let (Some(src), Some(dst), Some(samples)) = (
        metrics.stat(id, "BytesInFromSource", "Maximum"),
        metrics.stat(id, "BytesInFromDestination", "Maximum"),
        metrics.stat(id, "BytesInFromSource", "SampleCount"),
    ) else {
        return (
            None,
            "the snapshot has no Maximum/SampleCount byte metrics (snapshots from before natcost sized NAT instances): the busiest minute is unknown; collect again".into(),
        );
    };
    let minutes = metrics.stat(id, BUSIEST_MINUTE.0, BUSIEST_MINUTE.1);
    let mut busiest: f64 = 0.0;
    let mut dense = 0;
    let mut uncovered = false;
    for (h, n) in samples.values.iter().enumerate() {
        if n.is_some_and(|n| n > DATAPOINTS_PER_HOUR) {
            dense += 1;
            match minutes.and_then(|m| m.values.get(h)) {
                Some(v) => busiest = busiest.max(v),
                None => uncovered = true,
            }
        } else {
            let a = src.values.get(h).unwrap_or(0.0);
            let b = dst.values.get(h).unwrap_or(0.0);
            busiest = busiest.max(a + b);
        }
    }
    if uncovered {
        return (
            None,
            "some hours had more than 60 datapoints (so their Maximum is not one minute) and no 1-minute Sums, which CloudWatch keeps only 15 days: the busiest minute is unknown".into(),
        );
    }
    let mut basis = "busiest minute from the hourly Maximum of BytesInFromSource + BytesInFromDestination over the whole window (SampleCount ≤ 60 an hour: one datapoint a minute; the two maxima may be different minutes, so this is an upper bound)".to_string();
    if dense > 0 {
        basis.push_str("; hours with more than 60 datapoints from 1-minute Sums");
    }
    (Some(busiest), basis)
}
