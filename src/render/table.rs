//! The terminal summary.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::money;
use crate::report::Report;

/// How many recommendations the terminal shows (all are in the files).
const TOP: usize = 5;

pub fn render(report: &Report) -> String {
    let mut o = String::new();
    let w = report.window;
    let _ = writeln!(
        o,
        "natcost — account {} — {} — {} to {} ({} h)",
        report.account_id,
        report.regions.join(", "),
        w.start.format("%Y-%m-%d %H:%M"),
        w.end.format("%Y-%m-%d %H:%M UTC"),
        w.hours()
    );
    let _ = writeln!(o, "prices: {}", report.prices.label);
    for line in &report.not_collected {
        let _ = writeln!(o, "not collected: {line}");
    }
    for line in &report.warnings {
        let _ = writeln!(o, "warning: {line}");
    }
    let _ = writeln!(o);

    let header = [
        "NAT gateway",
        "VPC",
        "AZ",
        "Lambdas",
        "Hours",
        "GB processed",
        "Window USD",
        "Monthly USD",
    ];
    let mut rows: Vec<[String; 8]> = report
        .nats
        .iter()
        .map(|n| {
            [
                format!(
                    "{}{}",
                    n.label(),
                    if n.active_at_end { "" } else { " (deleted)" }
                ),
                n.vpc_id.clone(),
                n.availability_zone.clone(),
                n.lambdas.len().to_string(),
                n.billed_hours.to_string(),
                n.processed_gb
                    .map(|g| format!("{:.2}", g.round_dp(2)))
                    .unwrap_or_else(|| "unknown".into()),
                money(n.window_cost()),
                money(n.monthly()),
            ]
        })
        .collect();
    rows.push([
        "Total".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        money(report.total_window_cost),
        money(report.total_monthly_run_rate),
    ]);
    let mut width = header.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |o: &mut String, cells: &[String]| {
        for (i, c) in cells.iter().enumerate() {
            let pad = width[i] - c.chars().count();
            // Text left, numbers right.
            if i < 3 {
                let _ = write!(o, "{c}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(o, "{}{c}  ", " ".repeat(pad));
            }
        }
        let trimmed = o.trim_end().len();
        o.truncate(trimmed);
        o.push('\n');
    };
    line(&mut o, &header.map(String::from));
    for r in &rows {
        line(&mut o, r);
    }

    let _ = writeln!(o);
    let months: Vec<String> = report
        .monthly_totals
        .iter()
        .map(|m| format!("{} {} USD", m.period_start.format("%Y-%m"), money(m.cost)))
        .collect();
    let _ = writeln!(o, "By month: {}", months.join(", "));
    let egress_gb: Decimal = report.egress.iter().map(|e| e.monthly_gb_upper_bound).sum();
    let egress_cost: Decimal = report
        .egress
        .iter()
        .map(|e| e.monthly_cost_upper_bound)
        .sum();
    if !report.egress.is_empty() {
        let _ = writeln!(
            o,
            "Internet egress, same under every alternative: at most {:.2} GB/month = at most {} USD/month",
            egress_gb.round_dp(2),
            money(egress_cost)
        );
    }

    let _ = writeln!(o);
    if report.recommendations.is_empty() {
        let _ = writeln!(o, "No alternative saves money on this history.");
    } else {
        let total: Decimal = report.recommendations.iter().map(|s| s.saving()).sum();
        let _ = writeln!(
            o,
            "Recommendations ({} found; some overlap, so savings do not add up to {} USD/month):",
            report.recommendations.len(),
            money(total)
        );
        for (i, s) in report.recommendations.iter().take(TOP).enumerate() {
            let _ = writeln!(
                o,
                "{:>2}. {:<26} {:<24} saves {:>9} USD/month  ({}, risk {})",
                i + 1,
                s.alternative,
                report.name_of(&s.resource_id),
                money(s.saving()),
                s.confidence.as_str(),
                s.risk_text().split(':').next().unwrap_or_default()
            );
            let _ = writeln!(
                o,
                "    {}",
                s.evidence.first().map(String::as_str).unwrap_or("")
            );
        }
        if report.recommendations.len() > TOP {
            let _ = writeln!(
                o,
                "    ... {} more in recommendations.csv",
                report.recommendations.len() - TOP
            );
        }
    }
    o
}
