//! The example receivers' durable inbox: `FOXREACH_INBOX` names its SQLite
//! file (default `foxreach-inbox.sqlite3` in the working directory), or
//! `memory` for none; workers run the printer on it in this process.

use foxreach_webhooks::delivery::inbox::{SqliteInbox, Workers};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::printer::Printer;

/// The inbox's workers, running until [`Running::stop`].
pub(crate) struct Running {
    stop: watch::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops taking entries and waits for the running handlers, up to the
    /// grace period; the rest waits in the inbox for the next start.
    pub(crate) async fn stop(self) -> Result<(), Box<dyn std::error::Error>> {
        self.stop.send(())?;
        self.task.await?;
        Ok(())
    }
}

/// The inbox `FOXREACH_INBOX` names, with its workers started, or `None`
/// for `memory`; says which on stderr.
pub(crate) fn open() -> Result<Option<(SqliteInbox, Running)>, Box<dyn std::error::Error>> {
    let path = std::env::var("FOXREACH_INBOX").unwrap_or_else(|_| "foxreach-inbox.sqlite3".to_owned());
    if path == "memory" {
        eprintln!("processing deliveries in the request, with no inbox (FOXREACH_INBOX=memory)");
        return Ok(None);
    }
    let inbox = SqliteInbox::open(&path).map_err(|error| format!("{path}: {error}"))?;
    eprintln!("keeping deliveries in the inbox {path} (FOXREACH_INBOX=memory to process them in the request)");
    let workers = Workers::new(Printer::from_env(), inbox.clone());
    let (stop, mut stopped) = watch::channel(());
    let task = tokio::spawn(async move {
        workers.run(async move { stopped.changed().await.unwrap_or(()) }, super::SHUTDOWN_GRACE).await;
    });
    Ok(Some((inbox, Running { stop, task })))
}
