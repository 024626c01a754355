//! The inbox's schema and statements.

use std::time::Duration;

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::{from_millis, millis};
use crate::{Backlog, Entry, EntryId, NewEntry, Replay, Settle, State, Stats, Taken};
use foxreach_webhooks::delivery::DeliveryKey;
use foxreach_webhooks::tenant::Tenant;

/// The schema this code writes, in `PRAGMA user_version`.
const VERSION: i64 = 3;

/// Duplicates are found through an index of the key's first 8 bytes, not of
/// the whole key, and the row's key decides: keys are MACs, so each append
/// dirties a random page of that index, and with 8 bytes instead of 32 a
/// page holds about four times as many, and fewer of them go through the
/// WAL and its checkpoints (0.29x of a bare hyper server became 0.40x in one
/// run of both builds, see PERFORMANCE.md). Two keys sharing 8 bytes are
/// rare (one in 2^64 per pair) and cost one more row read.
/// `since` is when the entry's current schedule began (arrival, or its
/// last replay) and `base` its attempts then: the backoff counts from them.
/// `due_at` is when a pending entry is due, or when a taken one's lease ends.
/// The indexes are partial, so that a done or dead entry leaves the due
/// index and only done ones are in the purge's (their `WHERE` clauses are
/// written with the state codes below, as the queries must be for SQLite to
/// use them).
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS entries (
        id INTEGER PRIMARY KEY,
        key BLOB NOT NULL,
        body BLOB NOT NULL,
        event_type TEXT,
        timestamp TEXT,
        received_at INTEGER NOT NULL,
        state INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        since INTEGER NOT NULL,
        base INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        settled_at INTEGER,
        tenant TEXT
    );
    CREATE INDEX IF NOT EXISTS entries_key ON entries (substr(key, 1, 8));
    CREATE INDEX IF NOT EXISTS entries_due ON entries (due_at, id) WHERE state IN (0, 1);
    CREATE INDEX IF NOT EXISTS entries_settled ON entries (settled_at) WHERE state = 2;
    CREATE INDEX IF NOT EXISTS entries_dead ON entries (id) WHERE state = 3;
";

// The partial indexes' `WHERE` clauses repeat these codes.
const PENDING: i64 = 0;
const TAKEN: i64 = 1;
const DONE: i64 = 2;
const DEAD: i64 = 3;

fn code(state: State) -> i64 {
    match state {
        State::Pending => PENDING,
        State::Taken => TAKEN,
        State::Done => DONE,
        State::Dead => DEAD,
    }
}

fn state(code: i64) -> rusqlite::Result<State> {
    Ok(match code {
        PENDING => State::Pending,
        TAKEN => State::Taken,
        DONE => State::Done,
        DEAD => State::Dead,
        _ => return Err(rusqlite::Error::IntegralValueOutOfRange(0, code)),
    })
}

/// Sets up a connection: WAL, durable commits, a wait of `lock_wait` for
/// other processes' locks, and the schema if `create` and the file is empty
/// (refusing a file of another version, or another database).
pub(super) fn prepare(connection: &Connection, create: bool, lock_wait: Duration) -> rusqlite::Result<()> {
    connection.busy_timeout(lock_wait)?;
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let objects: i64 = connection.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |row| row.get(0))?;
    // Checked before anything is written: the file may be someone else's.
    match (version, objects) {
        (VERSION, _) => {}
        // Version 3 added the tenant: entries kept before have none. Only
        // the receiver upgrades (a newer CLI beside an older receiver must
        // not change the file under it).
        (2, _) if create => upgrade_from_2(connection)?,
        // The schema and its version in one transaction: a crash between
        // them would leave a file that is neither empty nor an inbox.
        (0, 0) if create => {
            connection.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {VERSION}; COMMIT;"))?;
        }
        _ => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(match version {
                0 => "not an inbox: the file is another database, or holds no inbox table".to_owned(),
                2 => format!(
                    "an inbox of schema version 2: start the receiver of this version on it once \
                     (SqliteInbox::open), which upgrades it to version {VERSION} in place"
                ),
                newer if newer > VERSION => format!(
                    "an inbox of schema version {newer}, which this version of foxreach-webhooks does not know (it \
                     reads schema version {VERSION}): run a receiver and a command-line tool of the version that \
                     wrote it"
                ),
                _ => format!("not an inbox of schema version {VERSION} (user_version {version})"),
            }),
        ))?,
    }
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    // Measured under .ci/load: random duplicate keys dirty a page of their
    // index each, and every checkpoint writes those pages again. Checkpoints
    // every 10,000 pages (the WAL grows to about 40 MB) instead of SQLite's
    // 1,000 took the receiver from 0.27x to 0.33x of a bare hyper server.
    // A 32 MB page cache did not help (truncating it took 5% of the writer).
    connection.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)?;
    // A log that grew past that (a long reader held checkpoints back) is cut
    // back to it when the next checkpoint resets it; the writer empties it
    // whenever it has held writes for a second and nothing waits (see
    // `checkpoint.rs`).
    let page_size: i64 = connection.pragma_query_value(None, "page_size", |row| row.get(0))?;
    connection.pragma_update(None, "journal_size_limit", CHECKPOINT_PAGES * page_size)?;
    // A first read in WAL mode makes the -wal and -shm files, which the
    // inbox then watches (see `identity.rs`).
    connection.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |row| row.get::<_, i64>(0)).map(drop)
}

/// How many pages the write-ahead log takes before a checkpoint.
const CHECKPOINT_PAGES: i64 = 10_000;

/// A write that changes nothing, for the readiness probe: it takes the write
/// lock and puts a page in the log, so that a lock held elsewhere or a full
/// disk shows up as it would for an append. It writes back the schema
/// version it reads, which may be a newer receiver's.
pub(super) fn probe(transaction: &Transaction<'_>) -> rusqlite::Result<()> {
    let version: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
    transaction.pragma_update(None, "user_version", version)
}

/// How many entries are open (pending or taken), through the partial due
/// index, which holds exactly them.
pub(super) fn open_entries(transaction: &Transaction<'_>) -> rusqlite::Result<u64> {
    let open: i64 = transaction
        .prepare_cached("SELECT COUNT(*) FROM entries WHERE state IN (0, 1)")?
        .query_row([], |row| row.get(0))?;
    Ok(u64::try_from(open).unwrap_or(0))
}

/// Adds version 3's tenant column and dead-letter index, unless another
/// process did while this one waited for the write lock. One-way: a
/// version 2 build refuses the file afterwards.
fn upgrade_from_2(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let upgraded = (|| {
        let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version == 2 {
            connection.execute_batch(&format!(
                "ALTER TABLE entries ADD COLUMN tenant TEXT;
                 CREATE INDEX entries_dead ON entries (id) WHERE state = 3;
                 PRAGMA user_version = {VERSION};"
            ))?;
        }
        connection.execute_batch("COMMIT")
    })();
    if upgraded.is_err() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    upgraded
}

fn key(row: &Row<'_>, column: usize) -> rusqlite::Result<DeliveryKey> {
    let key: Vec<u8> = row.get(column)?;
    let key = <[u8; 32]>::try_from(key.as_slice())
        .map_err(|_| rusqlite::Error::InvalidColumnType(column, "key".to_owned(), rusqlite::types::Type::Blob))?;
    Ok(DeliveryKey::new(key))
}

/// The entry kept under `key`, in any state, if there is one.
pub(super) fn duplicate(transaction: &Transaction<'_>, key: &DeliveryKey) -> rusqlite::Result<Option<EntryId>> {
    let key = key.as_bytes().as_slice();
    let mut alike =
        transaction.prepare_cached("SELECT id, key FROM entries WHERE substr(key, 1, 8) = substr(?1, 1, 8)")?;
    let mut rows = alike.query(params![key])?;
    while let Some(row) = rows.next()? {
        if row.get_ref(1)?.as_blob()? == key {
            return Ok(Some(EntryId(row.get(0)?)));
        }
    }
    Ok(None)
}

/// Adds `entry`, pending and due now (its key is not kept: see [`duplicate`]).
pub(super) fn insert(transaction: &Transaction<'_>, entry: &NewEntry) -> rusqlite::Result<EntryId> {
    let key = entry.key.as_bytes().as_slice();
    let id = transaction
        .prepare_cached(
            "INSERT INTO entries (key, body, event_type, timestamp, received_at, state, due_at, since, tenant)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?5, ?7) RETURNING id",
        )?
        .query_row(
            params![
                key,
                &entry.body[..],
                entry.event_type,
                entry.timestamp,
                millis(entry.received_at),
                PENDING,
                entry.tenant.as_ref().map(Tenant::as_str)
            ],
            |row| row.get(0),
        )?;
    Ok(EntryId(id))
}

pub(super) fn take(
    transaction: &Transaction<'_>,
    max: usize,
    lease_end: i64,
    now: i64,
) -> rusqlite::Result<Vec<Taken>> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let mut statement = transaction.prepare_cached(
        "UPDATE entries SET state = ?1, due_at = ?2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM entries WHERE state IN (0, 1) AND due_at <= ?3 ORDER BY due_at, id LIMIT ?4)
         RETURNING id, attempts, attempts - base, since, key, body, received_at, tenant",
    )?;
    let rows = statement.query_map(params![TAKEN, lease_end, now, max], |row| {
        Ok(Taken {
            id: EntryId(row.get(0)?),
            attempt: row.get(1)?,
            try_number: row.get(2)?,
            scheduled_since: from_millis(row.get(3)?),
            key: key(row, 4)?,
            body: Bytes::from(row.get::<_, Vec<u8>>(5)?),
            received_at: from_millis(row.get(6)?),
            tenant: tenant(row, 7)?,
        })
    })?;
    let mut taken = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    // RETURNING gives rows in no promised order.
    taken.sort_by_key(|entry| entry.id);
    Ok(taken)
}

pub(super) fn renew(transaction: &Transaction<'_>, held: &[(EntryId, u32)], lease_end: i64) -> rusqlite::Result<()> {
    let mut statement =
        transaction.prepare_cached("UPDATE entries SET due_at = ?1 WHERE id = ?2 AND state = ?3 AND attempts = ?4")?;
    for &(id, attempt) in held {
        statement.execute(params![lease_end, id.0, TAKEN, attempt])?;
    }
    Ok(())
}

pub(super) fn settle(
    transaction: &Transaction<'_>,
    settled: Vec<(EntryId, u32, Settle)>,
    now: i64,
) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(
        "UPDATE entries SET state = ?1, due_at = ?2, reason = ?3, settled_at = ?4
         WHERE id = ?5 AND state = ?6 AND attempts = ?7",
    )?;
    for (id, attempt, how) in settled {
        let (state, due_at, reason, settled_at) = match how {
            Settle::Done => (DONE, now, None, Some(now)),
            Settle::RetryAt(at, reason) => (PENDING, millis(at), Some(reason), None),
            Settle::Dead(reason) => (DEAD, now, Some(reason), Some(now)),
        };
        statement.execute(params![state, due_at, reason, settled_at, id.0, TAKEN, attempt])?;
    }
    Ok(())
}

pub(super) fn stats(transaction: &Transaction<'_>) -> rusqlite::Result<Stats> {
    let mut stats = Stats::default();
    let mut statement = transaction.prepare_cached("SELECT state, COUNT(*) FROM entries GROUP BY state")?;
    let rows = statement.query_map([], |row| Ok((state(row.get(0)?)?, row.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, count) = row?;
        let count = u64::try_from(count).unwrap_or(0);
        match state {
            State::Pending => stats.pending = count,
            State::Taken => stats.taken = count,
            State::Done => stats.done = count,
            State::Dead => stats.dead = count,
        }
    }
    Ok(stats)
}

/// Open entries through the partial due index, which holds exactly them,
/// and dead letters through their own: never a scan of done entries.
pub(super) fn backlog(transaction: &Transaction<'_>) -> rusqlite::Result<Backlog> {
    let mut backlog = Backlog::default();
    let mut statement = transaction
        .prepare_cached("SELECT state, COUNT(*), min(since) FROM entries WHERE state IN (0, 1) GROUP BY state")?;
    let rows =
        statement.query_map([], |row| Ok((state(row.get(0)?)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)))?;
    for row in rows {
        let (state, count, since) = row?;
        let count = u64::try_from(count).unwrap_or(0);
        match state {
            State::Pending => backlog.pending = count,
            _ => backlog.taken = count,
        }
        backlog.oldest_open =
            Some(backlog.oldest_open.map_or(from_millis(since), |oldest| oldest.min(from_millis(since))));
    }
    let dead: i64 =
        transaction.prepare_cached("SELECT COUNT(*) FROM entries WHERE state = 3")?.query_row([], |row| row.get(0))?;
    backlog.dead = u64::try_from(dead).unwrap_or(0);
    Ok(backlog)
}

/// A stored tenant name (this code wrote it, from a valid [`Tenant`]).
fn tenant(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<Tenant>> {
    Ok(row.get_ref(column)?.as_str_or_null()?.map(Tenant::stored))
}

/// The columns [`entry_from`] reads, then the body (or NULL).
const COLUMNS: &str =
    "id, state, key, event_type, timestamp, received_at, attempts, due_at, reason, settled_at, length(body), tenant";

fn entry_from(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let state = state(row.get(1)?)?;
    let settled_at: Option<i64> = row.get(9)?;
    Ok(Entry {
        id: EntryId(row.get(0)?),
        state,
        key: key(row, 2)?,
        event_type: row.get(3)?,
        timestamp: row.get(4)?,
        received_at: from_millis(row.get(5)?),
        attempts: row.get(6)?,
        due_at: matches!(state, State::Pending | State::Taken).then(|| row.get(7).map(from_millis)).transpose()?,
        reason: row.get(8)?,
        settled_at: settled_at.map(from_millis),
        size: row.get::<_, i64>(10)?.try_into().unwrap_or(0),
        tenant: tenant(row, 11)?,
        body: row.get::<_, Option<Vec<u8>>>(12)?.map(Bytes::from),
    })
}

pub(super) fn list(
    transaction: &Transaction<'_>,
    state: Option<State>,
    after: Option<EntryId>,
    limit: usize,
) -> rusqlite::Result<Vec<Entry>> {
    let mut statement = transaction.prepare_cached(&format!(
        "SELECT {COLUMNS}, NULL FROM entries WHERE (?1 IS NULL OR state = ?1) AND id > ?2 ORDER BY id LIMIT ?3"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![state.map(code), after.map_or(0, |id| id.0), limit], entry_from)?;
    rows.collect()
}

pub(super) fn entry(transaction: &Transaction<'_>, id: EntryId) -> rusqlite::Result<Option<Entry>> {
    transaction
        .prepare_cached(&format!("SELECT {COLUMNS}, body FROM entries WHERE id = ?1"))?
        .query_row(params![id.0], entry_from)
        .optional()
}

pub(super) fn replay(transaction: &Transaction<'_>, which: Replay, now: i64) -> rusqlite::Result<u64> {
    let again = "UPDATE entries SET state = ?1, due_at = ?2, since = ?2, base = attempts, settled_at = NULL";
    let changed = match which {
        Replay::Entry(id) => transaction
            .prepare_cached(&format!("{again} WHERE id = ?3 AND state IN (?4, ?5)"))?
            .execute(params![PENDING, now, id.0, DONE, DEAD])?,
        Replay::AllDead => {
            transaction.prepare_cached(&format!("{again} WHERE state = ?3"))?.execute(params![PENDING, now, DEAD])?
        }
    };
    Ok(u64::try_from(changed).unwrap_or(0))
}

pub(super) fn purge(transaction: &Transaction<'_>, before: i64) -> rusqlite::Result<u64> {
    let deleted = transaction
        .prepare_cached("DELETE FROM entries WHERE state = 2 AND settled_at < ?1")?
        .execute(params![before])?;
    Ok(u64::try_from(deleted).unwrap_or(0))
}
