//! Renderers: each reads only the [`Report`](crate::report::Report) (`prices`: the price book).

pub mod changes;
pub mod chart;
pub mod csv;
pub mod folder;
pub mod json;
pub mod markdown;
pub mod prices;
pub mod table;
pub mod tables;
pub mod xlsx;

use rust_decimal::Decimal;

pub use crate::shown::{fixed, money};

/// "+41.20" / "-3.05" / "0.00": a change or a rounding, two decimals.
pub fn signed(d: Decimal) -> String {
    let shown = money(d);
    if crate::shown::round_shown(d, 2) > Decimal::ZERO {
        format!("+{shown}")
    } else {
        shown
    }
}

/// A rounding as a table shows it: "+0.01", "-0.04", or nothing when there is none.
pub fn rounding_cell(r: Decimal) -> String {
    if r.is_zero() {
        String::new()
    } else {
        signed(r)
    }
}

/// A column a table totals: its lines (exact; each is shown to 2 decimals, USD or GB) and
/// its exact total, "at least" when some lines are unknown.
pub struct Totaled {
    pub column: usize,
    pub lines: Vec<Decimal>,
    pub total: Decimal,
    pub at_least: bool,
    /// For a total that is a range: its most, shown after the total ("59.95 to 447.68").
    pub up_to: Option<Decimal>,
}

impl Totaled {
    pub fn new(column: usize, lines: Vec<Decimal>, total: Decimal) -> Self {
        Totaled {
            column,
            lines,
            total,
            at_least: false,
            up_to: None,
        }
    }
    pub fn at_least(mut self, yes: bool) -> Self {
        self.at_least = yes;
        self
    }
    pub fn up_to(mut self, most: Option<Decimal>) -> Self {
        self.up_to = most;
        self
    }
    /// What the lines as shown leave of the total as shown (`shown::rounding`).
    pub fn rounding(&self) -> Decimal {
        crate::shown::rounding(self.lines.iter().copied(), self.total, 2)
    }
}

/// The idle Elastic IPs' monthly run-rate, when there are any: a line of the NAT gateway
/// tables' monthly column.
pub fn idle_monthly(report: &crate::report::Report) -> Option<Decimal> {
    (!report.idle_addresses.is_empty())
        .then(|| report.idle_addresses.iter().map(|a| a.monthly()).sum())
}

/// The NAT gateway table's totalled columns, at the positions `at`: GB processed (at least,
/// when some are unknown), window USD and monthly USD (the idle addresses' line last).
pub fn nat_totals(report: &crate::report::Report, at: [usize; 3]) -> [Totaled; 3] {
    let gb: Vec<Decimal> = report.nats.iter().filter_map(|n| n.processed_gb).collect();
    let gb_unknown = gb.len() < report.nats.len();
    let gb_total = gb.iter().sum();
    let mut monthly: Vec<Decimal> = report.nats.iter().map(|n| n.monthly()).collect();
    monthly.extend(idle_monthly(report));
    [
        Totaled::new(at[0], gb, gb_total).at_least(gb_unknown),
        Totaled::new(
            at[1],
            report.nats.iter().map(|n| n.window_cost()).collect(),
            report.total_window_cost,
        )
        .at_least(report.total_is_lower_bound),
        Totaled::new(at[2], monthly, report.total_monthly_run_rate)
            .at_least(report.total_is_lower_bound),
    ]
}

/// The accounts table's totalled columns, at the positions `at`: window USD, monthly USD and
/// what the plan saves.
pub fn account_totals(report: &crate::report::Report, at: [usize; 3]) -> [Totaled; 3] {
    let saving: Vec<Decimal> = report.accounts.iter().map(|a| a.plan_saving).collect();
    let plan_total = saving.iter().sum();
    [
        Totaled::new(
            at[0],
            report.accounts.iter().map(|a| a.window_cost).collect(),
            report.total_window_cost,
        )
        .at_least(report.total_is_lower_bound),
        Totaled::new(
            at[1],
            report.accounts.iter().map(|a| a.monthly_run_rate).collect(),
            report.total_monthly_run_rate,
        )
        .at_least(report.total_is_lower_bound),
        Totaled::new(at[2], saving, plan_total),
    ]
}

/// The rows that close a Markdown table of `width` columns: "(rounding of the lines above)"
/// when a column's lines as shown do not add up to its total as shown, then the total, both
/// labelled in column `label` (`label` is "**Total**", or says what the total is of).
pub fn total_rows(width: usize, label_column: usize, label: &str, columns: &[Totaled]) -> String {
    let row = |label: &str, cell: &dyn Fn(&Totaled) -> String| {
        let mut cells = vec![String::new(); width];
        cells[label_column] = label.to_string();
        for c in columns {
            cells[c.column] = cell(c);
        }
        format!("| {} |\n", cells.join(" | "))
    };
    let mut o = String::new();
    if columns.iter().any(|c| !c.rounding().is_zero()) {
        o.push_str(&row("(rounding of the lines above)", &|c| {
            rounding_cell(c.rounding())
        }));
    }
    o.push_str(&row(label, &|c| {
        format!(
            "**{}{}{}**",
            if c.at_least { "at least " } else { "" },
            money(c.total),
            c.up_to
                .map(|m| format!(" to {}", money(m)))
                .unwrap_or_default()
        )
    }));
    o
}

/// What a plan step saves: "59.95", or "0.00 to 280.28" (its own range) for a step whose
/// saving is a range until measured.
pub fn step_saving(s: &crate::advise::Scenario, saving: Decimal) -> String {
    match s.saving_up_to {
        Some(most) => format!("{} to {}", money(saving), money(most)),
        None => money(saving),
    }
}

/// What a scenario left out of the plan is worth beside it: "160.55 on top of the plan", or
/// for one that conflicts with steps, "instead of step 7 (saves 13.23): the plan saves 160.55
/// more".
pub fn beside_plan(s: &crate::advise::Scenario) -> String {
    match (&s.instead_of, s.saving_after_plan) {
        (Some(x), _) => {
            let steps: Vec<String> = x.steps.iter().map(usize::to_string).collect();
            let change = match x.plan_change {
                d if d.is_zero() => "the same".to_string(),
                d if d < Decimal::ZERO => format!("{} less", money(-d)),
                d => format!("{} more", money(d)),
            };
            format!(
                "instead of step{} {} (saves {}): the plan saves {change}",
                if steps.len() == 1 { "" } else { "s" },
                steps.join(", "),
                money(x.steps_saving),
            )
        }
        (None, Some(on_top)) => format!("{} on top of the plan", money(on_top)),
        (None, None) => money(s.saving()),
    }
}

/// What the plan saves at the rate the bill shows paid (a negotiated discount on NAT usage):
/// "At the bill's net rate (EdpDiscount: -41.20 USD, 6.00% of the billed NAT usage), the plan
/// saves at least 56.35 USD/month (59.95 on demand)".
pub fn net_rate_line(report: &crate::report::Report) -> Option<String> {
    let n = report.reconcile.as_ref()?.net_rate.as_ref()?;
    let p = &report.plan;
    let saving = match p.monthly_saving_up_to {
        Some(most) => format!(
            "at least {}, up to {} USD/month ({} to {} on demand)",
            money(n.net(p.monthly_saving)),
            money(n.net(most)),
            money(p.monthly_saving),
            money(most)
        ),
        None => format!(
            "{} USD/month ({} on demand)",
            money(n.net(p.monthly_saving)),
            money(p.monthly_saving)
        ),
    };
    Some(format!(
        "At the bill's net rate ({}: {} USD over its months, {}% of the billed NAT usage), the plan saves {saving}, assuming the same discount on what it saves",
        n.kinds.join(", "),
        money(n.discount_usd),
        crate::shown::fixed(n.discount_pct, 2)
    ))
}

/// How many sources "Top sources" lists.
pub const TOP_SOURCES: usize = 10;

/// A source as the terminal names it: "orders-api (lambda)", "EMR core node (eni-0ab…)",
/// "subnet-0c1… (no known interface)".
pub fn source_label(s: &crate::traffic::SourceRef) -> String {
    use crate::traffic::SourceKind;
    let label = match s.kind {
        SourceKind::Lambda => format!("{} (lambda)", s.name),
        SourceKind::Eni => format!("{} ({})", s.name, s.id),
        SourceKind::Subnet => format!("{} ({})", s.id, s.name),
        _ => format!("{} ({})", s.name, s.kind.as_str()),
    };
    crate::shown::clipped(&label, 80)
}

/// "at least " before a source's figures when some of its NAT gateways' bytes are unknown.
pub fn at_least(t: &crate::allocation::SourceTotal) -> &'static str {
    if t.complete {
        ""
    } else {
        "at least "
    }
}

/// Text from AWS, files or the advice in a table cell or a line of prose: never markup
/// (`crate::shown::markdown`), and no `|` to end a cell.
pub fn cell(s: &str) -> String {
    crate::shown::markdown(s).replace('|', "\\|")
}

/// An exact decimal without trailing zeros, as written to CSV.
pub fn exact(d: Decimal) -> String {
    d.normalize().to_string()
}

/// `part` as a percentage of `whole`, one decimal: "2.0"; "0.0" of nothing.
pub fn percent(part: Decimal, whole: Decimal) -> String {
    if whole.is_zero() {
        return "0.0".into();
    }
    crate::shown::fixed(part * Decimal::ONE_HUNDRED / whole, 1)
}

/// "Plan: save 59.95 USD/month (8.6% of 696.23 USD/month) in 2 steps: 719.40 USD/year", or
/// with steps whose saving is a range, "Plan: save at least 59.95, up to 436.70 USD/month
/// (8.6% to 62.7% of 696.23 USD/month) in 4 steps: 719.40 to 5240.40 USD/year".
pub fn plan_headline(report: &crate::report::Report) -> String {
    let p = &report.plan;
    if p.steps.is_empty() {
        return format!(
            "Plan: no low-risk step saves money on this history (today {} USD/month)",
            money(p.monthly_before)
        );
    }
    let pct = |saving: Decimal| {
        if p.monthly_before.is_zero() {
            Decimal::ZERO
        } else {
            (saving * Decimal::ONE_HUNDRED / p.monthly_before).round_dp(1)
        }
    };
    let year = |saving: Decimal| saving * Decimal::from(12);
    let steps = format!(
        "{} step{}",
        p.steps.len(),
        if p.steps.len() == 1 { "" } else { "s" }
    );
    if let Some(most) = p.monthly_saving_up_to.filter(|m| *m > p.monthly_saving) {
        let least = p.monthly_saving;
        return format!(
            "Plan: save at least {}{}, up to {} USD/month{} ({}% to {}% of {} USD/month) in {steps}: {}{} to {} USD/year{}",
            money(least),
            report.also(least),
            money(most),
            report.also(most),
            pct(least),
            pct(most),
            money(p.monthly_before),
            money(year(least)),
            report.also(year(least)),
            money(year(most)),
            report.also(year(most)),
        );
    }
    let pct = pct(p.monthly_saving);
    let year = year(p.monthly_saving);
    format!(
        "Plan: save {} USD/month{} ({pct}% of {} USD/month) in {} step{}: {} USD/year{}",
        money(p.monthly_saving),
        report.also(p.monthly_saving),
        money(p.monthly_before),
        p.steps.len(),
        if p.steps.len() == 1 { "" } else { "s" },
        money(year),
        report.also(year)
    )
}
