//! The inbox on Redis Streams, for receivers and workers on several
//! machines: each state change is one Lua script (see `scripts.rs` for the
//! keys), so that copies of one delivery at two receivers make one entry
//! and an entry is held by one worker at a time.

mod scripts;

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script, ScriptInvocation, Value};

use super::worker::DEFAULT_RETENTION;
use super::{Appended, Entry, EntryId, Inbox, InboxError, NewEntry, Replay, Settle, State, Stats, Taken};
use crate::delivery::DeliveryKey;

static APPEND: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::APPEND));
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::TAKE));
static RENEW: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::RENEW));
static SETTLE: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::SETTLE));
static STATS: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::STATS));
static LIST: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::LIST));
static REPLAY: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::REPLAY));
static PURGE: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::PURGE));

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
///   `appendfsync everysec` on Redis 7.2 or later, each append waits for
///   `WAITAOF` instead (within 900 ms, else `503`; it holds up the other
///   commands of the connection meanwhile). Without either, a Redis crash
///   can lose the last second of answered deliveries (`everysec`), or
///   everything since the last snapshot (no AOF).
/// - **workers** share the consumer group `workers` of the stream
///   `<prefix>s`: new entries are read with `XREADGROUP`, entries whose
///   worker went quiet for a lease are claimed with `XAUTOCLAIM` (so every
///   [`Workers`](super::Workers) of one prefix must use one lease),
///   retries wait in a sorted set until due. Attempts are counted in the
///   entry, and renewals and settlements are fenced by them.
/// - **dead letters** stay in the entry (for `list --dead` and `replay`)
///   and are logged to the stream `<prefix>d` with reason and attempts.
/// - **retention.** A done entry and its duplicate key expire after the
///   retention ([`DEFAULT_RETENTION`], 7 days); [`purge`](Inbox::purge)
///   drops them early, and trims the stream of messages every worker has
///   acknowledged.
/// - **timeouts.** Every command times out after a second (the connection
///   is re-established after a failure): an unreachable or stuck Redis
///   makes `append` fail, and the receiver answers `503` well within
///   FoxReach's five seconds.
///
/// Cloning shares the connection and the consumer name.
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub struct RedisInbox {
    connection: ConnectionManager,
    prefix: String,
    consumer: String,
    retention: Duration,
    /// Whether to ask `WAITAOF` after each append (see the durability note).
    waitaof: bool,
    /// Wakes this process's workers when it appends.
    appended: std::sync::Arc<tokio::sync::Notify>,
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
    /// Connects to the Redis at `url` (`redis://[:password@]host:port/db`),
    /// with one-second timeouts, under the prefix `foxreach:inbox:`, creates
    /// the stream and its consumer group if they are missing, and checks
    /// the server's durability settings (above).
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the URL is invalid or Redis cannot be reached (the
    /// message never holds the URL, which may hold a password).
    pub async fn connect(url: &str) -> Result<Self, InboxError> {
        let mut inbox = Self::over(manager(url).await?);
        inbox.create_group().await?;
        inbox.waitaof = inbox.check_durability().await;
        Ok(inbox)
    }

    /// Connects to an inbox that exists already (its entry counter is
    /// there), creating nothing: for the command-line tool, so that a
    /// mistyped database number is an error, not a new empty inbox.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and if there is no inbox under the
    /// default prefix.
    pub async fn connect_existing(url: &str) -> Result<Self, InboxError> {
        let inbox = Self::over(manager(url).await?);
        let mut connection = inbox.connection.clone();
        let counter = format!("{}id", inbox.prefix);
        let exists: bool =
            redis::cmd("EXISTS").arg(&counter).query_async(&mut connection).await.map_err(InboxError::new)?;
        if !exists {
            return Err(InboxError::new(format!(
                "there is no inbox under the prefix {} in this database",
                inbox.prefix
            )));
        }
        Ok(inbox)
    }

    /// An inbox over `connection`, under the default prefix, with a
    /// consumer name of its own.
    fn over(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: "foxreach:inbox:".to_owned(),
            consumer: format!("{}-{}", std::process::id(), millis(SystemTime::now())),
            retention: DEFAULT_RETENTION,
            waitaof: false,
            appended: std::sync::Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Whether a reply means "on disk": with `WAITAOF` (7.2+) each append
    /// asks; before it, only `appendonly yes` with `appendfsync always`
    /// makes a reply mean that. Anything weaker is logged once, as a
    /// warning: a Redis crash could then lose deliveries already answered.
    async fn check_durability(&self) -> bool {
        let mut connection = self.connection.clone();
        let settings: Result<Vec<String>, _> =
            redis::cmd("CONFIG").arg("GET").arg("append*").query_async(&mut connection).await;
        let Ok(settings) = settings else {
            tracing::warn!(
                target: "foxreach_webhooks::inbox",
                "could not read Redis's appendonly and appendfsync settings (CONFIG GET refused?): \
                 make sure they are `yes` and `always`, or a Redis crash may lose deliveries already answered 202",
            );
            return false;
        };
        let setting =
            |name: &str| settings.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1)).cloned();
        let aof = setting("appendonly").as_deref() == Some("yes");
        let always = setting("appendfsync").as_deref() == Some("always");
        let waitaof: Result<Value, _> =
            redis::cmd("COMMAND").arg("INFO").arg("WAITAOF").query_async(&mut connection).await;
        let has_waitaof =
            matches!(waitaof, Ok(Value::Array(ref info)) if info.iter().any(|command| !matches!(command, Value::Nil)));
        // With `always` a reply already means fsynced; WAITAOF needs an AOF.
        let use_waitaof = aof && !always && has_waitaof;
        if !(aof && (always || use_waitaof)) {
            tracing::warn!(
                target: "foxreach_webhooks::inbox",
                "Redis is not set to `appendonly yes` with `appendfsync always` (and has no WAITAOF to make up \
                 for it): a Redis crash may lose deliveries already answered 202",
            );
        }
        let others: Result<Vec<String>, _> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("no-appendfsync-on-rewrite")
            .arg("maxmemory-policy")
            .query_async(&mut connection)
            .await;
        if let Ok(others) = others {
            let other =
                |name: &str| others.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1)).cloned();
            if other("no-appendfsync-on-rewrite").as_deref() == Some("yes") {
                tracing::warn!(
                    target: "foxreach_webhooks::inbox",
                    "Redis has `no-appendfsync-on-rewrite yes`: during a rewrite, replies come before the fsync",
                );
            }
            if other("maxmemory-policy").as_deref().is_some_and(|policy| policy != "noeviction") {
                tracing::warn!(
                    target: "foxreach_webhooks::inbox",
                    "Redis's maxmemory-policy is not `noeviction`: at its memory limit it may evict kept deliveries",
                );
            }
        }
        use_waitaof
    }

    /// Waits until the server's append-only file has everything this
    /// connection wrote, where the server can say (`WAITAOF`, 7.2+).
    async fn wait_for_disk(&self) -> Result<(), InboxError> {
        if !self.waitaof {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        let (local, _replicas): (u64, u64) =
            redis::cmd("WAITAOF").arg(1).arg(0).arg(900).query_async(&mut connection).await.map_err(InboxError::new)?;
        if local < 1 {
            return Err(InboxError::new("Redis did not write the delivery to its append-only file within 900 ms"));
        }
        Ok(())
    }

    /// The prefix of the inbox's keys (`foxreach:inbox:` by default): one
    /// inbox per prefix, to share a Redis with other data or webhooks.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the stream and group of the new prefix cannot be
    /// created.
    pub async fn prefix(mut self, prefix: impl Into<String>) -> Result<Self, InboxError> {
        self.prefix = prefix.into();
        self.create_group().await?;
        Ok(self)
    }

    /// How long done entries (and their duplicate keys) are kept
    /// ([`DEFAULT_RETENTION`], 7 days): keep it longer than FoxReach's
    /// retries (36 minutes).
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    async fn create_group(&self) -> Result<(), InboxError> {
        let mut connection = self.connection.clone();
        let created: Result<Value, _> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(format!("{}s", self.prefix))
            .arg("workers")
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            Err(error) => Err(InboxError::new(error)),
        }
    }

    /// An invocation of `script` (by its SHA, loaded on first use), its
    /// first argument the prefix.
    fn script(&self, script: &'static LazyLock<Script>) -> ScriptInvocation<'static> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(&self.prefix);
        invocation
    }
}

/// A connection to `url` with one-second timeouts, re-established after a
/// failure; its errors never hold the URL.
async fn manager(url: &str) -> Result<ConnectionManager, InboxError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(1)))
        .set_number_of_retries(2);
    let client = Client::open(url).map_err(InboxError::new)?;
    client.get_connection_manager_with_config(config).await.map_err(InboxError::new)
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

fn from_millis(at: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(at)
}

/// What the take script returns per entry: origin, attempt, try number,
/// since, key, body, received at.
type TakenRow = (String, u32, u32, u64, String, Vec<u8>, u64);

/// An entry's number, as the scripts return it.
fn entry_id(id: &str) -> Result<EntryId, InboxError> {
    id.parse().map(EntryId).map_err(|_| InboxError::new(format!("not an entry number: {id}")))
}

fn number(id: EntryId) -> String {
    id.0.to_string()
}

fn optional(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("={value}"))
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
            .invoke_async(&mut connection)
            .await
            .map_err(InboxError::new)?;
        let id = EntryId(id);
        // Also for a duplicate: the first copy's write may not be on disk yet.
        self.wait_for_disk().await?;
        if new == 1 {
            self.appended.notify_one();
            return Ok(Appended::New(id));
        }
        Ok(Appended::Duplicate(id))
    }

    async fn appended(&self) {
        self.appended.notified().await;
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
        rows.into_iter()
            .map(|(origin, attempt, try_number, since, key, body, received_at)| {
                let key = DeliveryKey::from_signature(&key)
                    .ok_or_else(|| InboxError::new("a stored key is not 64 hex digits"))?;
                Ok(Taken::new(
                    entry_id(&origin)?,
                    (attempt, try_number),
                    from_millis(since),
                    key,
                    Bytes::from(body),
                    from_millis(received_at),
                ))
            })
            .collect()
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
        let mut connection = self.connection.clone();
        let oldest = SystemTime::now().checked_sub(self.retention).map_or(0, millis);
        let (pending, taken, done, dead): (u64, u64, u64, u64) =
            self.script(&STATS).arg(oldest).invoke_async(&mut connection).await.map_err(InboxError::new)?;
        let mut stats = Stats::default();
        (stats.pending, stats.taken, stats.done, stats.dead) = (pending, taken, done, dead);
        Ok(stats)
    }

    async fn list(&self, state: Option<State>, after: Option<EntryId>, limit: usize) -> Result<Vec<Entry>, InboxError> {
        let mut connection = self.connection.clone();
        let rows: Vec<Vec<String>> = self
            .script(&LIST)
            .arg(after.map_or(0, |id| id.0))
            .arg(state.map_or("*", State::as_str))
            .arg(limit)
            .invoke_async(&mut connection)
            .await
            .map_err(InboxError::new)?;
        rows.iter().map(|row| entry_from(row, None)).collect()
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
        let mut row = vec![number(id)];
        let mut body = None;
        for pair in fields.chunks(2) {
            let [name, value] = pair else { continue };
            if name.as_slice() == b"body" {
                row.push("size".to_owned());
                row.push(value.len().to_string());
                body = Some(Bytes::copy_from_slice(value));
            } else {
                row.push(String::from_utf8_lossy(name).into_owned());
                row.push(String::from_utf8_lossy(value).into_owned());
            }
        }
        entry_from(&row, body).map(Some)
    }

    async fn replay(&self, which: Replay) -> Result<u64, InboxError> {
        let mut connection = self.connection.clone();
        let mut command = self.script(&REPLAY);
        command.arg(millis(SystemTime::now()));
        match which {
            Replay::Entry(id) => command.arg(number(id)),
            Replay::AllDead => command.arg("*dead"),
        };
        command.invoke_async(&mut connection).await.map_err(InboxError::new)
    }

    async fn purge(&self, done_before: SystemTime) -> Result<u64, InboxError> {
        let mut connection = self.connection.clone();
        self.script(&PURGE).arg(millis(done_before)).invoke_async(&mut connection).await.map_err(InboxError::new)
    }
}

/// An entry from its id and its hash's fields (the body's length as
/// `size`), as the list script returns it.
fn entry_from(row: &[String], body: Option<Bytes>) -> Result<Entry, InboxError> {
    let (id, fields) = row.split_first().ok_or_else(|| InboxError::new("an empty row"))?;
    let field =
        |name: &str| fields.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1)).map(String::as_str);
    let number = |name: &str| field(name).and_then(|value| value.parse::<u64>().ok());
    let state = match field("state") {
        Some("pending") => State::Pending,
        Some("taken") => State::Taken,
        Some("done") => State::Done,
        Some("dead") => State::Dead,
        _ => return Err(InboxError::new(format!("entry {id} has no known state"))),
    };
    let key = field("key")
        .and_then(DeliveryKey::from_signature)
        .ok_or_else(|| InboxError::new("a stored key is not 64 hex digits"))?;
    let text = |name: &str| field(name).and_then(|value| value.strip_prefix('=')).map(str::to_owned);
    Ok(Entry {
        id: entry_id(id)?,
        state,
        key,
        event_type: text("event_type"),
        timestamp: text("timestamp"),
        received_at: from_millis(number("received_at").unwrap_or(0)),
        attempts: u32::try_from(number("attempts").unwrap_or(0)).unwrap_or(u32::MAX),
        due_at: matches!(state, State::Pending | State::Taken).then(|| number("due_at").map(from_millis)).flatten(),
        reason: field("reason").map(str::to_owned),
        settled_at: number("settled_at").map(from_millis),
        size: usize::try_from(number("size").unwrap_or(0)).unwrap_or(0),
        body,
    })
}
