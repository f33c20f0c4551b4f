//! The collection window: whole UTC hours, from `--days`, `--month` or `--months`.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

use crate::snapshot::Window;

/// CloudWatch keeps 1-hour datapoints for 455 days.
pub const RETENTION_DAYS: i64 = crate::snapshot::MAX_WINDOW_DAYS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The last N whole days ending at the last full hour.
    Days(u32),
    /// One calendar month (up to the last full hour if it is the current one).
    Month(NaiveDate),
    /// The last N whole calendar months.
    Months(u32),
}

pub fn parse_month(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .with_context(|| format!("--month {s:?} is not YYYY-MM"))
}

fn month_start(d: NaiveDate) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
        .unwrap()
}

fn add_months(t: DateTime<Utc>, n: i32) -> DateTime<Utc> {
    let total = t.year() * 12 + t.month0() as i32 + n;
    Utc.with_ymd_and_hms(
        total.div_euclid(12),
        total.rem_euclid(12) as u32 + 1,
        1,
        0,
        0,
        0,
    )
    .unwrap()
}

/// A whole calendar month.
pub fn month(m: NaiveDate) -> Window {
    let start = month_start(m);
    Window {
        start,
        end: add_months(start, 1),
    }
}

/// Whole calendar months `--months` may ask for: the 15th reaches past CloudWatch's 455 days
/// of hourly data, so it starts where that data does.
pub const MAX_MONTHS: u32 = 15;

/// The window a span asks for, ending at `now`, that CloudWatch still has hourly data for,
/// and a warning when its first month had to start later than asked.
pub fn window(span: Span, now: DateTime<Utc>) -> Result<(Window, Option<String>)> {
    let mut w = span_window(span, now)?;
    let last_full_hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    let horizon = last_full_hour - Duration::days(RETENTION_DAYS);
    if w.start >= horizon {
        return Ok((w, None));
    }
    match span {
        // Only the first month may lose its beginning.
        Span::Months(n) if n <= MAX_MONTHS && add_months(w.start, 1) > horizon => {
            let note = format!(
                "CloudWatch keeps hourly data {RETENTION_DAYS} days: {} is partial, from {}",
                w.start.format("%Y-%m"),
                horizon.format("%Y-%m-%d %H:%M UTC")
            );
            w.start = horizon;
            Ok((w, Some(note)))
        }
        _ => bail!(
            "the window starts {}, more than {RETENTION_DAYS} days ago: CloudWatch no longer has hourly data for it",
            w.start.format("%Y-%m-%d")
        ),
    }
}

/// The window a span asks for, ending at `now` (a snapshot's end: no retention applies).
pub fn span_window(span: Span, now: DateTime<Utc>) -> Result<Window> {
    let last_full_hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    let w = match span {
        Span::Days(0) | Span::Months(0) => bail!("the window must be at least one day or month"),
        Span::Days(n) => Window {
            start: last_full_hour - Duration::days(n as i64),
            end: last_full_hour,
        },
        Span::Month(m) => {
            let start = month_start(m);
            if start >= last_full_hour {
                bail!("--month {} has not started yet", m.format("%Y-%m"));
            }
            Window {
                start,
                end: add_months(start, 1).min(last_full_hour),
            }
        }
        Span::Months(n) => {
            let end = month_start(now.date_naive());
            Window {
                start: add_months(end, -(n as i32)),
                end,
            }
        }
    };
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn days_end_at_the_last_full_hour() {
        let (w, _) = window(Span::Days(30), t("2026-11-27T22:41:09Z")).unwrap();
        assert_eq!(w.end, t("2026-11-27T22:00:00Z"));
        assert_eq!(w.start, t("2026-10-28T22:00:00Z"));
    }

    #[test]
    fn months_are_whole_calendar_months() {
        let (w, note) = window(Span::Months(3), t("2026-01-15T10:00:00Z")).unwrap();
        assert_eq!(note, None);
        assert_eq!(w.start, t("2025-10-01T00:00:00Z"));
        assert_eq!(w.end, t("2026-01-01T00:00:00Z"));
        let (m, _) = window(
            Span::Month(parse_month("2026-02").unwrap()),
            t("2026-11-27T22:41:09Z"),
        )
        .unwrap();
        assert_eq!(
            (m.start, m.end),
            (t("2026-02-01T00:00:00Z"), t("2026-03-01T00:00:00Z"))
        );
        let (current, _) = window(
            Span::Month(parse_month("2026-11").unwrap()),
            t("2026-11-27T22:41:09Z"),
        )
        .unwrap();
        assert_eq!(current.end, t("2026-11-27T22:00:00Z"));
    }

    #[test]
    fn bad_windows_are_refused() {
        let now = t("2026-11-27T22:41:09Z");
        assert!(window(Span::Month(parse_month("2026-12").unwrap()), now).is_err());
        assert!(window(Span::Months(16), now)
            .unwrap_err()
            .to_string()
            .contains("455 days"));
        // 15 months: the first starts where CloudWatch's hourly data does, and says so.
        let (w, note) = window(Span::Months(15), now).unwrap();
        assert_eq!(w.start, t("2025-08-29T22:00:00Z"));
        assert_eq!(w.end, t("2026-11-01T00:00:00Z"));
        assert_eq!(
            note.as_deref(),
            Some("CloudWatch keeps hourly data 455 days: 2025-08 is partial, from 2025-08-29 22:00 UTC")
        );
        let (w, note) = window(Span::Months(14), now).unwrap();
        assert_eq!((w.start, note), (t("2025-09-01T00:00:00Z"), None));
        assert!(window(Span::Days(0), now).is_err());
        assert!(parse_month("2026-13").is_err());
        assert!(parse_month("Oct").is_err());
    }
}
