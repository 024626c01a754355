//! What this thread logs with `tracing`, captured for assertions.

use std::io;
use std::sync::{Arc, Mutex, Once};

use tracing::subscriber::DefaultGuard;

/// The captured text; capturing stops when it is dropped.
pub(crate) struct Logs {
    text: Arc<Mutex<Vec<u8>>>,
    _guard: DefaultGuard,
}

impl Logs {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.text.lock().expect("not poisoned")).into_owned()
    }
}

/// Captures every event this thread logs, at every level, from now on.
///
/// Tests run on several threads, most without a subscriber. tracing caches
/// each log line's interest process-wide: a line first reached on a thread
/// with no subscriber could be switched off for this one too. A global
/// subscriber that takes everything (and writes nothing) keeps every line
/// on, so that each thread's own subscriber decides.
pub(crate) fn capture() -> Logs {
    static EVERY_LINE_ON: Once = Once::new();
    EVERY_LINE_ON.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
    let text = Arc::new(Mutex::new(Vec::new()));
    let writer = Arc::clone(&text);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || Writer(Arc::clone(&writer)))
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    Logs { text, _guard: guard }
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
