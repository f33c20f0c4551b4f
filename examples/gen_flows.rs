//! Generates synthetic VPC Flow Logs for the bundled sample snapshot, with known ground truth
//! (for the benchmark, scripts/bench_flows.sh).
//!
//!     cargo run --release --features synth --example gen_flows -- OUT_DIR SIZE_MB [--gzip] [--custom] [--files N] [--ip-ranges FILE]
//!
//! Writes OUT_DIR/AWSLogs/... and OUT_DIR/truth.json (bytes per NAT gateway and destination).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use natcost::snapshot::Snapshot;
use natcost::synth;
use natcost::IpRanges;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(size)) = (args.next(), args.next()) else {
        bail!(
            "usage: gen_flows OUT_DIR SIZE_MB [--gzip] [--custom] [--files N] [--ip-ranges FILE]"
        );
    };
    let mut opts = synth::Options {
        custom_format: false,
        target_bytes: size.parse::<u64>().context("SIZE_MB")? << 20,
        files: 16,
        gzip: false,
        corrupt_lines: 0,
        seed: 7,
    };
    let mut ranges_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ip-ranges-fixture.json");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--gzip" => opts.gzip = true,
            "--custom" => opts.custom_format = true,
            "--files" => opts.files = args.next().context("--files N")?.parse()?,
            "--ip-ranges" => ranges_path = args.next().context("--ip-ranges FILE")?.into(),
            other => bail!("unknown argument {other}"),
        }
    }
    let text = std::fs::read_to_string(&ranges_path)
        .with_context(|| format!("{}", ranges_path.display()))?;
    let ranges = IpRanges::parse(&text)?;
    let snapshot = Snapshot::from_json(natcost::SAMPLE_SNAPSHOT)?;
    let out = PathBuf::from(out);
    let truth = synth::generate(&snapshot, &ranges, &text, &out, &opts)?;
    let summary: serde_json::Value = truth
        .destinations
        .iter()
        .map(|(nat, d)| (nat.clone(), serde_json::to_value(d).unwrap()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    std::fs::write(
        out.join("truth.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    eprintln!(
        "wrote {} MB of flow-log text in {} files under {}",
        truth.text_bytes >> 20,
        truth.files.len(),
        out.display()
    );
    Ok(())
}
