//! A NAT gateway's billed lifetime: when it existed, and the hours of it inside the window,
//! calendar month by calendar month.

use std::ops::Range;

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;

use crate::snapshot::{NatGateway, Window};

/// When a NAT gateway existed: from its creation to its deletion, or to the window's end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lifetime {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Lifetime {
    /// The lifetime of a NAT gateway in region `r`, or None when none of it is billed in the
    /// window: failed, gone before the window, created after it, or deleted without a delete
    /// time (which a warning says).
    pub(super) fn of(
        window: Window,
        r: &str,
        nat: &NatGateway,
        warnings: &mut Vec<String>,
    ) -> Option<Lifetime> {
        let id = nat.nat_gateway_id.as_str();
        let from = nat.create_time;
        let to = match (nat.delete_time, nat.state.as_str()) {
            (_, "failed") => return None,
            (Some(d), _) => d,
            (None, "deleted" | "deleting") => {
                warnings.push(format!(
                    "{id} ({r}) is {} but AWS gave no delete time: its hours are not counted",
                    nat.state
                ));
                return None;
            }
            (None, _) => window.end,
        };
        if to <= window.start || from >= window.end {
            return None;
        }
        if let Some(how) = &nat.found_by {
            warnings.push(format!(
                "{id} ({r}): deleted before collection, found through {how}: priced from its first to its last hour with a datapoint ({} to {})",
                from.format("%Y-%m-%d %H:%M"),
                to.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        Some(Lifetime { from, to })
    }

    /// The calendar months of the window the NAT gateway lived in, each with the part it lived.
    pub(super) fn months(self, window: Window) -> Vec<Month> {
        months(window)
            .into_iter()
            .filter_map(|(start, end)| {
                let (from, to) = (self.from.max(start), self.to.min(end));
                (to > from).then_some(Month {
                    start,
                    end,
                    from,
                    to,
                })
            })
            .collect()
    }

    /// Whether the NAT gateway still existed, active, at the end of the window.
    pub(super) fn active_at_end(self, nat: &NatGateway, window: Window) -> bool {
        self.to >= window.end && nat.is_active_at(window.end - Duration::seconds(1))
    }
}

/// One calendar month of the window (`start..end`) and the part of it a NAT gateway lived
/// (`from..to`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Month {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Month {
    /// The hours billed in the month: each started clock hour of its life.
    pub fn started_hours(&self) -> i64 {
        started_hours(self.from, self.to)
    }

    /// The exact hours it lived in the month.
    pub fn exact_hours(&self) -> Decimal {
        Decimal::from((self.to - self.from).num_seconds()) / Decimal::from(3600)
    }

    /// The month's hours as indexes into the window's hourly series.
    pub fn hours(&self, window: Window) -> Range<usize> {
        hour_index(window, self.start)..hour_index(window, self.end)
    }
}

/// Hours billed for a resource alive in `[from, to)`: each started clock hour counts in full.
pub fn started_hours(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    if to <= from {
        return 0;
    }
    let floor = from
        .with_minute(0)
        .unwrap()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let secs = (to - floor).num_seconds();
    (secs + 3599) / 3600
}

/// The calendar months (UTC) the window touches, clipped to it.
pub fn months(window: Window) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = window.start;
    while start < window.end {
        let (y, m) = (start.year(), start.month());
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let next = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).unwrap();
        let end = next.min(window.end);
        out.push((start, end));
        start = end;
    }
    out
}

fn hour_index(window: Window, t: DateTime<Utc>) -> usize {
    ((t - window.start).num_hours().max(0) as usize).min(window.hours() as usize)
}

/// Whether a period `[start, end)` is a whole calendar month (UTC).
pub fn is_whole_month(start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    start.day() == 1 && start.hour() == 0 && end.day() == 1 && end.hour() == 0 && end > start
}
