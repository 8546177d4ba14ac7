//! Walking an error's chain: one line of Display texts for logs, and the TLS verdict
//! buried in it.

/// An error and its causes on one line, Display only: the SDK's own context
/// printer appends Debug dumps of whole responses, too long for a log line.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The rustls verdict in an error's chain when the peer's certificate did
/// not verify. A handshake cut by the network is an I/O error instead, and
/// stays transient.
///
/// `io::Error::source` skips the error it wraps, and the TLS connector wraps
/// rustls's error in an `io::Error`, so each link is also looked into.
pub(super) fn untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    // Both the source and an io::Error's payload are followed: hyper-rustls
    // nests rustls's error two io::Errors deep.
    let mut pending = vec![err];
    let mut visited = 0;
    while let Some(e) = pending.pop() {
        visited += 1;
        if visited > 64 {
            break;
        }
        if let Some(rustls::Error::InvalidCertificate(cert)) = e.downcast_ref::<rustls::Error>() {
            return Some(format!(
                "the server's TLS certificate did not verify: {cert:?}"
            ));
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        if let Some(source) = e.source() {
            pending.push(source);
        }
    }
    None
}
