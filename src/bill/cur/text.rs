//! gzip CSV and CSV files, of CUR 2.0 or the legacy CUR.

use std::cell::Cell as Counter;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use anyhow::{anyhow, bail, Context, Result};

use super::columns::{generation, resolve, At, Cell, Totals, COLUMNS, RESOURCE, USAGE};
use super::locating::Found;
use crate::bill;

/// A gzip CSV or plain CSV file (CUR 2.0 or legacy): returns its format (None: not a report).
pub(super) fn read<R: Read>(reader: R, f: &Found, totals: &mut Totals) -> Result<Option<String>> {
    let name = f.name.as_str();
    let mut buffered = BufReader::new(reader);
    let head = buffered
        .fill_buf()
        .with_context(|| format!("{name}: cannot read"))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let since = Rc::new(Counter::new(0));
    let reader = Capped {
        inner: reader,
        since: since.clone(),
    };
    let mut csv = csv::ReaderBuilder::new().from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| anyhow!("{name}: not a readable CSV file ({e})"))?
        .clone();
    since.set(0);
    let names: Vec<&str> = headers.iter().collect();
    let Some(index) = resolve(f, &names)? else {
        return Ok(None);
    };
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => bail!("{name}: row {}: {e}", row + 1),
        }
        since.set(0);
        row += 1;
        totals.rows += 1;
        // Most rows are other usage types: skipped before any cell is made.
        let usage = index[USAGE].and_then(|c| record.get(c)).unwrap_or_default();
        if !bill::is_nat_related(usage.trim()) {
            continue;
        }
        let cells: [Cell; 8] =
            std::array::from_fn(|i| match index[i].and_then(|c| record.get(c)) {
                Some(s) if !s.is_empty() => Cell::Text(s.to_string()),
                _ => Cell::Empty,
            });
        totals.add(&At { file: name, row }, &cells)?;
    }
    if names.iter().any(|n| COLUMNS[RESOURCE].1.contains(n)) {
        totals.resource_ids = true;
    }
    Ok(Some(format!(
        "{}, {}",
        generation(&names),
        if gzip { "gzip CSV" } else { "CSV" }
    )))
}

/// The longest row (or header) a report file may have: rows are a few KB; a longer one is
/// refused before it is held, as a flow-log line is.
const MAX_ROW: u64 = 1 << 20;

/// The file's bytes, refused once more than [`MAX_ROW`] (and the CSV reader's read-ahead) have
/// come since the last whole row: one huge quoted field cannot fill memory.
struct Capped<R> {
    inner: R,
    /// Bytes given since the last row ended; the caller resets it.
    since: Rc<Counter<u64>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since.get() > MAX_ROW + (64 << 10) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a row longer than 1 MiB: not a Cost and Usage Report row",
            ));
        }
        let n = self.inner.read(buf)?;
        self.since.set(self.since.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use rust_decimal::Decimal;

    #[test]
    fn legacy_csv_rows_are_summed_and_credits_kept_apart() {
        let csv = "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,lineItem/UnblendedCost,product/region\n\
            a,2026-10-01T00:00:00Z,123456789012,Usage,APN2-NatGateway-Hours,arn:x,372,21.948,ap-northeast-2\n\
            b,2026-10-01T00:00:00Z,123456789012,Usage,APN2-NatGateway-Hours,arn:x,372,21.948,ap-northeast-2\n\
            c,2026-10-01T00:00:00Z,123456789012,Credit,APN2-NatGateway-Hours,,0,-10,\n\
            d,2026-10-01T00:00:00Z,123456789012,Usage,APN2-BoxUsage:t3.micro,i-1,744,7.5,ap-northeast-2\n";
        let mut totals = Totals::default();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, csv.as_bytes()).unwrap();
        let f = Found::local("cur.csv.gz");
        let format = read(&gz.finish().unwrap()[..], &f, &mut totals).unwrap();
        assert_eq!(format.as_deref(), Some("legacy CUR, gzip CSV"));
        assert_eq!(totals.rows, 4);
        assert!(totals.resource_ids);
        let key = |r: &str, kind: &str| {
            (
                "2026-10".to_string(),
                "123456789012".to_string(),
                "ap-northeast-2".to_string(),
                "APN2-NatGateway-Hours".to_string(),
                format!("{r}{kind}"),
            )
        };
        assert_eq!(
            totals.usage,
            BTreeMap::from([(
                key("arn:x", ""),
                (Decimal::from(744), Decimal::new(43896, 3))
            )])
        );
        // The credit's region comes from its usage type.
        assert_eq!(
            totals.adjustments,
            BTreeMap::from([(key("", "Credit"), Decimal::from(-10))])
        );
    }

    #[test]
    fn amounts_no_bill_holds_are_refused_not_summed() {
        let head = "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,lineItem/UnblendedCost,product/region\n";
        let f = Found::local("cur.csv");
        for cost in ["79228162514264337593543950335", "1e25", "1000000000000001"] {
            let csv = format!(
                "{head}a,2026-10-01T00:00:00Z,123456789012,Usage,APN2-NatGateway-Hours,arn:x,1,{cost},ap-northeast-2\n\
                 b,2026-10-01T00:00:00Z,123456789012,Usage,APN2-NatGateway-Hours,arn:x,1,{cost},ap-northeast-2\n"
            );
            let err = read(csv.as_bytes(), &f, &mut Totals::default()).unwrap_err();
            assert!(
                format!("{err:#}").contains("expected a number within ±1e15"),
                "{err:#}"
            );
        }
    }

    #[test]
    fn one_huge_field_is_refused_before_it_is_held() {
        let head = "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,lineItem/UnblendedCost,product/region\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, head.as_bytes()).unwrap();
        std::io::Write::write_all(&mut gz, b"a,\"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..64 {
            std::io::Write::write_all(&mut gz, &chunk).unwrap();
        }
        let packed = gz.finish().unwrap();
        assert!(packed.len() < 1 << 20, "64 MiB packed small");
        let f = Found::local("cur.csv.gz");
        let err = read(&packed[..], &f, &mut Totals::default()).unwrap_err();
        assert!(
            format!("{err:#}").contains("a row longer than 1 MiB"),
            "{err:#}"
        );
    }
}

/// Arbitrary and mutated report files never panic the reader; the rows it reads sum to a
/// reference sum, to the digit.
#[cfg(test)]
mod fuzz {
    use super::*;
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use rust_decimal::Decimal;

    const HEAD: &str = "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,lineItem/UnblendedCost,product/region\n";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_are_read_or_refused(body in prop::collection::vec(any::<u8>(), 0..2000)) {
            let mut file = HEAD.as_bytes().to_vec();
            file.extend(body);
            let _ = read(&file[..], &Found::local("cur.csv"), &mut Totals::default());
        }

        #[test]
        fn rows_sum_to_the_reference(
            rows in prop::collection::vec(
                (0usize..2, 0usize..2, -1_000_000_000i64..1_000_000_000, 0u32..7, -1_000_000_000i64..1_000_000_000, 0u32..7),
                1..40,
            ),
        ) {
            let usages = ["APN2-NatGateway-Hours", "APN2-NatGateway-Bytes"];
            let resources = ["arn:aws:ec2:ap-northeast-2:123456789012:natgateway/nat-1", "arn:aws:ec2:ap-northeast-2:123456789012:natgateway/nat-2"];
            let mut csv = HEAD.to_string();
            let mut want: BTreeMap<(String, String), (Decimal, Decimal)> = BTreeMap::new();
            for (i, (u, r, q, qs, c, cs)) in rows.iter().enumerate() {
                let (quantity, cost) = (Decimal::new(*q, *qs), Decimal::new(*c, *cs));
                csv.push_str(&format!(
                    "{i},2026-10-01T00:00:00Z,123456789012,Usage,{},{},{quantity},{cost},ap-northeast-2\n",
                    usages[*u], resources[*r]
                ));
                let e = want.entry((usages[*u].to_string(), resources[*r].to_string())).or_default();
                e.0 += quantity;
                e.1 += cost;
            }
            let mut totals = Totals::default();
            read(csv.as_bytes(), &Found::local("cur.csv"), &mut totals).unwrap();
            let got: BTreeMap<(String, String), (Decimal, Decimal)> = totals
                .usage
                .iter()
                .map(|((_, _, _, usage, resource), v)| ((usage.clone(), resource.clone()), *v))
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
