//! Which prices a run uses: live from the Pricing API (cached), the cache, the bundled
//! table or a file, falling back from live to cache to bundled with one warning line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use aws_sdk_sts::config::ProvideCredentials;
use chrono::{NaiveDate, Utc};

use super::book::{is_bundled, Item, PriceBook, PriceFile};
use super::live;
use crate::aws::calls::Calls;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The Pricing API (reusing a fresh cache), falling back to the cache, then the bundled table.
    Live,
    /// The cache only (any age), else the bundled table.
    Cache,
    /// The table bundled with natcost.
    Bundled,
    /// A price file in the bundled table's format.
    File(PathBuf),
}

impl Mode {
    /// `live`, `cache` or `bundled` in any case; anything else names a price file.
    pub fn parse(s: &str) -> Mode {
        match s.to_ascii_lowercase().as_str() {
            "live" => Mode::Live,
            "cache" => Mode::Cache,
            "bundled" => Mode::Bundled,
            _ => Mode::File(PathBuf::from(s)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    pub regions: Vec<String>,
    pub cache_dir: PathBuf,
    /// How long fetched prices are reused.
    pub max_age_days: i64,
    pub profile: Option<String>,
    /// `--endpoint-url`: the Pricing API is asked there instead.
    pub endpoint_url: Option<String>,
    /// Where the Pricing API is asked (us-east-1, eu-central-1 and ap-south-1 serve it).
    pub pricing_region: String,
}

pub struct Loaded {
    pub book: PriceBook,
    /// One line saying what was used instead of what was asked, if anything.
    pub warning: Option<String>,
    /// Pricing API calls made, by IAM action.
    pub api_calls: BTreeMap<String, u64>,
}

/// `$NATCOST_CACHE_DIR`, else `$XDG_CACHE_HOME/natcost/prices`, else `~/.cache/natcost/prices`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NATCOST_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("natcost").join("prices")
}

fn cache_file(dir: &Path, region: &str) -> PathBuf {
    dir.join(format!("{region}.json"))
}

/// A cached region's prices and their age in days.
fn cached(dir: &Path, region: &str) -> Option<(PriceBook, i64)> {
    let text = std::fs::read_to_string(cache_file(dir, region)).ok()?;
    let file = match PriceFile::parse(&text) {
        Ok(f) => f,
        Err(e) => {
            crate::messages::warn(format_args!(
                "ignoring the unreadable price cache for {region}: {e:#}"
            ));
            return None;
        }
    };
    let date = NaiveDate::parse_from_str(&file.as_of, "%Y-%m-%d").ok()?;
    let age = (Utc::now().date_naive() - date).num_days();
    Some((file.into_book(), age))
}

fn write_cache(dir: &Path, region: &str, book: &PriceBook) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = book.to_file("Pricing API", &Utc::now().date_naive().to_string());
    let text = serde_json::to_string_pretty(&file)?;
    crate::output::write_file(&cache_file(dir, region), text.as_bytes())
}

pub fn load(opts: &Options) -> Result<Loaded> {
    match &opts.mode {
        Mode::Bundled => Ok(Loaded {
            book: PriceBook::bundled(),
            warning: None,
            api_calls: BTreeMap::new(),
        }),
        Mode::File(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read price file {}", path.display()))?;
            let book = PriceBook::from_json(&text)
                .with_context(|| format!("price file {}", path.display()))?;
            Ok(Loaded {
                book,
                warning: None,
                api_calls: BTreeMap::new(),
            })
        }
        Mode::Cache => {
            let mut book = PriceBook::default();
            let mut missing = Vec::new();
            for r in &opts.regions {
                match cached(&opts.cache_dir, r) {
                    Some((b, _)) => book.extend(b),
                    None => missing.push(r.clone()),
                }
            }
            let mut notes: Vec<String> = fall_back(&mut book, &missing, "no cached prices")
                .into_iter()
                .collect();
            notes.extend(complete(&mut book, &opts.regions));
            Ok(Loaded {
                book,
                warning: (!notes.is_empty()).then(|| notes.join("; ")),
                api_calls: BTreeMap::new(),
            })
        }
        Mode::Live => load_live(opts),
    }
}

/// Fills `regions` from the bundled table; the warning line that says so.
fn fall_back(book: &mut PriceBook, regions: &[String], why: &str) -> Option<String> {
    if regions.is_empty() {
        return None;
    }
    let bundled = PriceBook::bundled();
    let (found, none): (Vec<String>, Vec<String>) =
        regions.iter().cloned().partition(|r| is_bundled(r));
    book.extend(bundled.for_regions(&found));
    let mut said = Vec::new();
    if none.is_empty() {
        said.push(format!("using the {}", bundled.label()));
    } else if !found.is_empty() {
        said.push(format!(
            "using the {} for {}",
            bundled.label(),
            found.join(", ")
        ));
    }
    if !none.is_empty() {
        said.push(format!(
            "nothing for {}, as natcost bundles no prices for them",
            none.join(", ")
        ));
    }
    Some(format!(
        "{why} for {}: {}",
        regions.join(", "),
        said.join("; ")
    ))
}

fn load_live(opts: &Options) -> Result<Loaded> {
    let mut book = PriceBook::default();
    let mut stale: Vec<(String, PriceBook)> = Vec::new();
    let mut need = Vec::new();
    // Prices from another endpoint (an emulator, a replay) are that endpoint's: neither read
    // from nor written to the cache of AWS's own.
    let cache = opts.endpoint_url.is_none();
    for r in &opts.regions {
        match cached(&opts.cache_dir, r).filter(|_| cache) {
            Some((b, age)) if age <= opts.max_age_days => book.extend(b),
            Some((b, _)) => {
                stale.push((r.clone(), b));
                need.push(r.clone());
            }
            None => need.push(r.clone()),
        }
    }
    if need.is_empty() {
        let warning = complete(&mut book, &opts.regions);
        return Ok(Loaded {
            book,
            warning,
            api_calls: BTreeMap::new(),
        });
    }
    let calls = Calls::default();
    let results = crate::aws::session::runtime()?.block_on(fetch(opts, &need, &calls));
    let mut failed: Vec<(String, String)> = Vec::new();
    for (region, result) in need.iter().zip(results) {
        match result {
            Ok(fetched) => {
                let written = if cache {
                    write_cache(&opts.cache_dir, region, &fetched)
                } else {
                    Ok(())
                };
                if let Err(e) = written {
                    crate::messages::warn(format_args!("prices for {region} not cached: {e:#}"));
                }
                book.extend(fetched);
            }
            Err(e) => failed.push((region.clone(), format!("{e:#}"))),
        }
    }
    let mut notes = Vec::new();
    if !failed.is_empty() {
        notes.push(fall_back_live(&mut book, &failed, stale));
    }
    notes.extend(complete(&mut book, &opts.regions));
    Ok(Loaded {
        book,
        warning: (!notes.is_empty()).then(|| notes.join("; ")),
        api_calls: calls.snapshot(),
    })
}

/// Regions whose live fetch failed: a stale cache, else the bundled table.
fn fall_back_live(
    book: &mut PriceBook,
    failed: &[(String, String)],
    mut stale: Vec<(String, PriceBook)>,
) -> String {
    // One line: the first cause (they are usually the same), then what was used instead.
    let cause = &failed[0].1;
    let mut used = Vec::new();
    let mut to_bundle = Vec::new();
    for (region, _) in failed {
        match stale.iter().position(|(r, _)| r == region) {
            Some(i) => {
                let (_, b) = stale.swap_remove(i);
                used.push(format!("{region}: {}", b.label()));
                book.extend(b);
            }
            None => to_bundle.push(region.clone()),
        }
    }
    let bundled = PriceBook::bundled();
    let (to_bundle, unbundled): (Vec<String>, Vec<String>) =
        to_bundle.into_iter().partition(|r| is_bundled(r));
    if !to_bundle.is_empty() {
        used.push(format!("{}: {}", to_bundle.join(", "), bundled.label()));
        book.extend(bundled.for_regions(&to_bundle));
    }
    if !unbundled.is_empty() {
        used.push(format!(
            "{}: nothing, as natcost bundles no prices for them",
            unbundled.join(", ")
        ));
    }
    format!(
        "Pricing API unavailable ({cause}); using {}",
        used.join("; ")
    )
}

/// Fills each item the book lacks for a region from the bundled table; says which.
fn complete(book: &mut PriceBook, regions: &[String]) -> Option<String> {
    let bundled = PriceBook::bundled();
    let mut filled = Vec::new();
    for r in regions {
        // Regions the book has nothing for were already reported; the bundled table may lack them too.
        if !book.has_region(r) {
            continue;
        }
        for item in Item::ALL {
            if book.get(r, item).is_err() {
                if let Ok(p) = bundled.get(r, item) {
                    filled.push(p.usage_type.clone());
                    book.extend(PriceBook::from_prices([p.clone()]));
                }
            }
        }
    }
    (!filled.is_empty()).then(|| {
        format!(
            "the Pricing API has no {}: using the {} for them",
            filled.join(", "),
            bundled.label()
        )
    })
}

async fn fetch(opts: &Options, regions: &[String], calls: &Calls) -> Vec<Result<PriceBook>> {
    let config = crate::aws::session::load(
        opts.profile.as_deref(),
        opts.endpoint_url.as_deref(),
        Some(&opts.pricing_region),
        None,
        &crate::aws::session::PRICING,
    )
    .await;
    let has_credentials = match config.credentials_provider() {
        Some(p) => p.provide_credentials().await.is_ok(),
        None => false,
    };
    if !has_credentials {
        return regions
            .iter()
            .map(|_| Err(anyhow!("no AWS credentials")))
            .collect();
    }
    let client = aws_sdk_pricing::Client::new(&config);
    let origin = format!("Pricing API of {}", Utc::now().date_naive());
    let mut out = Vec::new();
    for r in regions {
        out.push(
            live::fetch_region(&client, calls, r, &origin)
                .await
                .map(PriceBook::from_prices)
                .with_context(|| r.clone()),
        );
    }
    out
}
