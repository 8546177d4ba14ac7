//! A raw HTTP/1.1 client for tests: one request per connection, over TCP or a Unix socket,
//! to send what a client library would not (a `Content-Length` with no body, a missing
//! header) and to see the answer as it came. Used by the emulator's admin API tests and
//! the sidecar's.

use std::io::{Read, Write};
use std::time::Duration;

/// How long the client waits for an answer: far past any answer of a working server, even
/// on a loaded machine. Silence that long is a hung server, and fails the test.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// One answer: the status (0 when the connection closed without one), the head and the body.
#[derive(Debug)]
pub struct Answer {
    /// The status code, or 0.
    pub status: u16,
    /// The status line and headers.
    pub head: String,
    /// The body, as text.
    pub body: String,
}

/// Sends one request with `Connection: close` to `host` on `stream`, whose read and write
/// timeouts must be set (to [`CLIENT_TIMEOUT`]), and reads the whole answer. A connection
/// the server cut is an answer too (status 0); a server silent past the timeout fails the
/// test here rather than hanging it.
///
/// ```no_run
/// let stream = std::net::TcpStream::connect("127.0.0.1:8080").unwrap();
/// stream.set_read_timeout(Some(entitled_test_support::http::CLIENT_TIMEOUT)).unwrap();
/// let answer = entitled_test_support::http::exchange(stream, "127.0.0.1", "GET", "/", &[], "");
/// assert_eq!(answer.status, 200);
/// ```
pub fn exchange<S: Read + Write>(
    mut stream: S,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    if let Err(e) = stream.read_to_end(&mut out) {
        let silent = matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        );
        assert!(
            !silent,
            "{method} {path}: no answer within {CLIENT_TIMEOUT:?}"
        );
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}
