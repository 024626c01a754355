//! What the accept loop does besides accepting: riding out a failure to
//! accept, refusing a connection past the limit, and saying so in the log
//! without flooding it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::task::JoinError;
use tokio::time::Instant;

use super::refusal;
use super::registry::Registry;

/// How often a warning about the same trouble may be logged.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// How long to wait after a failure to accept before trying again, so that
/// a process out of file descriptors does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The accept loop's own state: refusals in progress and the warnings held back.
#[derive(Debug, Default)]
pub(super) struct Accepting {
    lingering: Arc<refusal::Lingering>,
    refused: Warning,
    failed: Warning,
    /// Failures to accept in a row.
    failures: u32,
}

impl Accepting {
    /// The accepted stream, or `None` after a failure to accept. One that
    /// says the process is out of file descriptors or memory is logged, the
    /// connection waiting longest for a request is closed to free a
    /// descriptor, and accepting resumes after a short pause; any other
    /// concerns a single connection (reset before it was accepted, a
    /// protocol error) and is skipped, with the same pause only after ten
    /// in a row, so that a listener that keeps failing does not spin.
    pub(super) async fn accepted(
        &mut self,
        accepted: io::Result<(TcpStream, SocketAddr)>,
        registry: &Registry,
    ) -> Option<TcpStream> {
        let error = match accepted {
            Ok((stream, _)) => {
                self.failures = 0;
                return Some(stream);
            }
            Err(error) => error,
        };
        self.failures = self.failures.saturating_add(1);
        if !out_of_resources(&error) {
            tracing::debug!(target: "foxreach_webhooks::server", %error, "a connection failed before it was accepted");
            if self.failures > 10 {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
            return None;
        }
        let evicted = registry.evict_idlest();
        if let Some(suppressed) = self.failed.due() {
            tracing::warn!(
                target: "foxreach_webhooks::server",
                %error,
                evicted,
                failures_since_last_warning = suppressed,
                "could not accept a connection (out of file descriptors or memory); closing the longest-idle one and retrying",
            );
        }
        tokio::time::sleep(ACCEPT_BACKOFF).await;
        None
    }

    /// Answers a connection past the limit `503`, and logs it (at most
    /// once every 10 s, with a count).
    pub(super) fn refuse(&mut self, stream: TcpStream, max: usize) {
        crate::observe::connection_closed("refused");
        if let Some(suppressed) = self.refused.due() {
            tracing::warn!(
                target: "foxreach_webhooks::server",
                max_connections = max,
                refused_since_last_warning = suppressed,
                "refusing a connection with 503: every connection has a request in flight",
            );
        }
        refusal::refuse(stream, &self.lingering);
    }
}

/// Logs a connection task that panicked (a panic in the application's
/// service, which hyper does not catch).
pub(super) fn ended(ended: Result<(), JoinError>) {
    if let Err(error) = ended
        && error.is_panic()
    {
        tracing::error!(target: "foxreach_webhooks::server", "a connection's task panicked; its connection is closed");
    }
}

/// Whether a failure to accept says the process (or the system) is out of
/// file descriptors or memory, rather than something about one connection.
fn out_of_resources(error: &io::Error) -> bool {
    #[cfg(unix)]
    if let Some(code) = error.raw_os_error() {
        return matches!(code, libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM);
    }
    error.kind() == io::ErrorKind::OutOfMemory
}

/// A warning logged at most once every [`WARN_EVERY`], with the number of
/// times it was held back.
#[derive(Debug, Default)]
struct Warning {
    last: Option<Instant>,
    held_back: u64,
}

impl Warning {
    /// `Some(times held back)` when the warning should be logged now.
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < WARN_EVERY) {
            self.held_back += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held_back))
    }
}
