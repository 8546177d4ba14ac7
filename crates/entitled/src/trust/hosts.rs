//! Which hosts are AWS's, and so are trusted with the Amazon roots alone.

/// The domains whose endpoints present certificates chaining to Amazon
/// Trust Services: the `aws` and `aws-us-gov` partitions (`amazonaws.com`)
/// and their dual-stack names (`api.aws`). The China and isolated partitions
/// use other CAs, and RegisterUsage is not offered there, so they keep the
/// general trust.
const AMAZON_ANCHORED_DOMAINS: &[&str] = &["amazonaws.com", "api.aws"];

/// True for a host under one of AWS's domains anchored by Amazon Trust
/// Services, such as `metering.marketplace.us-east-1.amazonaws.com`.
/// Case and a trailing dot do not matter; an IP address never matches.
pub(crate) fn anchored_by_amazon(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    AMAZON_ANCHORED_DOMAINS.iter().any(|domain| {
        host == *domain
            || host
                .strip_suffix(domain)
                .is_some_and(|label| label.ends_with('.'))
    })
}

/// The scheme and host of a request URI; `None` when it has none.
pub(crate) fn scheme_and_host(uri: &str) -> Option<(String, String)> {
    let uri: http::Uri = uri.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    Some((uri.scheme_str()?.to_ascii_lowercase(), host.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_hosts_are_recognised_and_look_alikes_are_not() {
        for host in [
            "metering.marketplace.us-east-1.amazonaws.com",
            "metering.marketplace-fips.us-gov-west-1.amazonaws.com",
            "metering-marketplace.eu-west-1.api.aws",
            "sts.amazonaws.com",
            "STS.US-EAST-1.AMAZONAWS.COM.",
        ] {
            assert!(anchored_by_amazon(host), "{host}");
        }
        for host in [
            "evilamazonaws.com",
            "amazonaws.com.evil.example",
            "metering.marketplace.cn-north-1.amazonaws.com.cn",
            "proxy.example",
            "127.0.0.1",
            "::1",
            "notapi.aws",
        ] {
            assert!(!anchored_by_amazon(host), "{host}");
        }
    }

    #[test]
    fn the_host_is_taken_from_the_request_uri() {
        assert_eq!(
            scheme_and_host("https://sts.us-east-1.amazonaws.com:443/?a=b"),
            Some(("https".into(), "sts.us-east-1.amazonaws.com".into()))
        );
        assert_eq!(
            scheme_and_host("http://[::1]:8080/creds"),
            Some(("http".into(), "::1".into()))
        );
        assert_eq!(scheme_and_host("/no/authority"), None);
    }
}
