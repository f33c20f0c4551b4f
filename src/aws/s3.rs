//! Flow logs read where AWS delivers them: S3 (`--flow-logs s3://bucket/prefix/`). Only the
//! window's day folders are listed, and objects are streamed through the same parser as local
//! files: nothing is downloaded to disk, and nothing is written to the account.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use aws_config::Region;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use chrono::{Datelike, Duration, NaiveDate};

use super::calls;
use super::session::Remote;
use crate::snapshot::Snapshot;

/// GetObject streams read at once: S3 is bound by latency per object, not by cores.
pub const CONCURRENCY: usize = 16;

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub bucket: String,
    /// Empty, or ending in `/` unless it names part of a file name.
    pub prefix: String,
    /// Read only the files of these flow logs (`--flow-logs auto`); None: every file.
    pub only: Option<BTreeSet<String>>,
}

impl Location {
    pub fn parse(url: &str) -> Result<Location> {
        let rest = url
            .strip_prefix("s3://")
            .with_context(|| format!("{url}: not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("{url}: no bucket named (s3://BUCKET/PREFIX/)");
        }
        // `…/AWSLogs` names the folder.
        let prefix = if prefix == "AWSLogs" || prefix.ends_with("/AWSLogs") {
            format!("{prefix}/")
        } else {
            prefix.to_string()
        };
        Ok(Location {
            bucket: bucket.to_string(),
            prefix,
            only: None,
        })
    }

    /// A flow log's S3 destination, `arn:aws:s3:::bucket/prefix` (AWS writes under
    /// `prefix/AWSLogs/`).
    pub fn from_arn(arn: &str) -> Option<Location> {
        let rest = arn.split_once(":s3:::")?.1;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_end_matches('/');
        Some(Location {
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            only: None,
        })
    }

    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// An object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Last modified, seconds since the epoch (0: unknown).
    pub modified: i64,
}

impl Object {
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// What the listing found.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<Object>,
    pub locations: Vec<Listed>,
}

/// One location's listing.
#[derive(Debug, Clone)]
pub struct Listed {
    pub url: String,
    pub objects: usize,
    pub bytes: u64,
    /// Why it (or some of its day folders) could not be listed.
    pub errors: Vec<String>,
}

/// The S3 side of one run: clients per bucket region, and the calls made.
pub struct Store<'a> {
    remote: &'a Remote,
    clients: Mutex<HashMap<String, Client>>,
    /// Bucket → the region it answered in.
    buckets: Mutex<HashMap<String, String>>,
    pub lists: AtomicU64,
    pub gets: Arc<AtomicU64>,
}

impl<'a> Store<'a> {
    pub fn new(remote: &'a Remote) -> Store<'a> {
        Store {
            remote,
            clients: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            lists: AtomicU64::new(0),
            gets: Arc::new(AtomicU64::new(0)),
        }
    }

    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap();
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_s3::config::Builder::from(&self.remote.base)
                    .region(Region::new(region.to_string()))
                    // An emulator at an address has no per-bucket host names.
                    .force_path_style(self.remote.endpoint)
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// The region a bucket answered in, else the one to try first.
    fn bucket_region(&self, bucket: &str) -> String {
        if let Some(r) = self.buckets.lock().unwrap().get(bucket) {
            return r.clone();
        }
        self.remote.region()
    }

    /// The calls made, by IAM action.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (action, n) in [("s3:ListBucket", &self.lists), ("s3:GetObject", &self.gets)] {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                out.insert(action.to_string(), n);
            }
        }
        out
    }

    /// Lists the flow-log objects of the snapshot's accounts and regions, in its window, under
    /// each location.
    pub fn list(&self, snapshot: &Snapshot, locations: &[Location]) -> Listing {
        let mut listing = Listing::default();
        let targets: BTreeSet<(String, String)> = snapshot
            .regions
            .iter()
            .filter(|r| !r.nat_gateways.is_empty())
            .map(|r| (r.account_id.clone(), r.region.clone()))
            .collect();
        let days = window_days(snapshot);
        for loc in locations {
            let result = self
                .remote
                .runtime
                .block_on(self.list_location(loc, &targets, &days));
            let mut listed = Listed {
                url: loc.url(),
                objects: 0,
                bytes: 0,
                errors: Vec::new(),
            };
            match result {
                Ok((objects, errors)) => {
                    listed.errors = errors;
                    for o in objects {
                        let name = o.key.rsplit('/').next().unwrap_or_default();
                        let kept = loc.only.as_ref().is_none_or(|ids| {
                            ids.iter().any(|id| name.contains(&format!("_{id}_")))
                        });
                        if kept
                            && [".log", ".gz", ".parquet"]
                                .iter()
                                .any(|e| o.key.ends_with(e))
                        {
                            listed.objects += 1;
                            listed.bytes += o.size;
                            listing.objects.push(o);
                        }
                    }
                }
                Err(e) => listed.errors.push(format!("{e:#}")),
            }
            listing.locations.push(listed);
        }
        listing
            .objects
            .sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
        listing.objects.dedup();
        listing
    }

    async fn list_location(
        &self,
        loc: &Location,
        targets: &BTreeSet<(String, String)>,
        days: &[NaiveDate],
    ) -> Result<(Vec<Object>, Vec<String>)> {
        let (base, rest) = match loc.prefix.find("AWSLogs/") {
            Some(i) => (&loc.prefix[..i], &loc.prefix[i + "AWSLogs/".len()..]),
            None => (loc.prefix.as_str(), ""),
        };
        let base = if base.is_empty() || base.ends_with('/') {
            base.to_string()
        } else {
            format!("{base}/")
        };
        // Where the bucket answers and, unless the prefix already goes below AWSLogs/, which
        // layout and which accounts have folders: one call that lists folders only.
        let top = format!("{base}AWSLogs/");
        let probe = if rest.is_empty() { &top } else { &loc.prefix };
        let (region, folders) = self.locate(&loc.bucket, probe).await?;
        let (hive, present) = if rest.is_empty() {
            if folders.is_empty() {
                bail!(
                    "no AWSLogs/ folder under it: is it a flow-log destination? (AWS writes to PREFIX/AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/)"
                );
            }
            let names: Vec<&str> = folders
                .iter()
                .filter_map(|f| f.strip_prefix(top.as_str()))
                .map(|n| n.trim_end_matches('/'))
                .collect();
            let hive = names.iter().any(|n| n.starts_with("aws-account-id="));
            let present: BTreeSet<String> = names
                .iter()
                .map(|n| n.strip_prefix("aws-account-id=").unwrap_or(n).to_string())
                .collect();
            (hive, Some(present))
        } else {
            (rest.starts_with("aws-account-id="), None)
        };
        let mut prefixes = BTreeSet::new();
        for (account, r) in targets {
            if present.as_ref().is_some_and(|p| !p.contains(account)) {
                continue;
            }
            for d in days {
                let day = if hive {
                    format!(
                        "{base}AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={r}/year={}/month={:02}/day={:02}/",
                        d.year(), d.month(), d.day()
                    )
                } else {
                    format!(
                        "{base}AWSLogs/{account}/vpcflowlogs/{r}/{}/{:02}/{:02}/",
                        d.year(),
                        d.month(),
                        d.day()
                    )
                };
                if day.starts_with(&loc.prefix) {
                    prefixes.insert(day);
                } else if loc.prefix.starts_with(&day) {
                    prefixes.insert(loc.prefix.clone());
                }
            }
        }
        if prefixes.is_empty() {
            let wanted: Vec<String> = targets.iter().map(|(a, r)| format!("{a}/{r}")).collect();
            bail!(
                "no folder under it for the snapshot's accounts and regions with NAT gateways ({}) in the window",
                wanted.join(", ")
            );
        }
        let client = self.client(&region);
        let mut tasks = tokio::task::JoinSet::new();
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        for prefix in prefixes {
            let client = client.clone();
            let bucket = loc.bucket.clone();
            let limit = limit.clone();
            let region = region.clone();
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                list_prefix(&client, &region, &bucket, &prefix).await
            });
        }
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (found, pages, err) = done.context("listing task failed")?;
            self.lists.fetch_add(pages, Ordering::Relaxed);
            objects.extend(found);
            errors.extend(err);
        }
        errors.sort();
        Ok((objects, errors))
    }

    /// Every object under a location (a Cost and Usage Report export): where the bucket
    /// answers is found with a folder listing, then everything under the prefix is listed.
    pub fn list_all(&self, loc: &Location) -> Result<Vec<Object>> {
        self.remote.runtime.block_on(async {
            let (region, _) = self
                .locate(&loc.bucket, &loc.prefix)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", loc.url()))?;
            let (objects, pages, error) =
                list_prefix(&self.client(&region), &region, &loc.bucket, &loc.prefix).await;
            self.lists.fetch_add(pages, Ordering::Relaxed);
            match error {
                Some(e) => bail!("s3://{}/{e}", loc.bucket),
                None => Ok(objects),
            }
        })
    }

    /// The region a bucket answers in, found with a folder listing under `probe` (a 301/400
    /// naming another region is followed, at most 3 times) and kept for later calls; and the
    /// folders that listing found.
    async fn locate(&self, bucket: &str, probe: &str) -> Result<(String, Vec<String>)> {
        let mut region = self.bucket_region(bucket);
        let mut moves = 0;
        let folders = loop {
            match self.folders(&region, bucket, probe).await {
                Ok(f) => break f,
                Err(ListError::Moved(r)) if r != region && moves < 3 => {
                    moves += 1;
                    region = r;
                }
                Err(ListError::Moved(r)) => {
                    bail!("S3 keeps redirecting the bucket (last to {r})")
                }
                Err(ListError::Failed(why)) => bail!(why),
            }
        };
        self.buckets
            .lock()
            .unwrap()
            .insert(bucket.to_string(), region.clone());
        Ok((region, folders))
    }

    /// The folders (common prefixes) directly under `prefix`.
    async fn folders(
        &self,
        region: &str,
        bucket: &str,
        prefix: &str,
    ) -> std::result::Result<Vec<String>, ListError> {
        let client = self.client(region);
        let mut out = Vec::new();
        let mut token = None;
        loop {
            self.lists.fetch_add(1, Ordering::Relaxed);
            let page = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .delimiter("/")
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| ListError::new(e, region))?;
            out.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_string)),
            );
            token = page.next_continuation_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// A reader of one object's body, streamed chunk by chunk from a worker thread.
    pub fn open(&self, o: &Object) -> Result<Body> {
        self.ranged(o).body(None).map_err(anyhow::Error::msg)
    }
}

impl Store<'_> {
    /// An object read by byte ranges (Parquet reads its footer, then each column chunk):
    /// memory holds one range at a time, whatever the object's size.
    pub fn ranged(&self, o: &Object) -> Ranged {
        let region = self.bucket_region(&o.bucket);
        Ranged {
            runtime: self.remote.runtime.handle().clone(),
            client: self.client(&region),
            region,
            object: o.clone(),
            gets: self.gets.clone(),
            failed: Arc::new(Mutex::new(None)),
        }
    }
}

/// See [`Store::ranged`].
pub struct Ranged {
    runtime: tokio::runtime::Handle,
    client: Client,
    region: String,
    object: Object,
    gets: Arc<AtomicU64>,
    /// Why a GetObject failed, once one has: told apart from a body that is not readable.
    failed: Arc<Mutex<Option<String>>>,
}

impl Ranged {
    /// Where the first failed GetObject's reason is kept (the reader takes `self`).
    pub fn failure(&self) -> Arc<Mutex<Option<String>>> {
        self.failed.clone()
    }

    /// GetObject, whole or for a `bytes=…` range; why it failed, in one line.
    fn body(&self, range: Option<String>) -> std::result::Result<Body, String> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        let out = self
            .runtime
            .block_on(
                self.client
                    .get_object()
                    .bucket(&self.object.bucket)
                    .key(&self.object.key)
                    .set_range(range)
                    .send(),
            )
            .map_err(|e| {
                let why = why(&e, &self.region);
                self.failed
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| why.clone());
                why
            })?;
        Ok(Body {
            runtime: self.runtime.clone(),
            stream: out.body,
            chunk: bytes::Bytes::new(),
        })
    }

    fn get(&self, range: String) -> ::parquet::errors::Result<Body> {
        self.body(Some(range))
            .map_err(|e| ::parquet::errors::ParquetError::External(e.into()))
    }
}

impl ::parquet::file::reader::Length for Ranged {
    fn len(&self) -> u64 {
        self.object.size
    }
}

impl ::parquet::file::reader::ChunkReader for Ranged {
    type T = Body;

    fn get_read(&self, start: u64) -> ::parquet::errors::Result<Body> {
        self.get(format!("bytes={start}-"))
    }

    fn get_bytes(&self, start: u64, length: usize) -> ::parquet::errors::Result<bytes::Bytes> {
        if length == 0 {
            return Ok(bytes::Bytes::new());
        }
        let body = self.get(format!("bytes={start}-{}", start + length as u64 - 1))?;
        let all = self
            .runtime
            .block_on(body.stream.collect())
            .map_err(|e| ::parquet::errors::ParquetError::External(Box::new(e)))?;
        Ok(all.into_bytes())
    }
}

/// An object's body (or a range of it) as `Read`, pulling chunks on the store's runtime from a
/// worker thread.
pub struct Body {
    runtime: tokio::runtime::Handle,
    stream: ByteStream,
    chunk: bytes::Bytes,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(b)) => self.chunk = b,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        bytes::Buf::advance(&mut self.chunk, n);
        Ok(n)
    }
}

/// One prefix's objects, the pages it took, and the error that stopped it.
async fn list_prefix(
    client: &Client,
    region: &str,
    bucket: &str,
    prefix: &str,
) -> (Vec<Object>, u64, Option<String>) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        pages += 1;
        let page = match client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) => return (out, pages, Some(format!("{prefix}: {}", why(&e, region)))),
        };
        for o in page.contents() {
            if let Some(key) = o.key() {
                out.push(Object {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    modified: o.last_modified().map_or(0, |t| t.secs()),
                });
            }
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return (out, pages, None);
        }
    }
}

/// Why a listing failed: the bucket lives in another region (S3 names it in a header), or
/// anything else, in one line.
enum ListError {
    Moved(String),
    Failed(String),
}

impl ListError {
    fn new(e: SdkError<ListObjectsV2Error, HttpResponse>, region: &str) -> ListError {
        let moved = e
            .raw_response()
            .filter(|r| matches!(r.status().as_u16(), 301 | 400))
            .and_then(|r| r.headers().get("x-amz-bucket-region"));
        match moved {
            Some(r) => ListError::Moved(r.to_string()),
            None => ListError::Failed(why(&e, region)),
        }
    }
}

/// An S3 error in one line: its code and message, or why S3 could not be reached.
fn why<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E>,
    region: &str,
) -> String {
    calls::one_line(e, &calls::host("s3", region))
}

/// The UTC days whose folders can hold the window's records: each day of the window, and the
/// day after it (a record near the end is delivered minutes later, maybe after midnight).
pub fn window_days(snapshot: &Snapshot) -> Vec<NaiveDate> {
    let first = snapshot.window.start.date_naive();
    let last = (snapshot.window.end - Duration::seconds(1)).date_naive() + Duration::days(1);
    first.iter_days().take_while(|d| *d <= last).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_from_urls_and_arns() {
        let l = Location::parse("s3://acme-flow-logs/prod/").unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("acme-flow-logs", "prod/")
        );
        assert_eq!(Location::parse("s3://b").unwrap().prefix, "");
        assert_eq!(
            Location::parse("s3://b/AWSLogs").unwrap().prefix,
            "AWSLogs/"
        );
        assert_eq!(
            Location::parse("s3://b/p/AWSLogs").unwrap().prefix,
            "p/AWSLogs/"
        );
        assert!(Location::parse("s3:///x").is_err());
        assert!(Location::parse("/tmp/x").is_err());
        let a = Location::from_arn("arn:aws:s3:::acme-flow-logs/prod").unwrap();
        assert_eq!(a.url(), "s3://acme-flow-logs/prod/");
        assert_eq!(
            Location::from_arn("arn:aws:s3:::bucket").unwrap().url(),
            "s3://bucket/"
        );
    }

    #[test]
    fn window_days_cover_the_window_and_the_day_after() {
        let mut s = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        s.window.start = "2026-10-30T00:00:00Z".parse().unwrap();
        s.window.end = "2026-11-01T00:00:00Z".parse().unwrap();
        let days: Vec<String> = window_days(&s).iter().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-10-30", "2026-10-31", "2026-11-01"]);
    }
}
