//! report.md: the charts, the tables and the assumptions behind every number.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::{cell, exact, fixed, money, Totaled};
use crate::advise::Tier;
use crate::report::Report;

/// `prod-nat-a (nat-06eb…)`: a resource's name beside its id, or the id alone; several
/// `;`-joined ids each so.
fn named(report: &Report, ids: &str) -> String {
    ids.split(';')
        .map(|id| match report.names.get(id) {
            Some(name) => format!("{} ({id})", cell(name)),
            None => id.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`named`] for a scenario's resources, with its account when there are several.
fn named_in(report: &Report, s: &crate::advise::Scenario) -> String {
    named(report, &s.resource_id) + &report.in_account(s)
}

pub fn render(report: &Report, charts: &[(&str, &str)]) -> String {
    let mut o = String::new();
    let w = report.window;
    let _ = writeln!(o, "# NAT gateway cost report\n");
    let several = report.accounts.len() > 1;
    let _ = writeln!(
        o,
        "{}, {} — {} to {} ({} hours). Prices: {}. Made by natcost {} from {}.\n",
        if several {
            format!("**{} accounts**", report.accounts.len())
        } else {
            format!("Account **{}**", report.account_id)
        },
        report.region_list(),
        w.start.format("%Y-%m-%d %H:%M"),
        w.end.format("%Y-%m-%d %H:%M UTC"),
        w.hours(),
        cell(&report.prices.label),
        report.tool_version,
        cell(&report.source)
    );
    let at_least = if report.total_is_lower_bound {
        "at least "
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "**Cost in the window: {at_least}{} USD{}. Monthly run-rate: {at_least}{} USD{}.**\n",
        money(report.total_window_cost),
        report.also(report.total_window_cost),
        money(report.total_monthly_run_rate),
        report.also(report.total_monthly_run_rate)
    );
    if !report.estimated_window_cost.is_zero() {
        let _ = writeln!(
            o,
            "Of the window's cost, {} USD ({}%) is estimated, not measured: inter-AZ transfer, from who sits in each subnet (flow logs measure it); the rest is usage AWS bills, from CloudWatch.\n",
            money(report.estimated_window_cost),
            super::percent(report.estimated_window_cost, report.total_window_cost)
        );
    }
    if report.total_is_lower_bound {
        let _ = writeln!(
            o,
            "The totals are lower bounds: the usage of some lines was not collected (their quantity is empty in costs.csv) and only the known lines are added.\n"
        );
    }
    if let Some(fx) = &report.fx {
        let _ = writeln!(
            o,
            "Amounts in {} are USD × {} ({}); every table and CSV stays in USD.\n",
            fx.currency,
            fx.rate.normalize(),
            cell(&fx.source)
        );
    }
    if !report.not_collected.is_empty() || !report.warnings.is_empty() {
        let _ = writeln!(o, "## What is missing\n");
        for n in &report.not_collected {
            let _ = writeln!(o, "- not collected: {}", cell(n));
        }
        for n in &report.warnings {
            let _ = writeln!(o, "- {}", cell(n));
        }
        let _ = writeln!(o);
    }

    if several {
        let _ = writeln!(o, "## Accounts\n");
        let _ = writeln!(
            o,
            "| Account | Name | Regions | NAT gateways | Window USD | Monthly USD | Plan saves USD/month | Not collected |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|");
        for a in &report.accounts {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                a.account_id,
                cell(a.name.as_deref().unwrap_or("")),
                a.regions,
                a.nat_gateways,
                money(a.window_cost),
                money(a.monthly_run_rate),
                money(a.plan_saving),
                a.not_collected
            );
        }
        o.push_str(&super::total_rows(
            8,
            0,
            "**Total**",
            &super::account_totals(report, [4, 5, 6]),
        ));
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## NAT gateways\n");
    let _ = writeln!(
        o,
        "| Account | NAT gateway | Name | VPC | AZ | State | Lambdas | Billed hours | GB processed | Window USD | Monthly USD |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---:|---:|---:|---:|---:|");
    for n in &report.nats {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            n.account_id,
            n.nat_gateway_id,
            cell(n.name.as_deref().unwrap_or("")),
            named(report, &n.vpc_id),
            n.availability_zone,
            cell(&match &n.found_by {
                Some(how) => format!("{} (found through {how})", n.state),
                None => n.state.clone(),
            }),
            n.lambdas.len(),
            n.billed_hours,
            n.processed_gb
                .map(|g| fixed(g, 2))
                .unwrap_or_else(|| "unknown".into()),
            money(n.window_cost()),
            money(n.monthly())
        );
    }
    if let Some(idle) = super::idle_monthly(report) {
        let _ = writeln!(
            o,
            "| | Elastic IPs associated with nothing (below) | | | | | | | | | {} |",
            money(idle)
        );
    }
    o.push_str(&super::total_rows(
        11,
        0,
        "**Total**",
        &super::nat_totals(report, [8, 9, 10]),
    ));
    let _ = writeln!(o);
    o.push_str(&idle_addresses(report));
    o.push_str(&trend(report));
    o.push_str(&changes(report));
    o.push_str(&bill(report));
    for (file, title) in charts {
        let _ = writeln!(
            o,
            "![{title}]({file})\n\n(vector for slides: [{svg}]({svg}))\n",
            svg = crate::render::chart::svg_name(file)
        );
    }

    o.push_str(&flows(report));
    if report.flows.is_none() && !report.flow_log_configs.is_empty() {
        let _ = writeln!(o, "## Flow logs to measure traffic with\n");
        let _ = writeln!(
            o,
            "These flow logs exist; read them with `--flow-logs auto` (or their files or S3 location) to replace the estimated shares with measured ones:\n"
        );
        for f in &report.flow_log_configs {
            let _ = writeln!(o, "- {}", cell(f));
        }
        let _ = writeln!(o);
    }
    o.push_str(&plan(report));
    if !report.not_worth_it.is_empty() {
        let _ = writeln!(o, "## Considered, and not worth it on this history\n");
        for s in &report.not_worth_it {
            let _ = writeln!(
                o,
                "- **{}** {} (`{}`, {}): {} → {} USD/month. {}",
                s.alternative,
                cell(&report.scenario_label(s)),
                s.id,
                s.tier.as_str(),
                money(s.monthly_before),
                money(s.monthly_after),
                cell(&s.evidence.join("; "))
            );
            if let Some(x) = s.saving_after_plan.filter(|x| *x <= Decimal::ZERO) {
                let _ = writeln!(
                    o,
                    "  Beside the plan it saves {} USD/month: its steps already do this.",
                    money(x)
                );
            }
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Cost lines by month\n");
    let _ = writeln!(
        o,
        "Every line is quantity × unit price = cost; `costs.csv` has them unrounded.\n"
    );
    let _ = writeln!(
        o,
        "| Month | NAT gateway | Usage type | Quantity | Unit | Unit price USD | Cost USD |"
    );
    let _ = writeln!(o, "|---|---|---|---:|---|---:|---:|");
    // Month by month, each closed by its total, so the lines above a total are the ones it adds.
    for m in &report.monthly_totals {
        let mut costs = Vec::new();
        let mut unknown = false;
        for n in &report.nats {
            for l in n.lines.iter().filter(|l| l.period_start == m.period_start) {
                let c = &l.charge;
                costs.extend(c.cost);
                unknown |= c.cost.is_none();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    l.period_start.format("%Y-%m"),
                    named(report, &n.nat_gateway_id),
                    cell(&c.usage_type),
                    c.quantity.map(|q| fixed(q, 3)).unwrap_or_default(),
                    cell(&c.unit),
                    exact(c.unit_price),
                    c.cost.map(money).unwrap_or_default()
                );
            }
        }
        let label = format!("**Total** {}", m.period_start.format("%Y-%m"));
        o.push_str(&super::total_rows(
            7,
            0,
            &label,
            &[Totaled::new(6, costs, m.cost).at_least(unknown)],
        ));
    }
    let _ = writeln!(o);

    if !report.egress.is_empty() {
        let _ = writeln!(o, "## Internet egress (same under every alternative)\n");
        let _ = writeln!(o, "| NAT gateway | GB/month (at most) | Usage type | Unit price USD | USD/month (at most) |");
        let _ = writeln!(o, "|---|---:|---|---:|---:|");
        for e in &report.egress {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                named(report, &e.nat_gateway_id),
                fixed(e.monthly_gb_upper_bound, 2),
                cell(&e.usage_type),
                exact(e.unit_price),
                money(e.monthly_cost_upper_bound)
            );
        }
        let gb: Vec<Decimal> = report
            .egress
            .iter()
            .map(|e| e.monthly_gb_upper_bound)
            .collect();
        let usd: Vec<Decimal> = report
            .egress
            .iter()
            .map(|e| e.monthly_cost_upper_bound)
            .collect();
        let (gb_total, usd_total) = (gb.iter().sum(), usd.iter().sum());
        o.push_str(&super::total_rows(
            5,
            0,
            "**Total**",
            &[
                Totaled::new(1, gb, gb_total),
                Totaled::new(4, usd, usd_total),
            ],
        ));
        let _ = writeln!(o);
    }

    o.push_str(&top_sources(report));
    let _ = writeln!(o, "## Lambda functions\n");
    let _ = writeln!(
        o,
        "| Function | VPC | AZs | NAT gateways | Cross-AZ | GB/month | USD/month | Basis |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---:|---:|---|");
    for l in &report.lambdas {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&l.function_name),
            l.vpc_id.as_deref().unwrap_or("(no VPC)"),
            l.availability_zones.join(", "),
            named(report, &l.nat_gateway_ids.join(";")),
            if l.cross_az { "yes" } else { "" },
            l.monthly_gb.map(|g| fixed(g, 2)).unwrap_or_default(),
            l.monthly_cost.map(money).unwrap_or_default(),
            l.basis.map(|b| b.as_str()).unwrap_or_default()
        );
    }
    let _ = writeln!(o);

    let _ = writeln!(o, "## Assumptions\n");
    for a in &report.assumptions {
        let _ = writeln!(o, "- {}", cell(a));
    }
    let _ = writeln!(o, "- Prices: {}.", cell(&report.prices.label));
    if !report.prices.unconfirmed.is_empty() {
        let _ = writeln!(
            o,
            "- Bundled prices not yet confirmed against the AWS Price List: {}.",
            cell(&report.prices.unconfirmed.join(", "))
        );
    }
    o
}

/// The costliest sources by monthly run-rate; allocation.csv has every month and source.
fn top_sources(report: &Report) -> String {
    let mut o = String::new();
    let top = report.top_sources(super::TOP_SOURCES);
    // Teams are shown even when no NAT gateway has a source (every one idle).
    if top.is_empty() && report.allocation.team_tags.is_empty() {
        return o;
    }
    let _ = writeln!(o, "## Top sources\n");
    let _ = writeln!(
        o,
        "Each source's part of its NAT gateways' monthly run-rate: its data processing, its inter-AZ transfer and {} (allocation.csv has every month and every source; estimated-headcount splits a NAT gateway's bytes by who sits in each subnet; estimated-insights by the Lambda Insights bytes of {}, the rest by head count).\n",
        match report.allocation.fixed_costs {
            crate::allocation::FixedCosts::Proportional =>
                "a share of the fixed cost (hours, public IPv4) in proportion to its bytes",
            crate::allocation::FixedCosts::Separate =>
                "no fixed cost (kept apart on `shared` rows, --fixed-costs separate)",
        },
        if report.allocation.insights.is_empty() {
            "the functions that have it (none here: Lambda Insights is not on)".to_string()
        } else {
            cell(&report.allocation.insights.join(", "))
        }
    );
    let _ = writeln!(
        o,
        "| # | Source | Kind | NAT gateways | GB/month | USD/month | Basis |"
    );
    let _ = writeln!(o, "|---:|---|---|---|---:|---:|---|");
    for (i, t) in top.iter().enumerate() {
        let source = match t.source.kind {
            crate::traffic::SourceKind::Lambda => t.source.name.clone(),
            _ => format!("{} {}", t.source.id, t.source.name),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {}{} | {}{}{} | {} |",
            i + 1,
            cell(&source),
            t.source.kind.as_str(),
            cell(&report.name_of(&t.nat_gateway_ids.join(";"))),
            super::at_least(t),
            fixed(t.monthly_gb, 2),
            super::at_least(t),
            money(t.monthly_cost),
            report.also(t.monthly_cost),
            t.basis.as_str()
        );
    }
    let _ = writeln!(o);
    let teams = report.team_totals();
    if !teams.is_empty() {
        let _ = writeln!(
            o,
            "**By team** (tag{} {}; the first a source has), monthly run-rate:\n",
            if report.allocation.team_tags.len() == 1 {
                ""
            } else {
                "s"
            },
            cell(&report.allocation.team_tags.join(", "))
        );
        let _ = writeln!(o, "| Team | GB/month | USD/month | Basis |");
        let _ = writeln!(o, "|---|---:|---:|---|");
        for t in &teams {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                cell(&t.team),
                t.gb.map(|g| fixed(g, 2))
                    .unwrap_or_else(|| "unknown".into()),
                t.cost_usd.map(money).unwrap_or_else(|| "unknown".into()),
                t.basis.as_str()
            );
        }
        let gb: Vec<Decimal> = teams.iter().filter_map(|t| t.gb).collect();
        let usd: Vec<Decimal> = teams.iter().filter_map(|t| t.cost_usd).collect();
        let (gb_unknown, usd_unknown) = (gb.len() < teams.len(), usd.len() < teams.len());
        let (gb_total, usd_total) = (gb.iter().sum(), usd.iter().sum());
        o.push_str(&super::total_rows(
            4,
            0,
            "**Total**",
            &[
                Totaled::new(1, gb, gb_total).at_least(gb_unknown),
                Totaled::new(2, usd, usd_total).at_least(usd_unknown),
            ],
        ));
        let _ = writeln!(
            o,
            "\n![{title}]({png})\n\n(vector for slides: [{svg}]({svg}); every month and team in allocation_by_team.csv)\n",
            title = crate::render::chart::ALLOCATION_CHART.1,
            png = crate::render::chart::ALLOCATION_CHART.0,
            svg = crate::render::chart::svg_name(crate::render::chart::ALLOCATION_CHART.0)
        );
    }
    o
}

/// What changed between the last two whole months, and the days whose bytes jumped.
fn changes(report: &Report) -> String {
    let mut o = String::new();
    if let Some(c) = &report.changes {
        o.push_str(&super::changes::markdown_section(
            c,
            "## What changed since last month",
        ));
    }
    if !report.anomalies.is_empty() {
        let _ = writeln!(o, "## Days whose bytes jumped\n");
        let _ = writeln!(
            o,
            "Each is {} (marked on daily_gb.png).\n",
            super::changes::anomaly_rule()
        );
        let listed = super::changes::ANOMALIES_LISTED;
        for a in report.anomalies.iter().take(listed) {
            let _ = writeln!(
                o,
                "- {}",
                crate::shown::markdown(&super::changes::anomaly_line(a))
            );
            if let Some(who) = super::changes::anomaly_sources(a, report.flows.is_some()) {
                let _ = writeln!(o, "  - {}", crate::shown::markdown(&who));
            }
        }
        if report.anomalies.len() > listed {
            let _ = writeln!(
                o,
                "- and {} more days (report.json lists every one)",
                report.anomalies.len() - listed
            );
        }
        let _ = writeln!(o);
    }
    o
}

/// Elastic IPs associated with nothing: each line quantity × unit price = cost a month.
fn idle_addresses(report: &Report) -> String {
    let mut o = String::new();
    if report.idle_addresses.is_empty() {
        return o;
    }
    let _ = writeln!(
        o,
        "## Elastic IPs associated with nothing
"
    );
    let _ = writeln!(
        o,
        "Still billed by the hour, like an address in use; in the monthly run-rate (when they were allocated is not in the snapshot, so they have no cost in the window).\n"
    );
    let _ = writeln!(
        o,
        "| Account | Region | Allocation | Public IP | Name | Had it | Usage type | Hours/month | Unit price USD | Monthly USD |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---:|---:|---:|");
    for a in &report.idle_addresses {
        let c = &a.run_rate;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            a.account_id,
            a.region,
            a.allocation_id,
            cell(&a.public_ip),
            cell(a.name.as_deref().unwrap_or("")),
            a.left_by
                .as_deref()
                .map(|n| named(report, n))
                .unwrap_or_default(),
            cell(&c.usage_type),
            c.quantity.map(exact).unwrap_or_default(),
            exact(c.unit_price),
            money(a.monthly())
        );
    }
    let _ = writeln!(o);
    o
}

/// "Matches the bill?": the model set against the bill, line by line.
fn bill(report: &Report) -> String {
    let mut o = String::new();
    let Some(r) = &report.reconcile else {
        return o;
    };
    let (within, flagged) = (r.within(), r.flagged());
    let _ = writeln!(o, "## Matches the bill?\n");
    let cost = if r.requests > 0 {
        format!(
            " Reading the bill took {} request(s) × {} USD = {} USD.",
            r.requests,
            crate::bill::ce::USD_PER_REQUEST,
            r.request_cost_usd
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "{} line(s) from {}; {within} within {}%, {flagged} off and not explained (flagged).{cost} Every row is in reconcile.csv.\n",
        r.rows.len(),
        cell(&r.source),
        crate::bill::TOLERANCE_PCT,
    );
    for n in &r.notes {
        let _ = writeln!(o, "- {}", cell(n));
    }
    if !r.notes.is_empty() {
        let _ = writeln!(o);
    }
    let per_resource = r.rows.iter().any(|x| !x.resource_id.is_empty());
    let _ = writeln!(
        o,
        "| Month | Account | Region | Usage type |{} Billed | Billed USD | Modelled | Modelled USD | Difference | Explanation |",
        if per_resource { " NAT gateway |" } else { "" }
    );
    let _ = writeln!(
        o,
        "|---|---|---|---|{}---:|---:|---:|---:|---:|---|",
        if per_resource { "---|" } else { "" }
    );
    let num = |d: Option<Decimal>| d.map(|d| fixed(d, 2)).unwrap_or_default();
    for x in &r.rows {
        let resource = if per_resource {
            format!(
                " {} |",
                cell(x.resource_id.rsplit('/').next().unwrap_or_default())
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |{resource} {} | {} | {} | {} | {} | {}{} |",
            x.month,
            cell(&x.account_id),
            cell(&x.region),
            cell(&x.usage_type),
            num(x.billed_quantity),
            num(x.billed_cost_usd),
            num(x.modelled_quantity),
            num(x.modelled_cost_usd),
            x.difference_pct
                .map(|d| format!("{d}%"))
                .unwrap_or_default(),
            if x.flagged { "**flagged**: " } else { "" },
            cell(&x.explanation)
        );
    }
    if let Some(line) = super::net_rate_line(report) {
        let _ = writeln!(o, "\n{line}.");
    }
    if !r.adjustments.is_empty() {
        let _ = writeln!(
            o,
            "\nCredits, discounts, refunds and tax on these usage types, not compared with the model (it prices on-demand usage):\n"
        );
        let _ = writeln!(
            o,
            "| Month | Account | Region | Usage type | Line item type | USD |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---:|");
        for a in &r.adjustments {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                a.month,
                cell(&a.account_id),
                cell(&a.region),
                cell(&a.usage_type),
                cell(&a.line_item_type),
                money(a.cost)
            );
        }
    }
    let _ = writeln!(
        o,
        "\n![{}]({}) (vector for slides: [{svg}]({svg}))\n",
        crate::render::chart::RECONCILE_CHART.1,
        crate::render::chart::RECONCILE_CHART.0,
        svg = crate::render::chart::svg_name(crate::render::chart::RECONCILE_CHART.0)
    );
    o
}

/// The plan table's last rows: the steps' savings add up to the plan's least (each step is
/// priced after the steps before); their most cannot add, and a note says why.
fn plan_total(report: &Report) -> String {
    let p = &report.plan;
    let steps = p.numbered_steps(&report.recommendations);
    let least: Vec<Decimal> = steps.iter().map(|(_, _, saving)| *saving).collect();
    let mut o = super::total_rows(
        6,
        2,
        "**Total**",
        &[Totaled::new(4, least, p.monthly_saving).up_to(p.monthly_saving_up_to)],
    );
    let Some(most) = p.monthly_saving_up_to else {
        return o;
    };
    let rows_most: Decimal = steps
        .iter()
        .map(|(_, s, saving)| s.saving_up_to.unwrap_or(*saving))
        .sum();
    if crate::shown::round_shown(rows_most, 2) != crate::shown::round_shown(most, 2) {
        let _ = writeln!(
            o,
            "\nThe plan's most ({}) is not the sum of the rows' most ({}): each gateway endpoint's most assumes all of its NAT gateways' data processing is its own service's traffic, which cannot hold for two services at once, so the plan counts those bytes once.",
            money(most),
            money(rows_most)
        );
    }
    o
}

/// Month over month: cost and GB processed, and their change from the month before. A month
/// the window covers only in part is marked, and no change is computed against it or from it.
fn trend(report: &Report) -> String {
    let mut o = String::new();
    if report.monthly_totals.len() < 2 {
        return o;
    }
    let _ = writeln!(o, "## Month over month\n");
    let _ = writeln!(o, "| Month | Cost USD | Change | GB processed | Change |");
    let _ = writeln!(o, "|---|---:|---:|---:|---:|");
    let change = |now: Decimal, before: Option<Decimal>| match before {
        Some(b) if !b.is_zero() => {
            let pct = ((now - b) / b * Decimal::from(100)).round_dp(1);
            format!("{}{pct:.1}%", if pct > Decimal::ZERO { "+" } else { "" })
        }
        _ => String::new(),
    };
    let mut prev: Option<&crate::report::MonthTotal> = None;
    for m in &report.monthly_totals {
        let comparable = prev.filter(|p| !p.partial && !m.partial);
        let _ = writeln!(
            o,
            "| {}{} | {} | {} | {} | {} |",
            m.period_start.format("%Y-%m"),
            if m.partial {
                format!(
                    " (partial: {} to {})",
                    m.period_start.format("%m-%d %H:%M"),
                    m.period_end.format("%m-%d %H:%M")
                )
            } else {
                String::new()
            },
            money(m.cost),
            change(m.cost, comparable.map(|p| p.cost)),
            m.processed_gb
                .map(|g| fixed(g, 2))
                .unwrap_or_else(|| "unknown".into()),
            match (m.processed_gb, comparable.and_then(|p| p.processed_gb)) {
                (Some(g), Some(b)) => change(g, Some(b)),
                _ => String::new(),
            }
        );
        prev = Some(m);
    }
    let months = &report.monthly_totals;
    let mut columns = vec![Totaled::new(
        1,
        months.iter().map(|m| m.cost).collect(),
        report.total_window_cost,
    )
    .at_least(report.total_is_lower_bound)];
    if let Some(gb) = months
        .iter()
        .map(|m| m.processed_gb)
        .collect::<Option<Vec<_>>>()
    {
        let total = gb.iter().sum();
        columns.push(Totaled::new(3, gb, total));
    }
    o.push_str(&super::total_rows(5, 0, "**Total** (the window)", &columns));
    let _ = writeln!(
        o,
        "\nChanges compare whole months only; a partial month's cost covers only its hours.\n"
    );
    o
}

/// The plan first, then what to consider on top of it, then what to measure first, then the
/// evidence and action of each.
fn plan(report: &Report) -> String {
    let mut o = String::new();
    let p = &report.plan;
    let _ = writeln!(o, "## {}\n", super::plan_headline(report));
    let _ = writeln!(
        o,
        "Low-risk steps (measured or estimated) that can all be done together, chosen to save the most. The saving is priced on the state after every step, so overlapping savings count once: {} → {} USD/month.\n",
        money(p.monthly_before),
        money(p.monthly_after)
    );
    if let Some(most) = p.monthly_saving_up_to {
        let _ = writeln!(
            o,
            "Free steps whose saving is not measured yet (gateway endpoints) are in the plan too: they count at their least (0) in the first figure and at their most in the second, {} → {} USD/month; their rows give their own range.\n",
            money(p.monthly_before),
            money(p.monthly_before - most)
        );
    }
    if !p.steps.is_empty() {
        let _ = writeln!(
            o,
            "| Step | Account | Scenario | Resource | Saves USD/mo (after the steps before) | Confidence |"
        );
        let _ = writeln!(o, "|---:|---|---|---|---:|---|");
        for (n, s, saving) in p.numbered_steps(&report.recommendations) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                n,
                s.account_id,
                s.alternative,
                named(report, &s.resource_id),
                super::step_saving(s, saving),
                s.confidence.as_str()
            );
        }
        o.push_str(&plan_total(report));
        let _ = writeln!(o);
    }
    let tier = |t: Tier| report.recommendations.iter().filter(move |s| s.tier == t);
    let left_out: Vec<_> = tier(Tier::DoNow).filter(|s| !s.in_plan).collect();
    if !left_out.is_empty() {
        let _ = writeln!(
            o,
            "Low-risk, but left out because they conflict with a step of the plan:\n"
        );
        for s in left_out {
            let _ = writeln!(
                o,
                "- {} {}: {} USD/month alone; {}",
                s.alternative,
                named_in(report, s),
                super::step_saving(s, s.saving()),
                super::beside_plan(s)
            );
        }
        let _ = writeln!(o);
    }
    let consider: Vec<_> = tier(Tier::Consider).collect();
    if !consider.is_empty() {
        let _ = writeln!(o, "## Consider\n");
        let _ = writeln!(o, "Riskier changes. Each is shown alone, then beside the plan: on top of its steps, or instead of the steps it conflicts with (with what those steps save, and how the plan's saving changes).\n");
        let _ = writeln!(o, "| Scenario | Resource | Alone USD/mo | Beside the plan USD/mo | Confidence | Risk | Conflicts with |");
        let _ = writeln!(o, "|---|---|---:|---|---|---|---|");
        for s in consider {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                s.alternative,
                named_in(report, s),
                money(s.saving()),
                super::beside_plan(s),
                s.confidence.as_str(),
                cell(&s.risk_text()),
                cell(&s.conflicts_with.join(", "))
            );
        }
        let _ = writeln!(o);
    }
    let measure: Vec<_> = tier(Tier::MeasureFirst).collect();
    if !measure.is_empty() {
        let _ = writeln!(o, "## Measure first\n");
        let _ = writeln!(o, "These depend on data natcost does not have yet. They are sensitivities, not savings.\n");
        for s in &measure {
            if let Some(x) = &s.sensitivity {
                let _ = writeln!(
                    o,
                    "- **{}** {}: {} is worth {} USD/month.",
                    s.alternative,
                    cell(&report.scenario_label(s)),
                    cell(&x.per),
                    money(x.monthly_usd)
                );
            }
        }
        let mut how: Vec<&str> = measure
            .iter()
            .filter_map(|s| s.sensitivity.as_ref().map(|x| x.how_to_measure.as_str()))
            .collect();
        how.sort_unstable();
        how.dedup();
        let _ = writeln!(o, "\nHow to measure:\n");
        for h in how {
            let _ = writeln!(o, "- {}", cell(h));
        }
        let _ = writeln!(o);
    }
    if report.recommendations.is_empty() {
        let _ = writeln!(o, "No alternative saves money on this history.\n");
        return o;
    }
    let _ = writeln!(o, "## Every recommendation, with its evidence and action\n");
    for (i, s) in report.recommendations.iter().enumerate() {
        let _ = writeln!(
            o,
            "### {}. {} — {} (`{}`)\n",
            i + 1,
            s.alternative,
            cell(&report.scenario_label(s)),
            s.id
        );
        let headline = match (s.tier, &s.sensitivity, s.saving_up_to) {
            (Tier::MeasureFirst, Some(x), _) => format!(
                "measure first: {} is worth {} USD/month",
                cell(&x.per),
                money(x.monthly_usd)
            ),
            (_, _, Some(most)) => format!(
                "{}{}: {} USD/month today, saves at least {}, up to {} USD/month",
                s.tier.as_str(),
                if s.in_plan { ", in the plan" } else { "" },
                money(s.monthly_before),
                money(s.saving()),
                money(most)
            ),
            _ => format!(
                "{}{}: {} → {} USD/month, saves {}",
                s.tier.as_str(),
                if s.in_plan { ", in the plan" } else { "" },
                money(s.monthly_before),
                money(s.monthly_after),
                money(s.saving())
            ),
        };
        let _ = writeln!(
            o,
            "- {headline} ({}; risk {})",
            s.confidence.as_str(),
            cell(&s.risk_text())
        );
        for e in &s.evidence {
            let _ = writeln!(o, "- {}", cell(e));
        }
        if !s.conflicts_with.is_empty() {
            let _ = writeln!(
                o,
                "- conflicts with: {}",
                cell(&s.conflicts_with.join(", "))
            );
        }
        if !s.notes.is_empty() {
            let _ = writeln!(o, "\nNotes (decide or prepare these yourself):\n");
            for n in &s.notes {
                let _ = writeln!(o, "- {}", cell(n));
            }
        }
        if !s.action.is_empty() {
            let _ = writeln!(
                o,
                "\nAction:\n\n```sh\n{}\n```\n",
                s.action.replace(" && ", " &&\n")
            );
        }
    }
    o
}

/// "Who sends the bytes": per NAT gateway, destinations and sources from flow logs.
pub fn flows(report: &Report) -> String {
    let mut o = String::new();
    let Some(f) = &report.flows else {
        return o;
    };
    let s = &f.stats;
    let gb = |b: u64| b as f64 / crate::price::model::BYTES_PER_GB as f64;
    let _ = writeln!(o, "## Who sends the bytes (VPC Flow Logs)\n");
    let _ = writeln!(
        o,
        "{} file(s), {} line(s) read; {} record(s) on NAT gateway interfaces inside the window, {} skipped ({} outside the window), {} corrupt line(s), {} unreadable file(s). Destinations by {}, longest prefix. Each byte counted once: destinations from the NAT interface's outside leg, sources from its inside leg.\n",
        s.files, s.lines, s.records, s.skipped, s.outside_window, s.corrupt_lines, s.failed_files.len(), cell(&f.ip_ranges)
    );
    for r in &f.read_from {
        let _ = writeln!(o, "- read: {}", cell(r));
    }
    for e in s.corrupt_examples.iter().chain(&s.failed_files) {
        let _ = writeln!(o, "- skipped: {}", cell(e));
    }
    for t in &f.nats {
        let scale = report.flow_scale.get(&t.nat_gateway_id);
        let _ = writeln!(
            o,
            "### {} ({})\n\n{:.2} GB seen in flow logs{}.\n",
            cell(&report.name_of(&t.nat_gateway_id)),
            t.nat_gateway_id,
            gb(t.destination_bytes),
            scale
                .map(|k| format!("; CloudWatch counted {k:.2} × that in the window, so shares are applied to CloudWatch's total"))
                .unwrap_or_default()
        );
        let processing = report
            .nats
            .iter()
            .find(|n| n.nat_gateway_id == t.nat_gateway_id)
            .map(|n| n.monthly_of(crate::price::model::Component::NatBytes));
        let _ = writeln!(
            o,
            "Logs cover {:.1} day(s). Shares count as measured from {} days or {:.0}% of CloudWatch's bytes; below that they are estimates.\n",
            t.days_covered(),
            crate::traffic::MEASURED_MIN_DAYS,
            100.0 * crate::traffic::MEASURED_MIN_SHARE
        );
        let mut own: Vec<String> = report
            .allocation
            .months_measured
            .iter()
            .filter(|(nat, _)| *nat == t.nat_gateway_id)
            .map(|(_, month)| month.format("%Y-%m").to_string())
            .collect();
        own.sort();
        let _ = writeln!(
            o,
            "Clients' bytes are dated to {} day(s). allocation.csv splits {} by that month's own records (the same rule, within the month), any other month by the window's shares.\n",
            t.daily_sources.len(),
            if own.is_empty() {
                "no month".to_string()
            } else {
                own.join(", ")
            }
        );
        let _ = writeln!(
            o,
            "| Destination | GB seen | Share | NAT data processing USD/month |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|");
        let mut dest: Vec<_> = t.destinations.iter().collect();
        dest.sort_by(|a, b| b.1.cmp(a.1));
        for (d, b) in dest {
            let usd = processing
                .and_then(|p| Decimal::try_from(t.share(d)).ok().map(|s| money(p * s)))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "| {} | {:.3} | {:.1}% | {usd} |",
                cell(&d.label()),
                gb(*b),
                100.0 * t.share(d)
            );
        }
        let _ = writeln!(o, "\n| Source | GB seen | Share |");
        let _ = writeln!(o, "|---|---:|---:|");
        for (name, b) in t.sources.iter().take(15) {
            let share = if t.source_bytes == 0 {
                0.0
            } else {
                100.0 * *b as f64 / t.source_bytes as f64
            };
            let _ = writeln!(o, "| {} | {:.3} | {share:.1}% |", cell(name), gb(*b));
        }
        for split in &t.shared_splits {
            let parts: Vec<String> = split
                .functions
                .iter()
                .map(|f| {
                    format!(
                        "{} {:.1}% ({:.0} ms) = {:.3} GB",
                        cell(&f.function_name),
                        100.0 * f.share,
                        f.duration_ms,
                        gb(f.bytes)
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "\nShared Lambda ENI {} ({:.3} GB) split, {}: {}.",
                split.network_interface_id,
                gb(split.bytes),
                split.method,
                parts.join("; ")
            );
        }
        if !t.pairs.is_empty() {
            let _ = writeln!(o, "\n| Source → destination | GB seen |");
            let _ = writeln!(o, "|---|---:|");
            for (src, d, b) in t.pairs.iter().take(15) {
                let _ = writeln!(
                    o,
                    "| {} → {} | {:.3} |",
                    cell(src),
                    cell(&d.label()),
                    gb(*b)
                );
            }
        }
        let _ = writeln!(o);
    }
    for a in &f.ambiguous {
        let _ = writeln!(o, "- note: {}", cell(a));
    }
    o
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use crate::price::PriceBook;
    use crate::report::{MonthTotal, Report};
    use crate::snapshot::Snapshot;

    fn month(m: u32, cost: Decimal, gb: Option<Decimal>, partial: bool) -> MonthTotal {
        let t = |m: u32, d: u32| {
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, m, d, 0, 0, 0).unwrap()
        };
        MonthTotal {
            period_start: t(m, if partial { 15 } else { 1 }),
            period_end: t(m + 1, 1),
            cost,
            processed_gb: gb,
            partial,
        }
    }

    #[test]
    fn month_over_month_compares_whole_months_only() {
        let snap = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let mut report = Report::build(&snap, &PriceBook::bundled(), "sample", None).unwrap();
        report.monthly_totals = vec![
            month(6, dec!(100), Some(dec!(50)), true),
            month(7, dec!(200), Some(dec!(400)), false),
            month(8, dec!(150), Some(dec!(500)), false),
            month(9, dec!(150), None, false),
        ];
        let md = super::trend(&report);
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| 2026-")).collect();
        assert_eq!(
            rows,
            [
                "| 2026-06 (partial: 06-15 00:00 to 07-01 00:00) | 100.00 |  | 50.00 |  |",
                "| 2026-07 | 200.00 |  | 400.00 |  |",
                "| 2026-08 | 150.00 | -25.0% | 500.00 | +25.0% |",
                "| 2026-09 | 150.00 | 0.0% | unknown |  |",
            ]
        );
        // The sample's own months: September is partial (the snapshot starts on the 26th).
        let own = super::trend(&Report::build(&snap, &PriceBook::bundled(), "s", None).unwrap());
        assert!(
            own.contains("| 2026-09 (partial: 09-26 00:00 to 10-01 00:00) |"),
            "{own}"
        );
    }
}
