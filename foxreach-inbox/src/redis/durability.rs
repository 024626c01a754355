//! What a Redis reply means for the disk, and the `WAITAOF` rounds that
//! make it mean "written" where the server's settings alone do not.

use std::sync::Arc;
use std::time::Duration;

use redis::Value;
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};

use crate::InboxError;

/// When an appended delivery is on Redis's disk, as
/// [`RedisInbox::durability`](super::RedisInbox::durability) found the
/// server's settings at connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// `appendonly yes` with `appendfsync always`: Redis fsyncs its
    /// append-only file before it replies, so a `202` survives a Redis
    /// crash. The setting this crate's proofs run with.
    Always,
    /// `appendonly yes` with `appendfsync everysec`, on a server with
    /// `WAITAOF` (Redis 7.2 or later, Valkey): every append
    /// waits for the next fsync of the file, shared by the appends of that
    /// moment (up to about a second), before the `202` (each wait writes
    /// the counter `foxreach:inbox:synced`, whatever the prefix). Settles are not
    /// waited for: after a Redis crash the last second's may be lost, and
    /// their entries run again (at least once). Slower than `always`: on
    /// Valkey 8.0.1 here, 0.09x of a bare hyper server's requests a second
    /// against 0.22x, an append waiting about 10 ms for its round
    /// (`bash .ci/load-redis-durability`, PERFORMANCE.md). Some servers' `WAITAOF`
    /// answers before the fsync under `everysec` (redis/redis#13793, fixed
    /// in Redis 7.4.3; Valkey 8.0.1 does it too): prefer `always` there.
    WaitAof,
    /// Neither: a Redis crash loses the deliveries answered in the last
    /// second (`everysec` without `WAITAOF`), what the kernel had not
    /// written yet (`appendfsync no`), or everything since the last
    /// snapshot (no append-only file). Logged as a warning at connect.
    NotOnDisk,
}

/// Reads the server's settings (logging what weakens the `202`) and says
/// which [`Durability`] they give.
pub(super) async fn check(connection: &mut ConnectionManager) -> Durability {
    let settings: Result<Vec<String>, _> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendonly")
        .arg("appendfsync")
        .arg("no-appendfsync-on-rewrite")
        .arg("maxmemory-policy")
        .query_async(connection)
        .await;
    let Ok(settings) = settings else {
        tracing::warn!(
            target: "foxreach_webhooks::inbox",
            "could not read Redis's appendonly and appendfsync settings (CONFIG GET refused?): \
             make sure they are `yes` and `always`, or a Redis crash may lose deliveries already answered 202",
        );
        return Durability::NotOnDisk;
    };
    let setting = |name: &str| settings.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1)).cloned();
    let aof = setting("appendonly").as_deref() == Some("yes");
    let fsync = setting("appendfsync");
    let waitaof: Result<Value, _> = redis::cmd("COMMAND").arg("INFO").arg("WAITAOF").query_async(connection).await;
    let has_waitaof =
        matches!(waitaof, Ok(Value::Array(ref info)) if info.iter().any(|command| !matches!(command, Value::Nil)));
    // `appendfsync no` never fsyncs: WAITAOF would count a write handed to
    // the kernel as synced, or never answer.
    let durability = match (aof, fsync.as_deref(), has_waitaof) {
        (true, Some("always"), _) => Durability::Always,
        (true, Some("everysec"), true) => Durability::WaitAof,
        _ => Durability::NotOnDisk,
    };
    if durability == Durability::NotOnDisk {
        tracing::warn!(
            target: "foxreach_webhooks::inbox",
            "Redis is not set to `appendonly yes` with `appendfsync always` (and has no WAITAOF to make up \
             for it): a Redis crash may lose deliveries already answered 202",
        );
    }
    if setting("no-appendfsync-on-rewrite").as_deref() == Some("yes") {
        tracing::warn!(
            target: "foxreach_webhooks::inbox",
            "Redis has `no-appendfsync-on-rewrite yes`: during an append-only file rewrite it does not fsync, \
             so replies come before the fsync (`always`) or WAITAOF rounds time out and appends get 503 (`everysec`)",
        );
    }
    if setting("maxmemory-policy").as_deref().is_some_and(|policy| policy != "noeviction") {
        tracing::warn!(
            target: "foxreach_webhooks::inbox",
            "Redis's maxmemory-policy is not `noeviction`: at its memory limit it may evict kept deliveries",
        );
    }
    durability
}

/// How long one round waits for the fsync: `everysec` fsyncs about once a
/// second, and an append may wait for the round in flight and then its
/// own, within FoxReach's 5 seconds.
const ROUND_TIMEOUT: Duration = Duration::from_millis(1_800);

type Waiter = oneshot::Sender<Result<(), Arc<str>>>;

/// Appends that wait for the disk, served in rounds on a connection of
/// their own: `WAITAOF` blocks the connection it is sent on until the next
/// fsync, so one per append on the shared connection would let one append
/// through per fsync, and it covers only its own connection's writes.
#[derive(Clone, Debug)]
pub(super) struct DiskWaits {
    waiters: mpsc::UnboundedSender<Waiter>,
}

impl DiskWaits {
    /// Starts the rounds on `connection` (for this alone).
    pub(super) fn start(connection: ConnectionManager) -> Self {
        let (waiters, incoming) = mpsc::unbounded_channel();
        tokio::spawn(rounds(connection, incoming));
        Self { waiters }
    }

    /// Waits until everything written before this call is in Redis's
    /// append-only file on disk.
    pub(super) async fn wait(&self) -> Result<(), InboxError> {
        let (waiter, done) = oneshot::channel();
        self.waiters.send(waiter).map_err(|_| stopped())?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(InboxError::new(error.to_string())),
            Err(_) => Err(stopped()),
        }
    }
}

fn stopped() -> InboxError {
    InboxError::new("the inbox's WAITAOF rounds stopped")
}

/// The counter each round increments (whatever the inbox's prefix).
const MARKER: &str = "foxreach:inbox:synced";

/// Serves waiters until every [`DiskWaits`] is dropped: each round takes
/// everyone waiting, writes [`MARKER`] and waits for its fsync: `WAITAOF`
/// waits for its own connection's last write, and the file is written in
/// order, so the marker on disk means the waiters' writes, made on other
/// connections before they asked, are too.
async fn rounds(mut connection: ConnectionManager, mut incoming: mpsc::UnboundedReceiver<Waiter>) {
    while let Some(first) = incoming.recv().await {
        let mut waiting = vec![first];
        while let Ok(more) = incoming.try_recv() {
            waiting.push(more);
        }
        let outcome = round(&mut connection).await.map_err(Arc::<str>::from);
        for waiter in waiting {
            // A waiter that went away no longer needs its answer.
            let _ = waiter.send(outcome.clone());
        }
    }
}

async fn round(connection: &mut ConnectionManager) -> Result<(), String> {
    let timeout = u64::try_from(ROUND_TIMEOUT.as_millis()).unwrap_or(u64::MAX);
    let (_, (local, _replicas)): (i64, (u64, u64)) = redis::pipe()
        .cmd("INCR")
        .arg(MARKER)
        .cmd("WAITAOF")
        .arg(1)
        .arg(0)
        .arg(timeout)
        .query_async(connection)
        .await
        .map_err(|error| error.to_string())?;
    if local < 1 {
        return Err(format!("Redis did not fsync its append-only file within {} ms", ROUND_TIMEOUT.as_millis()));
    }
    Ok(())
}
