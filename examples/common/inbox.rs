//! The example receivers' durable inbox: `FOXREACH_INBOX` names its SQLite
//! file (default `foxreach-inbox.sqlite3` in the working directory), or
//! `memory` for none; with `REDIS_URL` set (and feature `redis`), the inbox
//! is in that Redis instead. Workers run the printer on it in this process.
//! `FOXREACH_INBOX_MAX_OPEN` bounds the entries not processed yet: past it,
//! deliveries are answered `503` so that FoxReach keeps them meanwhile.

use foxreach_inbox::{Inbox, SqliteInbox, Workers};
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

/// Where the receiver keeps deliveries.
pub(crate) enum Opened {
    /// `FOXREACH_INBOX=memory`: nowhere; processed in the request.
    Memory,
    /// The SQLite file `FOXREACH_INBOX` names, with its workers.
    Sqlite(SqliteInbox, Running),
    /// The Redis at `REDIS_URL`, with this process's workers.
    Redis(foxreach_inbox::RedisInbox, Running),
}

/// The inbox: none for `FOXREACH_INBOX=memory`, else Redis when `REDIS_URL`
/// is set, else the SQLite file `FOXREACH_INBOX` names; with its workers
/// started. Says which on stderr (never the URL: it may hold a password).
pub(crate) async fn open() -> Result<Opened, Box<dyn std::error::Error>> {
    let path = std::env::var("FOXREACH_INBOX").unwrap_or_else(|_| "foxreach-inbox.sqlite3".to_owned());
    let max_open = super::env_optional::<u64>("FOXREACH_INBOX_MAX_OPEN")?;
    if let Some(max) = max_open {
        eprintln!("refusing deliveries (503) while {max} or more wait to be processed (FOXREACH_INBOX_MAX_OPEN)");
    }
    if path == "memory" {
        eprintln!("processing deliveries in the request, with no inbox (FOXREACH_INBOX=memory)");
        return Ok(Opened::Memory);
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        use foxreach_inbox::{Durability, RedisInbox};
        let mut inbox = RedisInbox::connect(&url).await?;
        if let Some(max) = max_open {
            inbox = inbox.max_open_entries(max);
        }
        let disk = match inbox.durability() {
            Durability::Always => "appendfsync always: a 202 survives a Redis crash",
            Durability::WaitAof => "each 202 waits for WAITAOF: it survives a Redis crash",
            _ => "NOT on disk before the 202: a Redis crash can lose deliveries (see the warning)",
        };
        eprintln!(
            "keeping deliveries in the Redis inbox at REDIS_URL, {disk} (FOXREACH_INBOX=memory to process them in the request)"
        );
        let running = start(inbox.clone());
        return Ok(Opened::Redis(inbox, running));
    }
    let mut inbox = SqliteInbox::open(&path).map_err(|error| format!("{path}: {error}"))?;
    if let Some(max) = max_open {
        inbox = inbox.max_open_entries(max);
    }
    eprintln!("keeping deliveries in the inbox {path} (FOXREACH_INBOX=memory to process them in the request)");
    let running = start(inbox.clone());
    Ok(Opened::Sqlite(inbox, running))
}

/// Workers running the printer on `inbox`, until [`Running::stop`].
fn start<I: Inbox + Clone>(inbox: I) -> Running {
    let workers = Workers::new(Printer::from_env(), inbox);
    let (stop, mut stopped) = watch::channel(());
    let task = tokio::spawn(async move {
        workers.run(async move { stopped.changed().await.unwrap_or(()) }, super::SHUTDOWN_GRACE).await;
    });
    Running { stop, task }
}
