//! The formats of what natcost places in a shell command: AWS resource ids, region and AZ
//! names, Lambda function names, CIDRs. A snapshot whose values do not match is refused when it
//! is read, so that text in a snapshot never becomes shell.

/// `prefix-` then 1 to 32 lowercase hex digits (`rtb-0a1b…`, `eipalloc-…`).
pub fn is_id(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (1..=32).contains(&hex.len())
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Any AWS resource id: lowercase letters, `-`, then hex (`tgw-attach-…`, `pcx-…`).
pub fn is_any_id(id: &str) -> bool {
    id.rsplit_once('-').is_some_and(|(prefix, _)| {
        !prefix.is_empty()
            && prefix
                .split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && is_id(prefix, id)
    })
}

/// A region or AZ name (`ap-northeast-2`, `ap-northeast-2a`, `us-west-2-lax-1a`), or an AZ id
/// (`apne2-az1`).
pub fn is_place(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A Lambda function name: letters, digits, `-` and `_`, at most 64.
pub fn is_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An IPv4 or IPv6 CIDR (`10.0.0.0/16`, `::/0`).
pub fn is_cidr(cidr: &str) -> bool {
    cidr.split_once('/').is_some_and(|(ip, bits)| {
        ip.parse::<std::net::IpAddr>().is_ok()
            && bits.len() <= 3
            && bits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// An endpoint service name (`com.amazonaws.ap-northeast-2.s3`).
pub fn is_service_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_their_aws_format_and_nothing_else() {
        assert!(is_id("rtb", "rtb-0a1b2c3d4e5f67890"));
        assert!(is_id("eipalloc", "eipalloc-1234abcd"));
        for bad in [
            "rtb-0a1b$(touch /tmp/x)",
            "rtb-",
            "rtb-0A1B",
            "rtbx-01",
            "subnet-01",
            "rtb-01 --dry-run",
        ] {
            assert!(!is_id("rtb", bad), "{bad}");
        }
        assert!(is_any_id("tgw-attach-0123abcd"));
        assert!(is_any_id("pcx-0123abcd"));
        assert!(!is_any_id("local"));
        assert!(!is_any_id("igw-`id`"));
        assert!(is_place("ap-northeast-2a") && is_place("us-west-2-lax-1a"));
        assert!(!is_place("ap-northeast-2a;reboot"));
        assert!(is_function_name("orders-api_v2"));
        assert!(!is_function_name("orders api") && !is_function_name("a'b"));
        assert!(is_cidr("10.0.0.0/16") && is_cidr("::/0") && is_cidr("2600:1f18::/56"));
        assert!(!is_cidr("10.0.0.0/16 && rm") && !is_cidr("10.0.0.0"));
        assert!(is_service_name("com.amazonaws.ap-northeast-2.s3"));
        assert!(!is_service_name("com.amazonaws.x\"; ls"));
    }
}
