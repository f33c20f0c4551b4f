//! Route 53 Resolver query logs (`--resolver-logs`): each answered query joins an address to the
//! name that was looked up (`sqs.ap-northeast-2.amazonaws.com`). That names the AWS service
//! behind an address ip-ranges.json lists only as `AMAZON` (SQS, STS, KMS, Secrets Manager,
//! SNS, CloudWatch Logs and the ECR API share those prefixes), so its bytes can be set against
//! an interface endpoint.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::aws::s3;

/// One `--resolver-logs` value: a local file or folder, or an S3 location.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolverInput {
    Path(PathBuf),
    S3(s3::Location),
}

impl ResolverInput {
    /// For clap: `s3://BUCKET/PREFIX/`, else a path.
    pub fn parse(arg: &str) -> std::result::Result<ResolverInput, String> {
        if arg.starts_with("s3://") {
            s3::Location::parse(arg)
                .map(ResolverInput::S3)
                .map_err(|e| e.to_string())
        } else if arg.is_empty() {
            Err("empty: give a file, a folder or s3://BUCKET/PREFIX/".into())
        } else {
            Ok(ResolverInput::Path(PathBuf::from(arg)))
        }
    }
}

/// The AWS service names the query logs give each address, per region.
#[derive(Debug, Default, Clone)]
pub struct DnsNames {
    /// (region, address) → the endpoint service names looked up for it (`sqs`, `ecr.api`).
    by_address: HashMap<(String, IpAddr), BTreeSet<String>>,
    pub files: usize,
    pub queries: u64,
    /// Lines that are not a query log record.
    pub corrupt: u64,
}

/// The fields of a query log record natcost reads.
#[derive(Deserialize)]
struct Record {
    query_name: String,
    #[serde(default)]
    answers: Vec<Answer>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Rdata")]
    rdata: String,
    #[serde(rename = "Type")]
    kind: String,
}

impl DnsNames {
    /// The one service the logs name for an address in a region; None when none, or several
    /// (then the address is still many services).
    pub fn service(&self, region: &str, ip: IpAddr) -> Option<&str> {
        let names = self.by_address.get(&(region.to_string(), ip))?;
        match names.len() {
            1 => names.iter().next().map(String::as_str),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    /// How many addresses the logs name.
    pub fn addresses(&self) -> usize {
        self.by_address.len()
    }

    /// Reads the records of one file or object (JSON lines, gzipped when the name ends in
    /// `.gz`).
    pub fn read(&mut self, name: &str, body: impl Read) -> Result<()> {
        let body: Box<dyn Read> = if name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(body))
        } else {
            Box::new(body)
        };
        self.files += 1;
        for line in BufReader::new(body).lines() {
            let line = line.with_context(|| format!("{name}: not readable"))?;
            if line.trim().is_empty() {
                continue;
            }
            let Ok(r) = serde_json::from_str::<Record>(&line) else {
                self.corrupt += 1;
                continue;
            };
            self.queries += 1;
            let Some((region, service)) = service_of(&r.query_name) else {
                continue;
            };
            for a in r
                .answers
                .iter()
                .filter(|a| a.kind == "A" || a.kind == "AAAA")
            {
                if let Ok(ip) = a.rdata.parse::<IpAddr>() {
                    self.by_address
                        .entry((region.clone(), ip))
                        .or_default()
                        .insert(service.clone());
                }
            }
        }
        Ok(())
    }
}

/// The region and endpoint service of a regional AWS API name:
/// `sqs.ap-northeast-2.amazonaws.com.` → (`ap-northeast-2`, `sqs`),
/// `api.ecr.ap-northeast-2.amazonaws.com` → `ecr.api`; None for anything else.
pub fn service_of(name: &str) -> Option<(String, String)> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let rest = name.strip_suffix(".amazonaws.com")?;
    let (labels, region) = rest.rsplit_once('.')?;
    // A region natcost knows, not any label before amazonaws.com.
    if !crate::regions::is_known(region) {
        return None;
    }
    let labels: Vec<&str> = labels.split('.').collect();
    let service = match labels.as_slice() {
        [one] => one.to_string(),
        // ECR's two APIs are two endpoint services.
        // (the registry's name starts with the account: `<account>.dkr.ecr.<region>…`).
        [.., api @ ("api" | "dkr"), "ecr"] => format!("ecr.{api}"),
        // `<bucket>.s3`, `<id>.execute-api`: the service is the last label.
        [.., last] => last.to_string(),
        [] => return None,
    };
    service
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        .then_some((region.to_string(), service))
}

/// Reads every local file and S3 object the inputs name; what cannot be read is returned for
/// the report to say.
pub fn read_all(
    inputs: &[ResolverInput],
    store: Option<&s3::Store<'_>>,
) -> Result<(DnsNames, Vec<String>)> {
    let mut names = DnsNames::default();
    let mut unread = Vec::new();
    for input in inputs {
        match input {
            ResolverInput::Path(p) => {
                let found = super::list_files(std::slice::from_ref(p))?;
                unread.extend(found.skipped.iter().map(|s| format!("resolver logs {s}")));
                for f in found.files {
                    // One unreadable file is said, as an S3 object is: the rest still names.
                    let read = std::fs::File::open(&f)
                        .with_context(|| format!("cannot open {}", f.display()))
                        .and_then(|file| names.read(&f.display().to_string(), file));
                    if let Err(e) = read {
                        unread.push(format!("resolver logs: {e:#}"));
                    }
                }
            }
            ResolverInput::S3(loc) => {
                let Some(store) = store else {
                    unread.push(format!("resolver logs {}: no AWS access", loc.url()));
                    continue;
                };
                match store.list_all(loc) {
                    Ok(objects) => {
                        for o in objects
                            .iter()
                            .filter(|o| o.key.ends_with(".gz") || o.key.ends_with(".log"))
                        {
                            let read = store.open(o).and_then(|body| names.read(&o.url(), body));
                            if let Err(e) = read {
                                unread.push(format!("resolver logs {}: {e:#}", o.url()));
                            }
                        }
                    }
                    Err(e) => unread.push(format!("resolver logs: {e:#}")),
                }
            }
        }
    }
    Ok((names, unread))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_api_names_give_their_endpoint_service() {
        let s = |n: &str| service_of(n).map(|(r, s)| format!("{r} {s}"));
        assert_eq!(
            s("sqs.ap-northeast-2.amazonaws.com.").as_deref(),
            Some("ap-northeast-2 sqs")
        );
        assert_eq!(
            s("api.ecr.ap-northeast-2.amazonaws.com").as_deref(),
            Some("ap-northeast-2 ecr.api")
        );
        assert_eq!(
            s("secretsmanager.us-east-1.amazonaws.com").as_deref(),
            Some("us-east-1 secretsmanager")
        );
        assert_eq!(
            s("123456789012.dkr.ecr.ap-northeast-2.amazonaws.com.").as_deref(),
            Some("ap-northeast-2 ecr.dkr")
        );
        assert_eq!(s("example.com."), None);
        assert_eq!(s("sts.amazonaws.com."), None);
        assert_eq!(s("sqs.not-a-region.amazonaws.com"), None);
    }

    #[test]
    fn query_logs_name_addresses_and_skip_what_is_not_a_record() {
        let lines = [
            r#"{"version":"1.100000","account_id":"123456789012","region":"ap-northeast-2","vpc_id":"vpc-1","query_timestamp":"2026-10-01T00:00:00Z","query_name":"sqs.ap-northeast-2.amazonaws.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"52.94.1.10","Type":"A","Class":"IN"}],"srcaddr":"10.0.16.5","srcport":"53000","transport":"UDP","srcids":{}}"#,
            r#"{"query_name":"kms.ap-northeast-2.amazonaws.com.","answers":[{"Rdata":"52.94.1.20","Type":"A","Class":"IN"},{"Rdata":"kms.aws","Type":"CNAME","Class":"IN"}]}"#,
            // One address under two names: still many services.
            r#"{"query_name":"sns.ap-northeast-2.amazonaws.com.","answers":[{"Rdata":"52.94.1.30","Type":"A","Class":"IN"}]}"#,
            r#"{"query_name":"sts.ap-northeast-2.amazonaws.com.","answers":[{"Rdata":"52.94.1.30","Type":"A","Class":"IN"}]}"#,
            "not json",
            "",
        ];
        let mut n = DnsNames::default();
        n.read("q.log", lines.join("\n").as_bytes()).unwrap();
        assert_eq!((n.files, n.queries, n.corrupt), (1, 4, 1));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(n.service("ap-northeast-2", ip("52.94.1.10")), Some("sqs"));
        assert_eq!(n.service("ap-northeast-2", ip("52.94.1.20")), Some("kms"));
        assert_eq!(n.service("ap-northeast-2", ip("52.94.1.30")), None);
        assert_eq!(n.service("us-east-1", ip("52.94.1.10")), None);
    }
}
