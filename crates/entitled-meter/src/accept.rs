//! Accepting connections: one loop for TCP and Unix sockets that backs off when `accept`
//! fails (out of file descriptors, most often) instead of spinning, counts the failures, and
//! serves again once descriptors return. And the Unix socket's ownership rule: a path
//! another process still answers on is refused; a dead one is replaced.

use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use entitled::meter::Meter;
use entitled_shell::{Level, Logger};
use tokio::io::{AsyncRead, AsyncWrite};

/// The first wait after a failed `accept`; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest wait between `accept` attempts while they fail.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts until the process ends, serving each connection on its own task.
pub async fn accept_loop<S, F, Fut>(mut accept: F, meter: Arc<Meter>, logger: Logger)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<S>>,
{
    let mut backoff = FIRST_BACKOFF;
    loop {
        match accept().await {
            Ok(stream) => {
                backoff = FIRST_BACKOFF;
                tokio::spawn(crate::server::serve(stream, meter.clone(), logger));
            }
            Err(e) => {
                crate::counters::ACCEPT_ERRORS.fetch_add(1, Ordering::Relaxed);
                // Identical lines within 10 s are counted by the logger, not repeated.
                logger.log(
                    Level::Error,
                    "accept_failed",
                    &format!("cannot accept a connection: {e}; retrying in {} ms (raise the file descriptor limit if this repeats)", backoff.as_millis()),
                    &[],
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Clears the way for binding a Unix socket at `path`: refuses a path another process
/// still answers on (as binding a TCP address in use is refused), and removes a socket
/// left by a process that died.
pub fn claim_unix_path(path: &Path) -> Result<(), String> {
    let is_socket = std::fs::symlink_metadata(path)
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()));
    if !is_socket {
        return Ok(());
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(format!(
            "--listen unix:{}: another process is serving on this socket; stop it or give another path",
            path.display()
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)
            .map_err(|e| format!("--listen unix:{}: cannot remove the dead socket: {e}", path.display())),
        Err(e) => Err(format!("--listen unix:{}: {e}", path.display())),
    }
}
