//! The command line: clap definitions. `app` turns them into plain settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "natcost",
    version,
    about = "What your AWS NAT gateways really cost, who causes it, and what to do instead.",
    long_about = "What your AWS NAT gateways really cost, who causes it, and what to do instead.\n\n\
natcost reads NAT gateways, their CloudWatch metrics, the VPC topology and the Lambda \
functions behind them (read-only), prices every hour and GB with AWS prices, compares the \
alternatives (VPC endpoints, Lambda out of the VPC, one NAT per VPC, NAT instances, IPv6, \
deleting idle NATs) on the same history, and writes a terminal summary, CSV files for \
finance, PNG charts and a Markdown report.\n\n\
Try it on the bundled sample:  natcost report --sample\n\
Then on your account:          natcost report --region ap-northeast-2",
    after_help = "Exit codes: 0 success; 1 error (nothing written); 2 bad command line; \
3 partial result (some data could not be collected: the report says what)."
)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug); -v also lists the AWS calls made.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect from AWS (or read a snapshot), price it, compare the alternatives, print a
    /// summary and write the report files.
    #[command(after_help = "Examples:
  natcost report --sample
  natcost report --region ap-northeast-2
  natcost report --region ap-northeast-2 --region us-east-1 --months 3 --profile prod
  natcost report --org --role-name natcost-read --external-id ACME --all-regions
  natcost report --snapshot snap.json --out reports/october --format markdown
  natcost report --region ap-northeast-2 --flow-logs auto --months 3 --bill ce
  natcost report --snapshot snap.json --bill cur:s3://acme-billing/cur/nat-export/

Files written to the output folder: costs.csv, allocation.csv (each NAT gateway's cost per month
split between the functions and interfaces behind it), recommendations.csv, lambdas.csv, report.md,
report.json, reconcile.csv (with --bill), monthly_cost, daily_gb, alternatives and topology
charts (each .png and .svg),
prices.json (the prices used), and snapshot.json when collected live: `natcost report --snapshot DIR/snapshot.json
--prices DIR/prices.json` reproduces the report. The folder is replaced only when every file is
written.

natcost marks each report folder with a .natcost-report file and replaces only a folder it
marked that holds nothing but its own files; an empty folder is written into. Any other existing
folder is refused (exit 1, nothing changed); --force writes natcost's files into it and leaves
every other file and subfolder as it is. The current folder and its parents are always refused,
and the snapshot being read is never deleted or overwritten (a snapshot.json in the folder being
replaced is kept). Delete .natcost-report to protect a folder.")]
    Report(Box<ReportArgs>),
    /// Collect a snapshot from AWS (read-only) and write it to a file.
    #[command(after_help = "Examples:
  natcost collect --region ap-northeast-2 -o seoul.json
  natcost collect --all-regions --month 2026-10 -o october.json
  natcost collect --org --role-name natcost-read --all-regions -o org.json

Credentials come from the standard AWS chain (environment, profiles, SSO, instance role);
`natcost iam-policy` prints the permissions needed.")]
    Collect(CollectCommand),
    /// Who sends the bytes: attribute NAT gateway traffic from VPC Flow Logs, by destination
    /// (S3, DynamoDB, other AWS services, the internet) and by source (Lambda functions).
    #[command(after_help = "Examples:
  natcost flows --sample --flow-logs ./AWSLogs --ip-ranges ip-ranges.json
  natcost flows --snapshot snap.json --flow-logs a.log.gz b.log.gz --format json
  natcost flows --snapshot snap.json --flow-logs s3://acme-flow-logs/prod/
  natcost report --region ap-northeast-2 --flow-logs auto
  natcost report --region ap-northeast-2 --flow-logs ./AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/11

Flow logs are read as AWS delivers them to S3 (AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/
*.log.gz), plain or gzip, in the default format or a custom one named by the header line.
Only records on a NAT gateway's network interface count, inside the snapshot's window.
From S3, only the day folders of the window (and the day after) of the snapshot's accounts and
regions are listed (plain or Hive-style prefixes, hourly partitions too), and 16 objects are
streamed at once; it needs s3:ListBucket and s3:GetObject there
(`natcost iam-policy --flow-logs s3://BUCKET/PREFIX/`). Text, gzip and Parquet files are read.
A log group is aggregated in AWS by day with a Logs Insights query per region and month of the
window (split while an answer reaches 10,000 rows; past 64 queries, summed over the window
instead); -v prints the query. Insights bills the bytes it
scans (shown in the report).")]
    Flows(FlowsCommand),
    /// Does the model match the bill? The report's model (live, a snapshot or the sample) set
    /// against Cost Explorer or Cost and Usage Report files, line by line.
    #[command(after_help = "Examples:
  natcost reconcile --snapshot snap.json --bill ce
  natcost reconcile --snapshot snap.json --bill cur:./cur-export/ --format csv > reconcile.csv
  natcost reconcile --region ap-northeast-2 --months 3 --bill cur:s3://acme-billing/cur/nat-export/

Each row is a month, account, region and usage type (and NAT gateway, when the Cost and Usage
Report has resource ids): billed quantity and cost, modelled quantity and cost, the difference,
and what explains it (a partial month, a NAT gateway deleted before collection, a region not
collected, inter-AZ transfer that also bills other traffic). A line more than 1% off with no
explanation is flagged, also on stderr. Usage line items are compared (unblended cost); credits,
discounts, refunds and tax are shown apart. `natcost report --bill …` writes the same rows to
reconcile.csv, with reconcile.png. Cost Explorer costs 0.01 USD per request (counted and
printed); Cost and Usage Report files cost nothing to read but S3 requests.")]
    Reconcile(Box<ReconcileArgs>),
    /// What changed between two saved reports (e.g. last month's run and this month's): the
    /// total change explained by NAT gateway, by cost component and, when flow logs measured
    /// the sources in both, by source; each list adds up to the total change.
    #[command(after_help = "Examples:
  natcost report --snapshot snap.json --month 2026-10 --out reports/october
  natcost report --snapshot snap.json --month 2026-11 --out reports/november
  natcost diff reports/october reports/november
  natcost diff reports/october/report.json reports/november/report.json --format markdown > changes.md

Each argument is a report.json written by `natcost report`, or the folder holding it. The two
reports' whole windows are compared (their cost lines and allocation), whatever their length:
compare reports of the same length, e.g. one calendar month each.")]
    Diff {
        /// The earlier report (report.json, or its folder).
        old: PathBuf,
        /// The later report (report.json, or its folder).
        new: PathBuf,
        /// What to print: a summary, Markdown, or JSON.
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
    },
    /// Print the least-privilege IAM policy natcost needs (read-only calls only).
    #[command(after_help = "Examples:
  natcost iam-policy                       one account: everything `report --region` calls
  natcost iam-policy --for member          the read role in each account of --org/--accounts
  natcost iam-policy --for caller --role-name natcost-read
                                           who runs --org/--accounts: list accounts, assume the role, prices
  natcost iam-policy --flow-logs s3://acme-flow-logs/prod/ --flow-logs log-group:/vpc/flow-logs
                                           and read the flow logs delivered there
  natcost iam-policy --athena primary      and query a flow-log table with Athena (writes results)
  natcost iam-policy --bill                and read the bill from Cost Explorer
  natcost iam-policy --tags                and read tags for --allocate-by
  natcost iam-policy --bill cur:s3://acme-billing/cur/
                                           and read Cost and Usage Report files there")]
    IamPolicy {
        /// Whose permissions: one account read directly, the read role of each member
        /// account, or the caller of a multi-account run.
        #[arg(long = "for", value_enum, default_value = "account")]
        side: crate::policy::PolicyFor,
        /// The read role's name, for the caller's sts:AssumeRole resource.
        #[arg(long, value_name = "NAME", default_value = "natcost-read")]
        role_name: String,
        /// Where `--flow-logs` reads (repeatable), for the caller: s3://BUCKET/PREFIX/ adds
        /// s3:ListBucket and s3:GetObject under its AWSLogs/ folder; log-group:NAME adds
        /// logs:StartQuery on the group and logs:GetQueryResults. `auto` adds all four on
        /// every resource, as its destinations are only known from the flow-log
        /// configurations natcost finds: name those destinations instead to narrow it.
        #[arg(long = "flow-logs", value_name = "s3://BUCKET/PREFIX/|log-group:NAME|auto",
              value_parser = parse_remote_flow_logs)]
        flow_logs: Vec<crate::flows::Input>,
        /// Add what `--athena-table` needs in this workgroup: the Athena calls natcost makes,
        /// and what Athena does with the caller's permissions (Glue, S3 read, results write).
        #[arg(long, value_name = "WORKGROUP")]
        athena: Option<String>,
        /// Add what `--bill` reads (repeatable): `ce` (the default with no value) adds
        /// ce:GetCostAndUsage; `cur:s3://BUCKET/PREFIX/` adds s3:ListBucket and s3:GetObject
        /// under that prefix (a local `cur:PATH` needs nothing).
        #[arg(long, value_name = "ce|cur:s3://BUCKET/PREFIX/", num_args = 0..=1,
              default_missing_value = "ce", value_parser = crate::bill::Source::parse)]
        bill: Vec<crate::bill::Source>,
        /// Add tag:GetResources and ecs:ListClusters/ListTasks/DescribeTasks, which `report
        /// --allocate-by tag:KEY` and `collect --tags` call to read the tags teams come from.
        #[arg(long)]
        tags: bool,
    },
    /// Print the price book in use: usage type, unit, USD, source and date.
    #[command(after_help = "Examples:
  natcost prices --region ap-northeast-2 --prices bundled
  natcost prices --region ap-northeast-2 --region us-east-1 --format csv
  natcost prices --prices bundled --format json > prices.json")]
    Prices(PricesCommand),
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  natcost completions bash > ~/.local/share/bash-completion/completions/natcost
  natcost completions zsh > \"${fpath[1]}/_natcost\"
  natcost completions fish > ~/.config/fish/completions/natcost.fish
  natcost completions powershell >> $PROFILE")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Example:
  natcost man > ~/.local/share/man/man1/natcost.1 && man natcost")]
    Man,
}

/// Flow logs to attribute NAT traffic with.
#[derive(Debug, Args, Default)]
pub struct FlowArgs {
    /// VPC Flow Logs (repeatable, mixable): files or folders (walked), plain or gzip;
    /// s3://BUCKET/PREFIX/, where AWS delivers them (only the window's day folders are
    /// listed, objects are streamed, nothing is written); log-group:NAME, a CloudWatch Logs
    /// group aggregated by day by Logs Insights queries in each region with NAT gateways; or `auto`:
    /// the S3 and CloudWatch Logs destinations of the snapshot's flow-log configurations on
    /// the NAT gateways' VPCs, subnets and interfaces.
    #[arg(long = "flow-logs", value_name = "PATH|s3://…|log-group:NAME|auto", num_args = 1..,
          value_parser = crate::flows::Input::parse)]
    pub flow_logs: Vec<crate::flows::Input>,
    /// An Athena table of flow logs, DATABASE.TABLE: the aggregation runs in Athena (NAT
    /// interfaces and the window's partitions only) and natcost fetches the summed rows. This
    /// WRITES: Athena stores the query's results in the workgroup's output location.
    #[arg(
        long,
        value_name = "DB.TABLE",
        requires = "athena_workgroup",
        help_heading = "Athena"
    )]
    pub athena_table: Option<String>,
    /// The Athena workgroup to run the query in (in the first region with NAT gateways).
    #[arg(
        long,
        value_name = "NAME",
        requires = "athena_table",
        help_heading = "Athena"
    )]
    pub athena_workgroup: Option<String>,
    /// Where Athena writes the query's results [default: the workgroup's output location].
    #[arg(
        long,
        value_name = "s3://BUCKET/PREFIX/",
        requires = "athena_table",
        help_heading = "Athena"
    )]
    pub athena_output: Option<String>,
    /// How the table is partitioned: day (partition projection accid/region/day, as in
    /// Athena's documentation), date (a date partition), region-date (Athena's Parquet
    /// example: region, date yyyy/MM/dd, hour), hive (aws-account-id, aws-region, year, month,
    /// day), none.
    #[arg(
        long,
        value_enum,
        value_name = "SCHEME",
        default_value = "day",
        help_heading = "Athena"
    )]
    pub athena_partitions: crate::flows::athena::Partitions,
    /// Route 53 Resolver query logs (repeatable): files or folders (walked), JSON lines, plain
    /// or gzip, or s3://BUCKET/PREFIX/ where AWS delivers them. Each answered query names the
    /// AWS service behind an address ip-ranges.json lists only as AMAZON
    /// (sqs.ap-northeast-2.amazonaws.com), so those bytes can be set against an interface
    /// endpoint.
    #[arg(long = "resolver-logs", value_name = "PATH|s3://…", num_args = 1..,
          requires = "flow_logs", value_parser = crate::flows::resolver::ResolverInput::parse)]
    pub resolver_logs: Vec<crate::flows::resolver::ResolverInput>,
    /// AWS's ip-ranges.json [default: ~/.cache/natcost/ip-ranges.json, downloaded from
    /// https://ip-ranges.amazonaws.com/ip-ranges.json the first time].
    #[arg(long, value_name = "FILE")]
    pub ip_ranges: Option<PathBuf>,
}

impl FlowArgs {
    /// The flow-log inputs as plain data: clap's types stop here.
    pub fn inputs(&self) -> crate::flows::inputs::FlowInputs {
        crate::flows::inputs::FlowInputs {
            flow_logs: self.flow_logs.clone(),
            athena_table: self.athena_table.clone(),
            athena_workgroup: self.athena_workgroup.clone(),
            athena_output: self.athena_output.clone(),
            athena_partitions: self.athena_partitions,
            ip_ranges: self.ip_ranges.clone(),
            resolver_logs: self.resolver_logs.clone(),
        }
    }
}

#[derive(Debug, Args)]
#[command(mut_arg("flow_logs", |a| a.required_unless_present("athena_table")))]
pub struct FlowsCommand {
    /// Snapshot whose NAT gateways and interfaces the flow logs are matched to.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "sample",
        required_unless_present = "sample"
    )]
    pub snapshot: Option<PathBuf>,
    /// Use the bundled sample snapshot.
    #[arg(long)]
    pub sample: bool,
    #[command(flatten)]
    pub flow: FlowArgs,
    /// Named profile from ~/.aws/config, for flow logs in S3.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send the S3 calls to this endpoint (e.g. an emulator).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Which prices to use.
#[derive(Debug, Args, Default)]
pub struct PriceArgs {
    /// live (AWS Pricing API, cached; falls back to the cache, then the bundled table), cache,
    /// bundled, or a price FILE in the bundled table's format (keywords in any case)
    /// [default: live; bundled for the bundled sample, or with no --region].
    #[arg(long, value_name = "live|cache|bundled|FILE", value_parser = parse_price_mode)]
    pub prices: Option<crate::price::source::Mode>,
    /// Reuse prices fetched from the Pricing API for this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub price_cache_days: i64,
    /// Region whose Pricing API endpoint is asked (us-east-1, eu-central-1 or ap-south-1).
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub pricing_region: String,
}

#[derive(Debug, Args)]
pub struct PricesCommand {
    /// Regions to show (repeatable) [default: every region of the bundled table].
    #[arg(long = "region", value_name = "REGION", value_parser = crate::regions::parse_arg)]
    pub regions: Vec<String>,
    #[command(flatten)]
    pub price: PriceArgs,
    /// Named profile for the Pricing API.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send the Pricing API calls to this endpoint (e.g. an emulator or a replay).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PriceFormat::Table)]
    pub format: PriceFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PriceFormat {
    Table,
    Csv,
    /// The bundled table's format (usable as --prices FILE).
    Json,
}

#[derive(Debug, Args)]
pub struct CollectCommand {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Where to write the snapshot. An existing file is replaced only if it is a natcost
    /// snapshot.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Replace FILE even when it is not a natcost snapshot.
    #[arg(long)]
    pub force: bool,
}

/// Where to collect from, and which window.
#[derive(Debug, Args, Default)]
pub struct CollectArgs {
    /// AWS region to collect (repeatable), e.g. ap-northeast-2.
    #[arg(long = "region", value_name = "REGION", value_parser = crate::regions::parse_arg)]
    pub regions: Vec<String>,
    /// Every region enabled for the account.
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,
    /// The last N whole days (1 to 455), ending at the last full UTC hour, or at a snapshot's
    /// end [default: 30 when collecting; a snapshot's whole window].
    #[arg(long, value_name = "N", group = "span",
          value_parser = clap::value_parser!(u32).range(1..=455))]
    pub days: Option<u32>,
    /// One calendar month, YYYY-MM (UTC); with a snapshot, that part of it.
    #[arg(long, value_name = "YYYY-MM", group = "span", value_parser = parse_month_arg)]
    pub month: Option<chrono::NaiveDate>,
    /// The last N whole calendar months (1 to 15, UTC), before now or a snapshot's end: one row
    /// group per month in costs.csv and the month-over-month table. CloudWatch keeps hourly data
    /// 455 days: with 15, the first month starts where that data does (said as a warning).
    #[arg(long, value_name = "N", group = "span",
          value_parser = clap::value_parser!(u32).range(1..=15))]
    pub months: Option<u32>,
    /// Named profile from ~/.aws/config (default: AWS_PROFILE, then the default profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (e.g. an emulator). AWS_ENDPOINT_URL and
    /// AWS_ENDPOINT_URL_<SERVICE> work too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Every active account of the organisation (Organizations ListAccounts, from the
    /// management or a delegated administrator account), each read through --role-name.
    #[arg(
        long,
        conflicts_with = "accounts",
        requires = "role_name",
        help_heading = "Many accounts"
    )]
    pub org: bool,
    /// These accounts, each read through --role-name: IDs separated by commas, or a file
    /// with one ID per line (# starts a comment).
    #[arg(
        long,
        value_name = "ID,ID…|FILE",
        requires = "role_name",
        help_heading = "Many accounts"
    )]
    pub accounts: Option<String>,
    /// The read role in each account (see `natcost iam-policy --for member`), assumed with
    /// the caller's credentials.
    #[arg(long, value_name = "NAME", help_heading = "Many accounts")]
    pub role_name: Option<String>,
    /// The external ID the read role's trust policy asks for.
    #[arg(
        long,
        value_name = "ID",
        requires = "role_name",
        help_heading = "Many accounts"
    )]
    pub external_id: Option<String>,
    /// The session name in the accounts' CloudTrail.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "natcost",
        help_heading = "Many accounts"
    )]
    pub role_session_name: String,
    /// How many account × region collections run at once.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256), help_heading = "Many accounts")]
    pub concurrency: u32,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also read the tags of Lambda functions, network interfaces, EC2 instances, load
    /// balancers (tag:GetResources, one paginated call per region) and of the ECS tasks behind
    /// interfaces (ecs:ListClusters, ListTasks, DescribeTasks) into the snapshot, for
    /// `report --allocate-by tag:KEY` later; `report --allocate-by` reads them itself.
    #[arg(long)]
    pub tags: bool,
}

impl CollectArgs {
    pub fn is_live(&self) -> bool {
        !self.regions.is_empty() || self.all_regions
    }
}

/// A snapshot read instead of collected (`report`, `reconcile`); each command's group requires
/// it or `--region`/`--all-regions`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Snapshot file to read (written by `natcost collect`, or the one beside a report).
    #[arg(long, value_name = "FILE",
          conflicts_with_all = ["sample", "regions", "all_regions"])]
    pub snapshot: Option<PathBuf>,
    /// Use the bundled sample snapshot (a Seoul account).
    #[arg(long, conflicts_with_all = ["regions", "all_regions"])]
    pub sample: bool,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("source")
        .required(true)
        .args(["snapshot", "sample", "regions", "all_regions"])
))]
pub struct ReportArgs {
    #[command(flatten)]
    pub source: SnapshotArgs,
    #[command(flatten)]
    pub collect: CollectArgs,
    #[command(flatten)]
    pub price: PriceArgs,
    #[command(flatten)]
    pub flow: FlowArgs,
    /// Output folder [default: reports/<snapshot name or account>-<window end date>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print the terminal summary whole: no wrapping to the terminal's width, every column and
    /// every command.
    #[arg(long)]
    pub wide: bool,
    /// Also show amounts in this currency (ISO 4217, e.g. KRW) beside USD, in the summary,
    /// report.md, report.json and the charts; the CSV files stay in USD.
    #[arg(long, value_name = "CODE", requires = "fx_rate", value_parser = crate::fx::parse_currency)]
    pub currency: Option<String>,
    /// Units of --currency per USD, e.g. 1400 for KRW (your finance team's rate).
    #[arg(long, value_name = "RATE", requires = "currency", value_parser = crate::fx::parse_rate)]
    pub fx_rate: Option<rust_decimal::Decimal>,
    /// Set the model against the bill, for the window's months: `ce` reads Cost Explorer
    /// (GetCostAndUsage, 0.01 USD per request, counted); `cur:PATH` reads Cost and Usage Report
    /// files (CUR 2.0 Parquet or gzip CSV, legacy CUR CSV) from a file, a folder or
    /// `cur:s3://BUCKET/PREFIX/`, per NAT gateway when exported with resource ids. Writes
    /// reconcile.csv/.png and a "Matches the bill?" section.
    #[arg(long, value_name = "ce|cur:PATH", value_parser = crate::bill::Source::parse)]
    pub bill: Option<crate::bill::Source>,
    /// Where each NAT gateway's fixed cost (its hours and public IPv4) goes in allocation.csv:
    /// `proportional` splits it between the sources by their bytes; `separate` keeps it on one
    /// `shared` row per NAT gateway and month, so each source carries only what its bytes cost.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = FixedCosts::Proportional)]
    pub fixed_costs: FixedCosts,
    /// Fill allocation.csv's `team` from this tag (repeatable, in order: a source's team is the
    /// value of the first tag it has): a function's tags; an interface's, else its ECS task's,
    /// its instance's or its load balancer's (a shared Lambda interface: the team its functions
    /// agree on); idle and unexplained cost, the NAT gateway's. Writes allocation_by_team.csv and
    /// allocation.png. E.g. `--allocate-by tag:team --allocate-by tag:cost-center`.
    #[arg(long, value_name = "tag:KEY", value_parser = parse_tag_key)]
    pub allocate_by: Vec<String>,
    /// Start each CSV file with a UTF-8 byte order mark, so that Excel, opening one with a
    /// double-click, reads names in any script (e.g. Korean Name tags) as written. Off by
    /// default: most tools that read CSV expect no mark. natcost's own text in the CSVs is
    /// ASCII either way.
    #[arg(long)]
    pub csv_bom: bool,
    /// Do not write natcost.xlsx (the workbook of the same tables, with formulas and the
    /// charts, for Excel).
    #[arg(long)]
    pub no_xlsx: bool,
    /// Print only; write no files.
    #[arg(long)]
    pub no_files: bool,
    /// Write into an existing output folder natcost did not write (no .natcost-report file)
    /// or that holds other files: natcost's files are added or replaced there, every other
    /// file and subfolder is left as it is. Never the current folder or a parent of it, and
    /// never over the snapshot being read.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("source")
        .required(true)
        .args(["snapshot", "sample", "regions", "all_regions"])
))]
pub struct ReconcileArgs {
    /// Where the bill comes from: `ce` (Cost Explorer) or `cur:PATH` / `cur:s3://BUCKET/PREFIX/`
    /// (Cost and Usage Report files: CUR 2.0 Parquet or gzip CSV, legacy CUR CSV).
    #[arg(long, value_name = "ce|cur:PATH", value_parser = crate::bill::Source::parse)]
    pub bill: crate::bill::Source,
    #[command(flatten)]
    pub source: SnapshotArgs,
    #[command(flatten)]
    pub collect: CollectArgs,
    #[command(flatten)]
    pub price: PriceArgs,
    /// What to print: a table, reconcile.csv's rows, or JSON (with credits and notes).
    #[arg(long, value_enum, default_value_t = ReconcileFormat::Table)]
    pub format: ReconcileFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReconcileFormat {
    Table,
    /// reconcile.csv's columns.
    Csv,
    Json,
}

/// `--allocate-by tag:KEY`: the key.
fn parse_tag_key(s: &str) -> Result<String, String> {
    match s.strip_prefix("tag:") {
        Some(k) if !k.is_empty() && k.chars().count() <= 128 => Ok(k.to_string()),
        _ => Err("use tag:KEY, e.g. tag:team (a tag key of 1 to 128 characters)".into()),
    }
}

/// `--prices`: a keyword (in any case) or a price file.
fn parse_price_mode(s: &str) -> Result<crate::price::source::Mode, String> {
    Ok(crate::price::source::Mode::parse(s))
}

/// `--month`: a real calendar month, YYYY-MM, as its first day.
fn parse_month_arg(s: &str) -> Result<chrono::NaiveDate, String> {
    use chrono::Datelike;
    match crate::collect::window::parse_month(s) {
        Ok(m) if (2006..=2999).contains(&m.year()) => Ok(m),
        Ok(_) => Err("not a month AWS has billed: use YYYY-MM from 2006 on".into()),
        Err(_) => Err("not a month: use YYYY-MM, e.g. 2026-10".into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixedCosts {
    /// Split between the sources in proportion to their bytes.
    Proportional,
    /// Kept on one `shared` row per NAT gateway and month.
    Separate,
}

impl From<FixedCosts> for crate::allocation::FixedCosts {
    fn from(f: FixedCosts) -> Self {
        match f {
            FixedCosts::Proportional => crate::allocation::FixedCosts::Proportional,
            FixedCosts::Separate => crate::allocation::FixedCosts::Separate,
        }
    }
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

fn parse_remote_flow_logs(s: &str) -> Result<crate::flows::Input, String> {
    match crate::flows::Input::parse(s)? {
        i @ (crate::flows::Input::S3(_)
        | crate::flows::Input::LogGroup(_)
        | crate::flows::Input::Auto) => Ok(i),
        _ => Err(
            "give s3://BUCKET/PREFIX/, log-group:NAME or auto (local files need no permission)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn window_flags_exclude_each_other() {
        let err = Cli::try_parse_from([
            "natcost",
            "collect",
            "--region",
            "us-east-1",
            "--days",
            "3",
            "--months",
            "2",
            "-o",
            "f",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        let err = Cli::try_parse_from(["natcost", "report", "--sample", "--region", "us-east-1"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
