//! Where a `RedirectException` may send a checkout: once, and only to a
//! Region's standard License Manager endpoint, or with an endpoint override
//! (a local emulator, a VPC endpoint) only to the same host and port.

/// The endpoint to follow a redirect to, or `None` when it must not be
/// followed. The endpoint is the location's origin, without a trailing `/`.
pub(crate) fn allowed(location: &str, endpoint_override: Option<&str>) -> Option<String> {
    let target = Origin::parse(location)?;
    match endpoint_override {
        Some(current) => {
            let current = Origin::parse(current)?;
            (target.host == current.host
                && target.port() == current.port()
                && target.scheme == current.scheme)
                .then(|| target.url())
        }
        None => (target.scheme == "https"
            && target.explicit_port.is_none_or(|p| p == 443)
            && standard_host(&target.host))
        .then(|| target.url()),
    }
}

/// `license-manager.<region>.amazonaws.com`, with a Region that looks like
/// one (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`).
fn standard_host(host: &str) -> bool {
    let Some(region) = host
        .strip_prefix("license-manager.")
        .and_then(|rest| rest.strip_suffix(".amazonaws.com"))
    else {
        return false;
    };
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

struct Origin {
    scheme: String,
    host: String,
    explicit_port: Option<u16>,
}

impl Origin {
    /// `scheme://host[:port][/]`: no user info, query, fragment or path.
    fn parse(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return None;
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                (host, Some(port.parse().ok()?))
            }
            _ => (authority, None),
        };
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            explicit_port: port,
        })
    }

    fn port(&self) -> u16 {
        self.explicit_port
            .unwrap_or(if self.scheme == "https" { 443 } else { 80 })
    }

    fn url(&self) -> String {
        match self.explicit_port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_a_regions_endpoint_or_the_overrides_own_host_and_port_is_followed() {
        let aws = [
            ("https://license-manager.eu-west-1.amazonaws.com", true),
            ("https://license-manager.us-gov-west-1.amazonaws.com/", true),
            ("https://license-manager.eu-west-1.amazonaws.com:443", true),
            ("http://license-manager.eu-west-1.amazonaws.com", false),
            (
                "https://license-manager.eu-west-1.amazonaws.com:8443",
                false,
            ),
            (
                "https://license-manager.eu-west-1.amazonaws.com.evil.example",
                false,
            ),
            (
                "https://evil.example/license-manager.eu-west-1.amazonaws.com",
                false,
            ),
            (
                "https://user@license-manager.eu-west-1.amazonaws.com",
                false,
            ),
            (
                "https://license-manager.eu-west-1.amazonaws.com/path",
                false,
            ),
            ("https://license-manager.EVIL.amazonaws.com", false),
            ("https://license-manager.amazonaws.com", false),
            ("https://sts.eu-west-1.amazonaws.com", false),
            ("not a url", false),
        ];
        for (location, followed) in aws {
            assert_eq!(allowed(location, None).is_some(), followed, "{location}");
        }
        let local = Some("http://127.0.0.1:4566");
        let cases = [
            ("http://127.0.0.1:4566", true),
            ("http://127.0.0.1:4566/", true),
            ("http://127.0.0.1:4567", false),
            ("https://127.0.0.1:4566", false),
            ("http://127.0.0.2:4566", false),
            ("https://license-manager.eu-west-1.amazonaws.com", false),
        ];
        for (location, followed) in cases {
            assert_eq!(allowed(location, local).is_some(), followed, "{location}");
        }
    }
}
