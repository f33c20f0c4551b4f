//! The command line: clap definitions, turned into plain settings for the rest of the code.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "natcost",
    version,
    about = "What your AWS NAT gateways really cost, who causes it, and what to do instead.",
    long_about = "What your AWS NAT gateways really cost, who causes it, and what to do instead.\n\n\
natcost reads a snapshot of NAT gateways, their CloudWatch metrics, the VPC topology and the \
Lambda functions behind them, prices every hour and GB with AWS prices, compares the \
alternatives (VPC endpoints, Lambda out of the VPC, one NAT per VPC, NAT instances, IPv6, \
deleting idle NATs) on the same history, and writes a terminal summary, CSV files for \
finance, PNG charts and a Markdown report.\n\n\
Try it on the bundled sample:  natcost report --sample",
    after_help = "Exit codes: 0 success; 1 error (nothing written); 2 bad command line; \
3 partial result (some data could not be collected: the report says what)."
)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Price a snapshot, compare the alternatives, print a summary and write the report files.
    #[command(
        after_help = "Examples:\n  natcost report --sample\n  natcost report --snapshot snap.json --out reports/october --format markdown\n\n\
Files written to the output folder: costs.csv, recommendations.csv, lambdas.csv, report.md, \
report.json, monthly_cost.png, daily_gb.png, alternatives.png, topology.png. The folder is \
replaced only when every file is written."
    )]
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Snapshot file to report on (written by `natcost collect`).
    #[arg(long, value_name = "FILE", conflicts_with = "sample")]
    pub snapshot: Option<PathBuf>,
    /// Report on the bundled sample snapshot (a Seoul account).
    #[arg(long)]
    pub sample: bool,
    /// Output folder [default: reports/<snapshot name>-<window end date>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print only; write no files.
    #[arg(long)]
    pub no_files: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A terminal summary.
    Table,
    /// The whole report as JSON.
    Json,
    /// The whole report as Markdown (the same as report.md).
    Markdown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
