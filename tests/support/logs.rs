//! What this thread logs with `tracing`, captured for assertions.

use std::io;
use std::sync::{Arc, Mutex};

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
pub(crate) fn capture() -> Logs {
    let text = Arc::new(Mutex::new(Vec::new()));
    let writer = Arc::clone(&text);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || Writer(Arc::clone(&writer)))
        .finish();
    Logs { text, _guard: tracing::subscriber::set_default(subscriber) }
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
