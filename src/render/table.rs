//! The terminal summary.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::{fixed, money};
use crate::advise::Tier;
use crate::report::Report;

/// How many recommendations the terminal shows (all are in the files).
const TOP: usize = 5;

/// The summary for a terminal `width` columns wide: long lines are wrapped at spaces and the
/// table drops its VPC column when it would not fit. None (`--wide`): everything, unwrapped.
pub fn render(report: &Report, width: Option<usize>) -> String {
    let text = summary(report, width);
    match width {
        Some(w) => wrap(&text, w),
        None => text,
    }
}

/// Wraps every line longer than `width` at spaces, continuing under its text (list items under
/// their first word). A word longer than the width stays whole.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        let hang = indent + if body.starts_with("- ") { 2 } else { 4 };
        let mut current = " ".repeat(indent);
        let mut fresh = true;
        for word in body.split(' ') {
            let len = current.chars().count();
            if !fresh && len + 1 + word.chars().count() > width {
                out.push_str(current.trim_end());
                out.push('\n');
                current = " ".repeat(hang);
                fresh = true;
            }
            if !fresh {
                current.push(' ');
            }
            current.push_str(word);
            fresh = false;
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

fn summary(report: &Report, fit: Option<usize>) -> String {
    let wide = fit.is_none();
    let mut o = String::new();
    let w = report.window;
    let several = report.accounts.len() > 1;
    let _ = writeln!(
        o,
        "natcost — {} — {} — {} to {} ({} h)",
        report.scope(),
        report.region_list(),
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
    if several {
        o.push_str(&accounts(report));
        let _ = writeln!(o);
    }

    let header = [
        "Account",
        "NAT gateway",
        "VPC",
        "AZ",
        "Lambdas",
        "Hours",
        "GB processed",
        "Window USD",
        "Monthly USD",
    ];
    let mut rows: Vec<[String; 9]> = report
        .nats
        .iter()
        .map(|n| {
            [
                n.account_id.clone(),
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
                    .map(|g| fixed(g, 2))
                    .unwrap_or_else(|| "unknown".into()),
                money(n.window_cost()),
                money(n.monthly()),
            ]
        })
        .collect();
    if let Some(idle) = super::idle_monthly(report) {
        let n = report.idle_addresses.len();
        let label = format!("{n} idle Elastic IP{}", if n == 1 { "" } else { "s" });
        rows.push([
            String::new(),
            label,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            money(idle),
        ]);
    }
    let [gb, window, monthly] = super::nat_totals(report, [6, 7, 8]);
    // The label goes under the account column, or the NAT gateway's when that one is hidden.
    let label = |text: &str| -> [String; 2] {
        if several {
            [text.into(), String::new()]
        } else {
            [String::new(), text.into()]
        }
    };
    if [&gb, &window, &monthly]
        .iter()
        .any(|t| !t.rounding().is_zero())
    {
        let [a, b] = label("(rounding)");
        rows.push([
            a,
            b,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            super::rounding_cell(gb.rounding()),
            super::rounding_cell(window.rounding()),
            super::rounding_cell(monthly.rounding()),
        ]);
    }
    let total = if report.total_is_lower_bound {
        "Total (at least)"
    } else {
        "Total"
    };
    let [a, b] = label(total);
    rows.push([
        a,
        b,
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        format!(
            "{}{}",
            if gb.at_least { "at least " } else { "" },
            fixed(gb.total, 2)
        ),
        money(window.total),
        money(monthly.total),
    ]);
    let mut width: Vec<usize> = header.map(str::len).to_vec();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    // Columns shown: all with --wide; otherwise the least needed go first until the table
    // fits (VPC, hours, window cost, AZ): report.md has every column. The account shows when
    // there are several.
    let mut shown: Vec<usize> = (usize::from(!several)..header.len()).collect();
    if let Some(columns) = fit {
        for drop in [2, 5, 7, 3] {
            let total: usize = shown.iter().map(|i| width[*i] + 2).sum();
            if total <= columns {
                break;
            }
            shown.retain(|i| *i != drop);
        }
    }
    let line = |o: &mut String, cells: &[String]| {
        for &i in &shown {
            let c = &cells[i];
            let pad = width[i] - c.chars().count();
            // Text left, numbers right.
            if i < 4 {
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
    let _ = writeln!(o, "{}", by_month(report));
    if let Some(c) = &report.changes {
        o.push_str(&super::changes::table(c));
    }
    if !report.anomalies.is_empty() {
        let _ = writeln!(
            o,
            "Days whose bytes jumped ({}):",
            super::changes::anomaly_rule()
        );
        for a in report
            .anomalies
            .iter()
            .take(super::changes::ANOMALIES_SHOWN)
        {
            let _ = writeln!(
                o,
                "  {}",
                crate::shown::clipped(&super::changes::anomaly_line(a), 160)
            );
            if let Some(who) = super::changes::anomaly_sources(a, report.flows.is_some()) {
                let _ = writeln!(o, "    {}", crate::shown::clipped(&who, 158));
            }
        }
        let more = report
            .anomalies
            .len()
            .saturating_sub(super::changes::ANOMALIES_SHOWN);
        if more > 0 {
            let _ = writeln!(o, "  and {more} more in report.md");
        }
    }
    if let Some(fx) = &report.fx {
        let _ = writeln!(
            o,
            "In {}: {} in the window, {} a month (1 USD = {} {}, {})",
            fx.currency,
            fx.show(report.total_window_cost),
            fx.show(report.total_monthly_run_rate),
            fx.rate.normalize(),
            fx.currency,
            fx.source
        );
    }
    let egress_gb: Decimal = report.egress.iter().map(|e| e.monthly_gb_upper_bound).sum();
    let egress_cost: Decimal = report
        .egress
        .iter()
        .map(|e| e.monthly_cost_upper_bound)
        .sum();
    if !report.egress.is_empty() {
        let _ = writeln!(
            o,
            "Internet egress, same under every alternative: at most {} GB/month = at most {} USD/month",
            fixed(egress_gb, 2),
            money(egress_cost)
        );
    }

    if let Some(r) = &report.reconcile {
        let (within, flagged) = (r.within(), r.flagged());
        let _ = writeln!(
            o,
            "\nMatches the bill? {} line(s) from {}: {within} within {}%, {flagged} flagged (see reconcile.csv)",
            r.rows.len(),
            r.source.split(" (").next().unwrap_or_default(),
            crate::bill::TOLERANCE_PCT
        );
        let credits: Decimal = r.adjustments.iter().map(|a| a.cost).sum();
        if !r.adjustments.is_empty() {
            let _ = writeln!(
                o,
                "  Credits, discounts, refunds and tax apart: {} USD (report.md lists them)",
                money(credits)
            );
        }
        if let Some(line) = super::net_rate_line(report) {
            let _ = writeln!(o, "  {line}");
        }
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
    let top = top_sources(report);
    if !top.is_empty() {
        o.push_str(&top);
        let _ = writeln!(o);
    }
    o.push_str(&plan(report, wide));
    o
}

/// "By month: 2026-09 111.81 + 2026-10 738.86 + rounding 0.01 = 850.68 USD": the months as
/// shown add up to the window's cost as shown.
fn by_month(report: &Report) -> String {
    let months = &report.monthly_totals;
    let mut parts: Vec<String> = months
        .iter()
        .map(|m| format!("{} {}", m.period_start.format("%Y-%m"), money(m.cost)))
        .collect();
    let r = crate::shown::rounding(months.iter().map(|m| m.cost), report.total_window_cost, 2);
    if !r.is_zero() {
        parts.push(format!("rounding {}", super::signed(r)));
    }
    format!(
        "By month: {} = {}{} USD",
        parts.join(" + "),
        if report.total_is_lower_bound {
            "at least "
        } else {
            ""
        },
        money(report.total_window_cost)
    )
}

/// The costliest sources by monthly run-rate (allocation.csv has every month and source).
fn top_sources(report: &Report) -> String {
    let mut o = String::new();
    let top = report.top_sources(super::TOP_SOURCES);
    // Teams are shown even when no NAT gateway has a source (every one idle).
    if top.is_empty() && report.allocation.team_tags.is_empty() {
        return o;
    }
    let _ = writeln!(
        o,
        "Top sources (monthly run-rate; every month and source in allocation.csv):"
    );
    if !report.allocation.insights.is_empty() {
        let _ = writeln!(
            o,
            "  split by Lambda Insights bytes for {} (the rest by head count)",
            crate::shown::clipped(&report.allocation.insights.join(", "), 200)
        );
    }
    for (i, t) in top.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {:>2}. {} via {}: {}{} GB = {} USD/month{}, {}",
            i + 1,
            super::source_label(&t.source),
            crate::shown::clipped(&report.name_of(&t.nat_gateway_ids.join(";")), 80),
            super::at_least(t),
            fixed(t.monthly_gb, 2),
            money(t.monthly_cost),
            report.also(t.monthly_cost),
            t.basis.as_str()
        );
    }
    let teams = report.team_totals();
    if !teams.is_empty() {
        let shown: Vec<String> = teams
            .iter()
            .take(super::TOP_SOURCES)
            .map(|t| {
                format!(
                    "{} {}",
                    crate::shown::clipped(&t.team, 40),
                    t.cost_usd
                        .map(|c| format!("{} USD/month", money(c)))
                        .unwrap_or_else(|| "unknown".into())
                )
            })
            .collect();
        let more = teams.len().saturating_sub(super::TOP_SOURCES);
        let _ = writeln!(
            o,
            "  by team: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(", and {more} more (allocation_by_team.csv)")
            } else {
                String::new()
            }
        );
    }
    o
}

/// One line per account: NAT gateways, cost, what the plan saves there, what is missing.
fn accounts(report: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<14} {:<24} {:>7} {:>5} {:>14} {:>14} {:>14}",
        "Account", "Name", "Regions", "NATs", "Window USD", "Monthly USD", "Plan saves/mo"
    );
    for a in &report.accounts {
        let mut name: String = a
            .name
            .clone()
            .unwrap_or_default()
            .chars()
            .take(24)
            .collect();
        if a.not_collected > 0 {
            name = format!("{name} (partial)").trim_start().to_string();
        }
        let _ = writeln!(
            o,
            "{:<14} {:<24} {:>7} {:>5} {:>14} {:>14} {:>14}",
            a.account_id,
            name,
            a.regions,
            a.nat_gateways,
            money(a.window_cost),
            money(a.monthly_run_rate),
            money(a.plan_saving)
        );
    }
    let totals = super::account_totals(report, [4, 5, 6]);
    if totals.iter().any(|t| !t.rounding().is_zero()) {
        let _ = writeln!(
            o,
            "{:<14} {:<24} {:>7} {:>5} {:>14} {:>14} {:>14}",
            "(rounding)",
            "",
            "",
            "",
            super::rounding_cell(totals[0].rounding()),
            super::rounding_cell(totals[1].rounding()),
            super::rounding_cell(totals[2].rounding())
        );
    }
    let _ = writeln!(
        o,
        "{:<14} {:<24} {:>7} {:>5} {:>14} {:>14} {:>14}",
        "Total",
        if report.total_is_lower_bound {
            "(at least)"
        } else {
            ""
        },
        "",
        "",
        money(totals[0].total),
        money(totals[1].total),
        money(totals[2].total)
    );
    o
}

/// The plan, then what to consider on top of it, then what to measure first.
fn plan(report: &Report, wide: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", super::plan_headline(report));
    for (n, s, saving) in report.plan.numbered_steps(&report.recommendations) {
        let _ = writeln!(
            o,
            "{:>2}. {:<26} {:<24} saves {:>9} USD/month  ({})",
            n,
            s.alternative,
            report.scenario_label(s),
            super::step_saving(s, saving),
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
                "  - {} {}: {} USD/month alone; {}",
                s.alternative,
                report.scenario_label(s),
                money(s.saving()),
                super::beside_plan(s)
            );
        }
    }
    let consider: Vec<_> = report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::Consider)
        .collect();
    if !consider.is_empty() {
        let _ = writeln!(
            o,
            "\nConsider (riskier; USD/month alone, then beside the plan's steps):"
        );
        for s in consider.iter().take(TOP) {
            let _ = writeln!(
                o,
                "  - {:<24} {:<24} {:>9} alone; {} (risk {})",
                s.alternative,
                report.scenario_label(s),
                money(s.saving()),
                super::beside_plan(s),
                s.risk_text().split(':').next().unwrap_or_default(),
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
                    report.scenario_label(s),
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
        // The commands themselves are long: whole in report.md, the CSV and with --wide.
        let mut how: Vec<String> = measure
            .iter()
            .take(TOP)
            .filter_map(|s| s.sensitivity.as_ref().map(|x| x.how_to_measure.as_str()))
            .map(|h| match h.split_once(": aws ") {
                Some((what, _)) if !wide => format!(
                    "{what} (the commands are in report.md and recommendations.csv; --wide prints them here)"
                ),
                _ => h.to_string(),
            })
            .collect();
        how.sort_unstable();
        how.dedup();
        for h in how {
            let _ = writeln!(o, "  How to measure: {h}");
        }
    }
    o
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
    for r in &f.read_from {
        let _ = writeln!(o, "  read: {r}");
    }
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

/// `natcost reconcile`'s table: a line per reconcile.csv row, credits apart, then what the
/// reading could not tell.
pub fn reconcile(r: &crate::bill::Reconciliation) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Matches the bill? {} line(s) from {}: {} within {}%, {} flagged",
        r.rows.len(),
        r.source,
        r.within(),
        crate::bill::TOLERANCE_PCT,
        r.flagged()
    );
    if r.requests > 0 {
        let _ = writeln!(
            o,
            "Reading the bill: {} request(s) × {} USD = {} USD",
            r.requests,
            crate::bill::ce::USD_PER_REQUEST,
            r.request_cost_usd
        );
    }
    let per_resource = r.rows.iter().any(|x| !x.resource_id.is_empty());
    let mut lines = vec![[
        "month".to_string(),
        "account".into(),
        "region".into(),
        "usage type".into(),
        if per_resource { "NAT gateway" } else { "" }.into(),
        "billed USD".into(),
        "modelled USD".into(),
        "diff".into(),
        "explanation".into(),
    ]];
    let usd = |d: Option<Decimal>| d.map(|d| fixed(d, 2)).unwrap_or_else(|| "-".into());
    for x in &r.rows {
        lines.push([
            x.month.clone(),
            x.account_id.clone(),
            x.region.clone(),
            x.usage_type.clone(),
            x.resource_id
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
            usd(x.billed_cost_usd),
            usd(x.modelled_cost_usd),
            x.difference_pct
                .map(|d| format!("{d}%"))
                .unwrap_or_else(|| "-".into()),
            format!(
                "{}{}",
                if x.flagged { "FLAGGED: " } else { "" },
                x.explanation
            ),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let _ = writeln!(o);
    for l in &lines {
        let mut line = String::new();
        for (c, w) in widths.iter().enumerate() {
            if *w == 0 {
                continue;
            }
            // Money and differences right-aligned.
            if (5..8).contains(&c) {
                let _ = write!(line, "{:>w$}  ", l[c], w = *w);
            } else {
                let _ = write!(line, "{:<w$}  ", l[c], w = *w);
            }
        }
        line.push_str(&l[8]);
        let _ = writeln!(o, "{}", line.trim_end());
    }
    if !r.adjustments.is_empty() {
        let _ = writeln!(o, "\nCredits, discounts, refunds and tax (not compared):");
        for a in &r.adjustments {
            let _ = writeln!(
                o,
                "  {} {} {} {} {}: {} USD",
                a.month,
                a.account_id,
                a.region,
                a.usage_type,
                a.line_item_type,
                money(a.cost)
            );
        }
    }
    for n in &r.notes {
        let _ = writeln!(o, "Note: {n}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_lines_wrap_under_their_text() {
        let text = "  - alpha beta gamma delta\nshort\nPlan: one two three four five\n";
        assert_eq!(
            wrap(text, 14),
            "  - alpha beta\n    gamma\n    delta\nshort\nPlan: one two\n    three four\n    five\n"
        );
        // A word longer than the width stays whole.
        assert_eq!(
            wrap("x arn:aws:s3:::a-very-long-bucket y\n", 10),
            "x\n    arn:aws:s3:::a-very-long-bucket\n    y\n"
        );
    }
}
