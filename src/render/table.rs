//! The terminal summary.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::money;
use crate::advise::Tier;
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

    if report.flows.is_some() {
        let _ = writeln!(o);
        o.push_str(&flows(report));
    } else if !report.flow_log_configs.is_empty() {
        let _ = writeln!(
            o,
            "Flow logs exist (--flow-logs measures who sends the bytes):"
        );
        for f in &report.flow_log_configs {
            let _ = writeln!(o, "  {f}");
        }
    }
    let _ = writeln!(o);
    o.push_str(&plan(report));
    o
}

/// The plan, then what to consider on top of it, then what to measure first.
fn plan(report: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", super::plan_headline(report));
    let by_id = |id: &str| report.recommendations.iter().find(|s| s.id == id);
    for (i, (id, saving)) in report
        .plan
        .steps
        .iter()
        .zip(&report.plan.step_savings)
        .enumerate()
    {
        let Some(s) = by_id(id) else { continue };
        let _ = writeln!(
            o,
            "{:>2}. {:<26} {:<24} saves {:>9} USD/month  ({})",
            i + 1,
            s.alternative,
            report.name_of(&s.resource_id),
            money(*saving),
            s.confidence.as_str()
        );
        let _ = writeln!(
            o,
            "    {}",
            s.evidence.first().map(String::as_str).unwrap_or("")
        );
    }
    let others: Vec<_> = report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::DoNow && !s.in_plan)
        .collect();
    if !others.is_empty() {
        let _ = writeln!(o, "Left out of the plan (each conflicts with a step):");
        for s in others {
            let _ = writeln!(
                o,
                "  - {} {}: {} USD/month; conflicts with {}",
                s.alternative,
                report.name_of(&s.resource_id),
                money(s.saving()),
                plan_conflicts(report, s).join(", ")
            );
        }
    }
    let consider: Vec<_> = report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::Consider && s.saving_after_plan > Some(Decimal::ZERO))
        .collect();
    if !consider.is_empty() {
        let _ = writeln!(o, "\nConsider (riskier; saving on top of the plan):");
        for s in consider.iter().take(TOP) {
            let _ = writeln!(
                o,
                "  - {:<24} {:<24} {:>9} USD/month  (risk {}{})",
                s.alternative,
                report.name_of(&s.resource_id),
                money(s.saving_after_plan.unwrap_or_else(|| s.saving())),
                s.risk_text().split(':').next().unwrap_or_default(),
                match plan_conflicts(report, s) {
                    c if c.is_empty() => String::new(),
                    c => format!("; conflicts with plan step {}", c.join(", ")),
                }
            );
        }
        if consider.len() > TOP {
            let _ = writeln!(
                o,
                "    ... {} more in recommendations.csv",
                consider.len() - TOP
            );
        }
    }
    let measure: Vec<_> = report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::MeasureFirst)
        .collect();
    if !measure.is_empty() {
        let _ = writeln!(o, "\nMeasure first (not savings until measured):");
        for s in measure.iter().take(TOP) {
            if let Some(x) = &s.sensitivity {
                let _ = writeln!(
                    o,
                    "  - {} {}: {} is worth {} USD/month",
                    s.alternative,
                    report.name_of(&s.resource_id),
                    x.per,
                    money(x.monthly_usd)
                );
            }
        }
        if measure.len() > TOP {
            let _ = writeln!(
                o,
                "    ... {} more in recommendations.csv",
                measure.len() - TOP
            );
        }
        let mut how: Vec<&str> = measure
            .iter()
            .take(TOP)
            .filter_map(|s| s.sensitivity.as_ref().map(|x| x.how_to_measure.as_str()))
            .collect();
        how.sort_unstable();
        how.dedup();
        for h in how {
            let _ = writeln!(o, "  How to measure: {h}");
        }
    }
    o
}

/// The plan's steps a scenario conflicts with, by name.
fn plan_conflicts(report: &Report, s: &crate::advise::Scenario) -> Vec<String> {
    s.conflicts_with
        .iter()
        .filter(|id| report.plan.steps.contains(id))
        .map(
            |id| match report.recommendations.iter().find(|x| x.id == *id) {
                Some(x) => format!("{} {}", x.alternative, report.name_of(&x.resource_id)),
                None => id.clone(),
            },
        )
        .collect()
}

fn gb(bytes: u64) -> String {
    format!(
        "{:.2} GB",
        bytes as f64 / crate::price::model::BYTES_PER_GB as f64
    )
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// "Who sends the bytes": destinations and sources of each NAT gateway's traffic.
pub fn flows(report: &Report) -> String {
    let mut o = String::new();
    let Some(f) = &report.flows else {
        return o;
    };
    let s = &f.stats;
    let _ = writeln!(
        o,
        "Who sends the bytes (flow logs: {} file(s), {} line(s), {} on NAT interfaces, {} corrupt, {} unreadable file(s); {}):",
        s.files,
        s.lines,
        s.records,
        s.corrupt_lines,
        s.failed_files.len(),
        f.ip_ranges
    );
    for t in &f.nats {
        let _ = writeln!(
            o,
            "  {}: {} seen over {:.1} day(s){}",
            report.name_of(&t.nat_gateway_id),
            gb(t.destination_bytes),
            t.days_covered(),
            report
                .flow_scale
                .get(&t.nat_gateway_id)
                .map(|k| format!(" (× {k:.2} = CloudWatch's total for the window)"))
                .unwrap_or_default()
        );
        // What each destination's share of the NAT's data processing costs a month.
        let processing = report
            .nats
            .iter()
            .find(|n| n.nat_gateway_id == t.nat_gateway_id)
            .map(|n| n.monthly_of(crate::price::model::Component::NatBytes));
        let mut dest: Vec<_> = t.destinations.iter().collect();
        dest.sort_by(|a, b| b.1.cmp(a.1));
        let to: Vec<String> = dest
            .iter()
            .map(|(d, b)| {
                let usd = processing
                    .and_then(|p| Decimal::try_from(t.share(d)).ok().map(|share| p * share))
                    .map(|u| format!(" = {} USD/month", money(u)))
                    .unwrap_or_default();
                format!("{} {}{usd}", d.label(), pct(**b, t.destination_bytes))
            })
            .collect();
        let _ = writeln!(o, "    to:   {}", to.join(", "));
        let from: Vec<String> = t
            .sources
            .iter()
            .take(5)
            .map(|(name, b)| format!("{name} {}", pct(*b, t.source_bytes)))
            .collect();
        if !from.is_empty() {
            let more = t.sources.len().saturating_sub(5);
            let _ = writeln!(
                o,
                "    from: {}{}",
                from.join(", "),
                if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    for a in &f.ambiguous {
        let _ = writeln!(o, "  note: {a}");
    }
    o
}
