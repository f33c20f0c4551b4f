//! natcost.xlsx: the finance tables as a workbook, for a reviewer who works in Excel. Sheets
//! Summary, Plan, Costs, Recommendations, Allocation, Teams (with `--allocate-by`), Lambdas
//! and Reconcile (with a bill). Figures are numbers with formats (USD to 2 decimals, GB to 3),
//! headers are frozen and filtered, and the totals are formulas (SUBTOTAL, so a filter moves
//! them), each written with its exact result so a reader that does not calculate shows it too.

use chrono::{Datelike, Timelike};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::utility::{column_number_to_name, row_col_to_cell};
use rust_xlsxwriter::{
    Chart, ChartType, ColNum, DocProperties, ExcelDateTime, Format, FormatBorder, Formula, Image,
    RowNum, Workbook, Worksheet, XlsxError,
};

use super::tables::{self, Kind, Table};
use super::{exact, money};
use crate::report::Report;

type Result<T> = std::result::Result<T, XlsxError>;

/// The images the Summary sheet shows: PNG file names and bytes.
pub type Images<'a> = &'a [(&'a str, Vec<u8>)];

struct Formats {
    title: Format,
    header: Format,
    bold: Format,
    usd: Format,
    gb: Format,
    quantity: Format,
    price: Format,
    percent: Format,
    count: Format,
    total_usd: Format,
    total_gb: Format,
}

impl Formats {
    fn new() -> Formats {
        let usd = "#,##0.00";
        let gb = "#,##0.000";
        let total = Format::new().set_bold().set_border_top(FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(16),
            header: Format::new()
                .set_bold()
                .set_background_color(0xD9E1F2)
                .set_border_bottom(FormatBorder::Thin),
            bold: Format::new().set_bold(),
            usd: Format::new().set_num_format(usd),
            gb: Format::new().set_num_format(gb),
            quantity: Format::new().set_num_format(gb),
            price: Format::new().set_num_format("0.00######"),
            percent: Format::new().set_num_format("0.00\"%\""),
            count: Format::new().set_num_format("0"),
            total_usd: total.clone().set_num_format(usd),
            total_gb: total.set_num_format(gb),
        }
    }

    fn of(&self, kind: Kind) -> &Format {
        match kind {
            Kind::Usd => &self.usd,
            Kind::Gb => &self.gb,
            Kind::Quantity => &self.quantity,
            Kind::Price => &self.price,
            Kind::Percent => &self.percent,
            _ => &self.count,
        }
    }

    fn total(&self, kind: Kind) -> &Format {
        if kind == Kind::Gb {
            &self.total_gb
        } else {
            &self.total_usd
        }
    }
}

fn number(d: Decimal) -> f64 {
    d.to_f64().unwrap_or_default()
}

/// A1-style reference of a cell.
fn cell(row: RowNum, col: ColNum) -> String {
    row_col_to_cell(row, col)
}

/// A formula and its exact result, shown by readers that do not calculate.
fn formula(text: String, result: Decimal) -> Formula {
    Formula::new(text).set_result(exact(result))
}

/// A table's figure, exact, if the cell holds one.
fn figure(text: &str) -> Option<Decimal> {
    text.parse().ok()
}

/// The data rows a sheet holds under its header, with its total and a note below them.
const SHEET_ROWS: usize = 1_048_576 - 4;

/// The most characters Excel holds in a cell.
const CELL_CHARS: usize = 32_767;

/// Text as a cell can hold it: a longer one is cut, ending in an ellipsis (the CSV has it whole).
fn fit_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= CELL_CHARS {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(crate::shown::clipped(text, CELL_CHARS))
    }
}

/// Which columns of a table get a total row.
fn totalled(table: &Table) -> Vec<ColNum> {
    table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind, Kind::Usd | Kind::Gb))
        .map(|(i, _)| i as ColNum)
        .collect()
}

/// How a row's cell is computed from the others on its row, when it is: a cost line is
/// quantity × unit price; an allocation row is its data processing + fixed share + inter-AZ
/// (an empty part counts 0, as it does in the file).
fn row_formula(table: &Table, row: &[String], col: usize, at: RowNum) -> Option<String> {
    if table.columns[col].name != "cost_usd" {
        return None;
    }
    let known = |name: &str| {
        let c = table.position(name)?;
        Some((cell(at, c as ColNum), !row[c].is_empty()))
    };
    if let (Some((q, true)), Some((p, true))) = (known("quantity"), known("unit_price_usd")) {
        return Some(format!("={q}*{p}"));
    }
    let parts = ["data_processing_usd", "fixed_share_usd", "inter_az_usd"].map(known);
    if parts.iter().all(Option::is_some) {
        let refs: Vec<String> = parts.into_iter().flatten().map(|(c, _)| c).collect();
        return Some(format!("={}", refs.join("+")));
    }
    None
}

/// A data sheet: the table's header (frozen, filtered), its rows (figures as numbers), and,
/// when `totals`, a total row of SUBTOTALs under its USD and GB columns.
fn data_sheet(name: &str, table: &Table, totals: bool, f: &Formats) -> Result<Worksheet> {
    let mut ws = Worksheet::new();
    ws.set_name(name)?;
    for (c, h) in table.header().enumerate() {
        ws.write_string_with_format(0, c as ColNum, h, &f.header)?;
    }
    // A sheet holds 1,048,576 rows: beyond, the last row says where the rest is.
    let rows = &table.rows[..table.rows.len().min(SHEET_ROWS)];
    for (r, row) in rows.iter().enumerate() {
        let at = r as RowNum + 1;
        for (c, text) in row.iter().enumerate() {
            let (col, kind) = (c as ColNum, table.columns[c].kind);
            if text.is_empty() {
                continue;
            }
            match (kind.is_figure(), figure(text)) {
                (true, Some(d)) => match row_formula(table, row, c, at) {
                    Some(fx) => {
                        ws.write_formula_with_format(at, col, formula(fx, d), f.of(kind))?
                    }
                    None => ws.write_number_with_format(at, col, number(d), f.of(kind))?,
                },
                _ => ws.write_string(at, col, fit_cell(text))?,
            };
        }
    }
    let last = rows.len() as RowNum;
    let width = table.columns.len() as ColNum;
    if rows.len() < table.rows.len() {
        ws.write_string(
            last + 2,
            0,
            format!(
                "{} more rows are in the CSV file: a sheet holds no more",
                table.rows.len() - rows.len()
            ),
        )?;
    }
    if totals && !rows.is_empty() {
        let below = last + 1;
        ws.write_string_with_format(below, 0, "Total", &f.bold)?;
        for col in totalled(table) {
            let sum: Decimal = rows.iter().filter_map(|r| figure(&r[col as usize])).sum();
            let letter = column_number_to_name(col);
            ws.write_formula_with_format(
                below,
                col,
                formula(format!("=SUBTOTAL(9,{letter}2:{letter}{})", last + 1), sum),
                f.total(table.columns[col as usize].kind),
            )?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, last.max(1), width - 1)?;
    ws.set_autofit_max_width(420);
    ws.autofit();
    Ok(ws)
}

/// The Summary sheet: what the report says first, with the months and NAT gateways as
/// formulas over the Costs sheet, a native chart of the months, and the report's pictures.
fn summary(
    report: &Report,
    costs: &Table,
    plan_total: &str,
    images: Images,
    f: &Formats,
) -> Result<Worksheet> {
    let mut ws = Worksheet::new();
    ws.set_name("Summary")?;
    ws.write_string_with_format(0, 0, "NAT gateway cost report", &f.title)?;
    let w = report.window;
    ws.write_string(
        1,
        0,
        format!(
            "{} · {} · {} to {} UTC ({} h) · prices: {}",
            report.scope(),
            report.region_list(),
            w.start.format("%Y-%m-%d %H:%M"),
            w.end.format("%Y-%m-%d %H:%M"),
            w.hours(),
            report.prices.label
        ),
    )?;
    let col_of = |name: &str| {
        let at = costs.position(name).expect("a column of costs.csv");
        column_number_to_name(at as ColNum)
    };
    let (cost, month, nat) = (col_of("cost_usd"), col_of("month"), col_of("resource_id"));
    let at_least = if report.total_is_lower_bound {
        " (at least: some usage is unknown)"
    } else {
        ""
    };

    // The months, each the sum of its lines in Costs.
    let months_at: RowNum = 9;
    for (c, h) in ["Month", "Cost USD", "GB processed"].iter().enumerate() {
        ws.write_string_with_format(months_at, c as ColNum, *h, &f.header)?;
    }
    let mut r = months_at + 1;
    for m in &report.monthly_totals {
        ws.write_string(r, 0, m.period_start.format("%Y-%m").to_string())?;
        ws.write_formula_with_format(
            r,
            1,
            formula(
                format!(
                    "=SUMIFS(Costs!${cost}:${cost},Costs!${month}:${month},{})",
                    cell(r, 0)
                ),
                m.cost,
            ),
            &f.usd,
        )?;
        if let Some(gb) = m.processed_gb {
            ws.write_number_with_format(r, 2, number(gb), &f.gb)?;
        }
        r += 1;
    }
    let months_total = r;
    ws.write_string_with_format(months_total, 0, "Total", &f.bold)?;
    ws.write_formula_with_format(
        months_total,
        1,
        formula(
            format!("=SUM(B{}:B{})", months_at + 2, months_total),
            report.total_window_cost,
        ),
        &f.total_usd,
    )?;

    // The headline figures.
    let figures: [(&str, Formula); 2] = [
        (
            "Cost in the window, USD",
            formula(
                format!("={}", cell(months_total, 1)),
                report.total_window_cost,
            ),
        ),
        (
            if report.plan.monthly_saving_up_to.is_some() {
                "Plan saves, USD/month (at least)"
            } else {
                "Plan saves, USD/month"
            },
            formula(format!("=Plan!{plan_total}"), report.plan.monthly_saving),
        ),
    ];
    for (i, (label, fx)) in figures.into_iter().enumerate() {
        ws.write_string(
            3 + i as RowNum,
            0,
            format!("{label}{}", if i == 0 { at_least } else { "" }),
        )?;
        ws.write_formula_with_format(3 + i as RowNum, 1, fx, &f.total_usd)?;
    }
    ws.write_string(5, 0, format!("Monthly run-rate, USD{at_least}"))?;
    ws.write_number_with_format(5, 1, number(report.total_monthly_run_rate), &f.total_usd)?;
    if let Some(most) = report.plan.monthly_saving_up_to {
        ws.write_string(6, 0, "Plan saves, USD/month (at most)")?;
        ws.write_number_with_format(6, 1, number(most), &f.total_usd)?;
    }

    // The NAT gateways: the window's cost from Costs, the monthly run-rate as reported.
    let nats_at = months_total + 2;
    for (c, h) in [
        "NAT gateway",
        "Name",
        "Account",
        "Window USD",
        "Monthly USD",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(nats_at, c as ColNum, *h, &f.header)?;
    }
    let mut r = nats_at + 1;
    for n in &report.nats {
        ws.write_string(r, 0, &n.nat_gateway_id)?;
        ws.write_string(r, 1, n.name.as_deref().unwrap_or(""))?;
        ws.write_string(r, 2, &n.account_id)?;
        ws.write_formula_with_format(
            r,
            3,
            formula(
                format!(
                    "=SUMIFS(Costs!${cost}:${cost},Costs!${nat}:${nat},{})",
                    cell(r, 0)
                ),
                n.window_cost(),
            ),
            &f.usd,
        )?;
        ws.write_number_with_format(r, 4, number(n.monthly()), &f.usd)?;
        r += 1;
    }
    if let Some(idle) = super::idle_monthly(report) {
        ws.write_string(r, 1, "Elastic IPs associated with nothing")?;
        ws.write_number_with_format(r, 4, number(idle), &f.usd)?;
        r += 1;
    }
    ws.write_string_with_format(r, 0, "Total", &f.bold)?;
    for (c, total) in [
        (3, report.total_window_cost),
        (4, report.total_monthly_run_rate),
    ] {
        let letter = column_number_to_name(c);
        ws.write_formula_with_format(
            r,
            c,
            formula(format!("=SUM({letter}{}:{letter}{r})", nats_at + 2), total),
            &f.total_usd,
        )?;
    }

    // A native chart of the months (it moves with the lines), then the report's pictures.
    if !report.monthly_totals.is_empty() {
        let mut chart = Chart::new(ChartType::Column);
        chart
            .add_series()
            .set_name("Cost USD")
            .set_categories(("Summary", months_at + 1, 0, months_total - 1, 0))
            .set_values(("Summary", months_at + 1, 1, months_total - 1, 1));
        chart.title().set_name("NAT gateway cost per month, USD");
        chart.legend().set_hidden();
        chart.y_axis().set_num_format("#,##0");
        ws.insert_chart(0, 6, &chart)?;
    }
    let mut row = 16;
    for (name, png) in images {
        let image = Image::new_from_buffer(png)?
            .set_scale_width(0.5)
            .set_scale_height(0.5)
            .set_alt_text(*name);
        ws.insert_image(row, 6, &image)?;
        row += 30;
    }
    ws.set_column_width(0, 34)?;
    ws.set_column_width(1, 16)?;
    ws.set_column_width(2, 16)?;
    ws.set_column_width(3, 14)?;
    ws.set_column_width(4, 14)?;
    Ok(ws)
}

/// The Plan sheet: its steps, each saving after the steps before, and their total as a SUM.
/// Returns the sheet and the cell of the total.
fn plan(report: &Report, f: &Formats) -> Result<(Worksheet, String)> {
    let mut ws = Worksheet::new();
    ws.set_name("Plan")?;
    let header = [
        "Step",
        "Account",
        "Scenario",
        "Resource",
        "Saves USD/month (after the steps before)",
        "Up to USD/month",
        "Confidence",
        "Action",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as ColNum, *h, &f.header)?;
    }
    let steps = report.plan.numbered_steps(&report.recommendations);
    for (i, (n, s, saving)) in steps.iter().enumerate() {
        let r = i as RowNum + 1;
        ws.write_number_with_format(r, 0, *n as f64, &f.count)?;
        ws.write_string(r, 1, &s.account_id)?;
        ws.write_string(r, 2, s.alternative.to_string())?;
        ws.write_string(r, 3, report.scenario_label(s))?;
        ws.write_number_with_format(r, 4, number(*saving), &f.usd)?;
        ws.write_number_with_format(r, 5, number(s.saving_up_to.unwrap_or(*saving)), &f.usd)?;
        ws.write_string(r, 6, s.confidence.as_str())?;
        ws.write_string(r, 7, &s.action)?;
    }
    let total = steps.len() as RowNum + 1;
    ws.write_string_with_format(total, 0, "Total", &f.bold)?;
    let sum = if steps.is_empty() {
        "=0".to_string()
    } else {
        format!("=SUM(E2:E{total})")
    };
    ws.write_formula_with_format(
        total,
        4,
        formula(sum, report.plan.monthly_saving),
        &f.total_usd,
    )?;
    ws.set_freeze_panes(1, 0)?;
    ws.set_autofit_max_width(420);
    ws.autofit();
    // After the widths are fitted: the note is long and would widen its column.
    if let Some(most) = report.plan.monthly_saving_up_to {
        ws.write_number_with_format(total, 5, number(most), &f.total_usd)?;
        ws.write_string(
            total + 2,
            0,
            format!(
                "The plan's most ({} USD/month) is not the sum of the rows' most: each gateway endpoint's most assumes all of its NAT gateways' data processing is its own service's traffic, which cannot hold for two services at once.",
                money(most)
            ),
        )?;
    }
    Ok((ws, cell(total, 4)))
}

/// The whole workbook, as the bytes of natcost.xlsx.
pub fn workbook(report: &Report, images: Images) -> Result<Vec<u8>> {
    let f = Formats::new();
    let costs = tables::costs(report);
    let (plan_sheet, plan_total) = plan(report, &f)?;
    let mut wb = Workbook::new();
    // Dated by the window's end, not the clock: the same report gives the same workbook.
    let end = report.window.end;
    let made = ExcelDateTime::from_ymd(end.year() as u16, end.month() as u8, end.day() as u8)?
        .and_hms(end.hour() as u16, end.minute() as u8, 0)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("NAT gateway cost report")
            .set_author(format!("natcost {}", report.tool_version))
            .set_creation_datetime(&made),
    );
    wb.push_worksheet(summary(report, &costs, &plan_total, images, &f)?);
    wb.push_worksheet(plan_sheet);
    wb.push_worksheet(data_sheet("Costs", &costs, true, &f)?);
    // Scenarios are alternatives: their savings overlap and have no total.
    wb.push_worksheet(data_sheet(
        "Recommendations",
        &tables::recommendations(report),
        false,
        &f,
    )?);
    let allocation = tables::allocation(report);
    if !allocation.rows.is_empty() {
        wb.push_worksheet(data_sheet("Allocation", &allocation, true, &f)?);
    }
    if !report.allocation.team_tags.is_empty() {
        wb.push_worksheet(data_sheet("Teams", &tables::teams(report), true, &f)?);
    }
    wb.push_worksheet(data_sheet("Lambdas", &tables::lambdas(report), true, &f)?);
    if let Some(r) = &report.reconcile {
        wb.push_worksheet(data_sheet(
            "Reconcile",
            &tables::reconcile(&r.rows),
            true,
            &f,
        )?);
    }
    wb.save_to_buffer()
}
