//! The inbox on Redis Streams, for receivers and workers on several
//! machines: each state change is one Lua script (see `scripts.rs` for the
//! keys), so that copies of one delivery at two receivers make one entry
//! and an entry is held by one worker at a time.

mod connect;
mod durability;
mod rows;
mod scripts;

use durability::DiskWaits;
pub use durability::Durability;
use rows::{TakenRow, entry_from, entry_with_body, from_millis, millis, number, optional, taken_from};

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use redis::aio::ConnectionManager;
use redis::{Script, ScriptInvocation, Value};

use super::{Appended, Backlog, Entry, EntryId, Inbox, InboxError, NewEntry, Replay, Settle, State, Stats, Taken};
use foxreach_webhooks::tenant::Tenant;

/// `script` after the layout check every script starts with.
fn checked(script: &str) -> Script {
    let source = format!("{}{script}", scripts::CHECK_LAYOUT);
    Script::new(&source.replace("LAYOUT_VERSION", &scripts::LAYOUT.to_string()))
}

static APPEND: LazyLock<Script> = LazyLock::new(|| checked(scripts::APPEND));
static TAKE: LazyLock<Script> = LazyLock::new(|| checked(scripts::TAKE));
static RENEW: LazyLock<Script> = LazyLock::new(|| checked(scripts::RENEW));
static SETTLE: LazyLock<Script> = LazyLock::new(|| checked(scripts::SETTLE));
static STATS: LazyLock<Script> = LazyLock::new(|| checked(scripts::STATS));
static LIST: LazyLock<Script> = LazyLock::new(|| checked(scripts::LIST));
static REPLAY: LazyLock<Script> = LazyLock::new(|| checked(scripts::REPLAY));
static PURGE: LazyLock<Script> = LazyLock::new(|| checked(scripts::PURGE));

/// The most entries one purge or replay script changes: Redis runs nothing
/// else meanwhile, so a step must stay short (a few milliseconds).
const STEP: u64 = 1_000;

/// The durable inbox in Redis Streams (feature `redis`, Redis 7.0 or
/// later, one server: not a cluster), shared by receivers and workers on
/// any number of machines. See [`Inbox`] for its states.
///
/// - **append** checks the duplicate key and adds the entry in one script:
///   of two receivers given copies at once, one adds it, the other answers
///   `200`.
/// - **durability.** A `202` should mean the entry survives a Redis crash:
///   run Redis with `appendonly yes` and `appendfsync always`, which
///   [`connect`](Self::connect) checks, warning otherwise. With
///   `appendfsync everysec` on a server that has `WAITAOF` (Redis 7.2 or
///   later, Valkey), appends wait for the next fsync instead, in rounds on
///   a connection of their own (see [`Durability`]). Without either, a
///   Redis crash can lose the last second of answered deliveries
///   (`everysec`), or everything since the last snapshot (no AOF).
///   [`durability`](Self::durability) says which applies.
/// - **workers** share the consumer group `workers` of the stream
///   `<prefix>s`: new entries are read with `XREADGROUP`, entries whose
///   worker went quiet for a lease are claimed with `XAUTOCLAIM` (so every
///   [`Workers`](super::Workers) of one prefix must use one lease),
///   retries wait in a sorted set until due. Attempts are counted in the
///   entry, and renewals and settlements are fenced by them. A group that
///   went away with the rest (a `FLUSHALL`, a restore) is made again; one
///   destroyed alone (`XGROUP DESTROY`) while entries are taken can let an
///   entry being handled be taken a second time: leave the group to this
///   crate.
/// - **dead letters** stay in the entry (for `list --dead` and `replay`),
///   and the stream `<prefix>d` holds one message per dead letter (its
///   number, reason and attempts) until it is replayed.
/// - **retention.** A done entry and its duplicate key expire after the
///   retention ([`DEFAULT_RETENTION`](super::DEFAULT_RETENTION), 7 days), which Redis applies even
///   with no worker running. [`purge`](Inbox::purge) (which
///   [`Workers`](super::Workers) call every 10 minutes with their own
///   retention: the shorter of the two wins) drops them early, a thousand
///   per script, trims the stream of messages every worker has
///   acknowledged, and deletes consumers left by processes gone a day ago.
/// - **timeouts.** Every command times out after a second (the connection
///   is re-established after a failure): an unreachable or stuck Redis
///   makes `append` fail, and the receiver answers `503` well within
///   FoxReach's five seconds. A `WAITAOF` round waits at most 1.8 s, and an
///   append at most two rounds.
///
/// Cloning shares the connection and the consumer name.
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub struct RedisInbox {
    connection: ConnectionManager,
    prefix: String,
    consumer: String,
    retention: Duration,
    /// What a reply means for the disk, read at connect.
    durability: Durability,
    /// Where appends wait for the disk, with [`Durability::WaitAof`].
    disk: Option<DiskWaits>,
    /// Wakes this process's workers when it appends.
    appended: std::sync::Arc<tokio::sync::Notify>,
    /// The bound on open entries, if any.
    max_open: Option<u64>,
}

impl std::fmt::Debug for RedisInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the connection: its address may hold a password.
        f.debug_struct("RedisInbox")
            .field("prefix", &self.prefix)
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl RedisInbox {
    /// What a `202` means for Redis's disk, from the server's settings
    /// when this inbox connected.
    #[must_use]
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// The prefix of the inbox's keys (`foxreach:inbox:` by default): one
    /// inbox per prefix, to share a Redis with other data or webhooks.
    /// Nothing is written under the default one: the stream and its group
    /// are made by the first append or take.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long done entries (and their duplicate keys) are kept
    /// ([`DEFAULT_RETENTION`](super::DEFAULT_RETENTION), 7 days): keep it longer than FoxReach's
    /// retries (36 minutes).
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Refuses appends while `max` entries or more are open (pending or
    /// taken, across every receiver sharing the inbox, counted in the
    /// append's script from the counts the `inbox_entries` gauge reports):
    /// deliveries past it are answered `503` with `Retry-After`
    /// ([`Outcome::InboxFull`](foxreach_webhooks::delivery::Outcome::InboxFull)), so that
    /// FoxReach keeps them and retries while the workers catch up, and
    /// [`ready`](Inbox::ready) fails; 0 refuses every delivery. Off by
    /// default. FoxReach stops retrying 36 minutes after a first failure:
    /// set it where the workers catch up well within that.
    #[must_use]
    pub fn max_open_entries(mut self, max: u64) -> Self {
        self.max_open = Some(max);
        self
    }

    /// An invocation of `script` (by its SHA, loaded on first use), its
    /// first argument the prefix.
    fn script(&self, script: &'static LazyLock<Script>) -> ScriptInvocation<'static> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(&self.prefix);
        invocation
    }

    /// [`Stats`] and [`Backlog`], from one script.
    async fn counts(&self) -> Result<(Stats, Backlog), InboxError> {
        let mut connection = self.connection.clone();
        let kept_since = SystemTime::now().checked_sub(self.retention).map_or(0, millis);
        let (pending, taken, done, dead, oldest): (u64, u64, u64, u64, i64) =
            self.script(&STATS).arg(kept_since).invoke_async(&mut connection).await.map_err(InboxError::new)?;
        let mut stats = Stats::default();
        (stats.pending, stats.taken, stats.done, stats.dead) = (pending, taken, done, dead);
        let mut backlog = Backlog::default();
        (backlog.pending, backlog.taken, backlog.dead) = (pending, taken, dead);
        backlog.oldest_open = u64::try_from(oldest).ok().map(from_millis);
        Ok((stats, backlog))
    }
}

impl Inbox for RedisInbox {
    async fn append(&self, entry: NewEntry) -> Result<Appended, InboxError> {
        let mut connection = self.connection.clone();
        let (new, id): (i64, i64) = self
            .script(&APPEND)
            .arg(entry.key.to_hex())
            .arg(&entry.body[..])
            .arg(millis(entry.received_at))
            .arg(optional(entry.event_type.as_deref()))
            .arg(optional(entry.timestamp.as_deref()))
            .arg(optional(entry.tenant.as_ref().map(Tenant::as_str)))
            .arg(self.max_open.map_or_else(String::new, |max| max.to_string()))
            .invoke_async(&mut connection)
            .await
            .map_err(InboxError::new)?;
        if new == 2 {
            return Err(InboxError::full(u64::try_from(id).unwrap_or(0), self.max_open.unwrap_or(0)));
        }
        let id = EntryId(id);
        // Also for a duplicate: the first copy, appended by another
        // receiver a moment ago, may not be on disk yet.
        if let Some(disk) = &self.disk {
            disk.wait().await?;
        }
        if new == 1 {
            self.appended.notify_one();
            return Ok(Appended::New(id));
        }
        Ok(Appended::Duplicate(id))
    }

    async fn appended(&self) {
        self.appended.notified().await;
    }

    /// A write (a key `<prefix>ready` that expires after a minute), so that
    /// a Redis refusing writes (out of memory under `noeviction`, a failed
    /// snapshot with `stop-writes-on-bgsave-error`, a read-only replica)
    /// shows here as it would for an append; then the bound.
    async fn ready(&self) -> Result<(), InboxError> {
        let mut connection = self.connection.clone();
        let ((pending, taken),): ((Option<i64>, Option<i64>),) = redis::pipe()
            .cmd("SET")
            .arg(format!("{}ready", self.prefix))
            .arg(millis(SystemTime::now()))
            .arg("PX")
            .arg(60_000)
            .ignore()
            .cmd("HMGET")
            .arg(format!("{}n", self.prefix))
            .arg("pending")
            .arg("taken")
            .query_async(&mut connection)
            .await
            .map_err(InboxError::new)?;
        let open = u64::try_from(pending.unwrap_or(0).saturating_add(taken.unwrap_or(0))).unwrap_or(0);
        match self.max_open {
            Some(limit) if open >= limit => Err(InboxError::full(open, limit)),
            _ => Ok(()),
        }
    }

    async fn take(&self, max: usize, lease: Duration) -> Result<Vec<Taken>, InboxError> {
        // XAUTOCLAIM refuses a count of 0 (a worker with no free place).
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut connection = self.connection.clone();
        let rows: Vec<TakenRow> = self
            .script(&TAKE)
            .arg(&self.consumer)
            .arg(millis(SystemTime::now()))
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1))
            .arg(max)
            .invoke_async(&mut connection)
            .await
            .map_err(InboxError::new)?;
        rows.into_iter().map(taken_from).collect()
    }

    async fn renew(&self, held: Vec<(EntryId, u32)>, lease: Duration) -> Result<(), InboxError> {
        if held.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        let mut command = self.script(&RENEW);
        command
            .arg(&self.consumer)
            .arg(millis(SystemTime::now()))
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX));
        for (id, attempt) in held {
            command.arg(number(id)).arg(attempt);
        }
        command.invoke_async::<Value>(&mut connection).await.map(drop).map_err(InboxError::new)
    }

    async fn settle(&self, settled: Vec<(EntryId, u32, Settle)>) -> Result<(), InboxError> {
        if settled.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        let mut command = self.script(&SETTLE);
        command.arg(millis(SystemTime::now())).arg(u64::try_from(self.retention.as_millis()).unwrap_or(u64::MAX));
        let mut reasons = Vec::with_capacity(settled.len());
        for (id, attempt, how) in settled {
            command.arg(number(id)).arg(attempt);
            match how {
                Settle::Done => {
                    command.arg("done").arg(0);
                    reasons.push(String::new());
                }
                Settle::RetryAt(at, reason) => {
                    command.arg("retry").arg(millis(at));
                    reasons.push(reason);
                }
                Settle::Dead(reason) => {
                    command.arg("dead").arg(0);
                    reasons.push(reason);
                }
            }
        }
        command.arg(reasons);
        command.invoke_async::<Value>(&mut connection).await.map(drop).map_err(InboxError::new)
    }

    async fn stats(&self) -> Result<Stats, InboxError> {
        Ok(self.counts().await?.0)
    }

    async fn backlog(&self) -> Result<Backlog, InboxError> {
        Ok(self.counts().await?.1)
    }

    async fn list(&self, state: Option<State>, after: Option<EntryId>, limit: usize) -> Result<Vec<Entry>, InboxError> {
        let mut connection = self.connection.clone();
        let mut entries = Vec::new();
        let mut after = after.map_or_else(|| "0".to_owned(), number);
        while entries.len() < limit {
            let (last, finished, rows): (String, u8, Vec<Vec<String>>) = self
                .script(&LIST)
                .arg(&after)
                .arg(state.map_or("*", State::as_str))
                .arg(limit - entries.len())
                .invoke_async(&mut connection)
                .await
                .map_err(InboxError::new)?;
            for row in &rows {
                entries.push(entry_from(row, None)?);
            }
            if finished == 1 {
                break;
            }
            after = last;
        }
        Ok(entries)
    }

    async fn entry(&self, id: EntryId) -> Result<Option<Entry>, InboxError> {
        let mut connection = self.connection.clone();
        let fields: Vec<Vec<u8>> = redis::cmd("HGETALL")
            .arg(format!("{}e:{}", self.prefix, number(id)))
            .query_async(&mut connection)
            .await
            .map_err(InboxError::new)?;
        if fields.is_empty() {
            return Ok(None);
        }
        entry_with_body(id, &fields).map(Some)
    }

    async fn replay(&self, which: Replay) -> Result<u64, InboxError> {
        let mut connection = self.connection.clone();
        let now = millis(SystemTime::now());
        if let Replay::Entry(id) = which {
            let mut command = self.script(&REPLAY);
            command.arg(now).arg(number(id));
            return command.invoke_async(&mut connection).await.map_err(InboxError::new);
        }
        // Every dead letter, a step at a time as purge goes, each step from
        // where the last stopped: an entry replayed that dies again before
        // the next step is not replayed twice in one call.
        let (mut replayed, mut after) = (0, "0".to_owned());
        loop {
            let mut command = self.script(&REPLAY);
            command.arg(now).arg("*dead").arg(STEP).arg(&after);
            let (step, last, looked): (u64, String, u64) =
                command.invoke_async(&mut connection).await.map_err(InboxError::new)?;
            replayed += step;
            if looked < STEP {
                return Ok(replayed);
            }
            after = last;
        }
    }

    async fn purge(&self, done_before: SystemTime) -> Result<u64, InboxError> {
        let mut connection = self.connection.clone();
        let mut purged = 0;
        loop {
            let step: u64 = self
                .script(&PURGE)
                .arg(millis(done_before))
                .arg(STEP)
                .invoke_async(&mut connection)
                .await
                .map_err(InboxError::new)?;
            purged += step;
            if step < STEP {
                return Ok(purged);
            }
        }
    }
}
