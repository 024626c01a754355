//! The contract of an inbox engine, written once against the `Inbox` trait
//! and run for every engine: SQLite (a file) and Redis (a server of the
//! test's own). A later engine adds one `Engine` and passes the same checks:
//! appends and duplicates across restarts, leases and their expiry, the
//! attempt that fences a settle, backoff, dead letters and their replay,
//! purge, stats and backlog, and workers taking concurrently.
#![cfg(all(feature = "sqlite", feature = "redis"))]

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use foxreach_inbox::{Appended, EntryId, Inbox, NewEntry, RedisInbox, Replay, Settle, SqliteInbox, State, Taken};
use foxreach_test_support::folder::Folder;
use foxreach_test_support::redis_server::RedisServer;
use foxreach_webhooks::delivery::DeliveryKey;

const BODY: &[u8] = br#"{"event":"lead.created","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_1"}}"#;

/// A long lease, for checks that must not see one end. The short waits
/// below are seconds, so that a loaded machine cannot make them flaky.
const LONG: Duration = Duration::from_secs(60);

/// An engine under test: a fresh inbox, and the same inbox opened again as
/// a restarted process would.
trait Engine {
    type Inbox: Inbox + Clone;

    async fn reopen(&self) -> Self::Inbox;
}

struct Sqlite(Folder);

impl Engine for Sqlite {
    type Inbox = SqliteInbox;

    async fn reopen(&self) -> SqliteInbox {
        SqliteInbox::open(self.0.file("inbox.sqlite3")).expect("opens the inbox file")
    }
}

struct Redis(RedisServer);

impl Engine for Redis {
    type Inbox = RedisInbox;

    async fn reopen(&self) -> RedisInbox {
        RedisInbox::connect(&self.0.url()).await.expect("redis-server is up")
    }
}

fn entry(n: u8) -> NewEntry {
    NewEntry::new(DeliveryKey::new([n; 32]), Bytes::from_static(BODY), SystemTime::now())
}

fn new_id(appended: Appended) -> EntryId {
    match appended {
        Appended::New(id) => id,
        Appended::Duplicate(id) => panic!("entry {id:?} was a duplicate"),
    }
}

fn ids(taken: &[Taken]) -> Vec<EntryId> {
    taken.iter().map(|taken| taken.id).collect()
}

/// Every check, in order, on one engine.
async fn conforms(engine: impl Engine) {
    appends_and_duplicates_survive_a_restart(&engine).await;
    a_lease_ends_and_only_the_latest_attempt_settles(&engine).await;
    a_retry_waits_for_its_time(&engine).await;
    dead_letters_keep_their_reason_until_replayed(&engine).await;
    purge_ends_duplicate_suppression(&engine).await;
    concurrent_workers_never_take_one_entry_twice(&engine).await;
}

async fn appends_and_duplicates_survive_a_restart(engine: &impl Engine) {
    let inbox = engine.reopen().await;
    let id = new_id(inbox.append(entry(1)).await.expect("appends"));
    assert_eq!(inbox.append(entry(1)).await.expect("appends"), Appended::Duplicate(id));
    drop(inbox);
    let restarted = engine.reopen().await;
    assert_eq!(restarted.append(entry(1)).await.expect("appends"), Appended::Duplicate(id));
    let stats = restarted.stats().await.expect("stats");
    assert_eq!((stats.pending, stats.taken, stats.done, stats.dead), (1, 0, 0, 0));
    let backlog = restarted.backlog().await.expect("a backlog");
    assert_eq!((backlog.pending, backlog.taken, backlog.dead), (1, 0, 0));
    restarted.ready().await.expect("ready");
    let kept = restarted.entry(id).await.expect("reads").expect("kept");
    assert_eq!((kept.state, kept.body.as_deref()), (State::Pending, Some(BODY)));
    let taken = restarted.take(10, LONG).await.expect("takes");
    assert_eq!(ids(&taken), [id]);
    restarted.settle(vec![(id, taken[0].attempt, Settle::Done)]).await.expect("settles");
    assert_eq!(restarted.append(entry(1)).await.expect("appends"), Appended::Duplicate(id), "done is kept too");
}

async fn a_lease_ends_and_only_the_latest_attempt_settles(engine: &impl Engine) {
    let inbox = engine.reopen().await;
    let id = new_id(inbox.append(entry(2)).await.expect("appends"));
    // Every taker of one inbox uses one lease, as `Workers` do (the Redis
    // engine reclaims what has been held longer than the taker's lease).
    let lease = Duration::from_secs(2);
    let first = inbox.take(10, lease).await.expect("takes");
    assert_eq!((ids(&first), first[0].attempt), (vec![id], 1));
    assert!(inbox.take(10, lease).await.expect("takes").is_empty(), "held while its lease runs");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let second = inbox.take(10, lease).await.expect("takes");
    assert_eq!((ids(&second), second[0].attempt), (vec![id], 2), "taken again once the lease ended");
    // The first worker comes back late: its settle matches nothing.
    inbox.settle(vec![(id, 1, Settle::Done)]).await.expect("settles nothing");
    assert_eq!(inbox.entry(id).await.expect("reads").expect("kept").state, State::Taken);
    inbox.renew(vec![(id, 2)], LONG).await.expect("renews");
    inbox.settle(vec![(id, 2, Settle::Done)]).await.expect("settles");
    assert_eq!(inbox.entry(id).await.expect("reads").expect("kept").state, State::Done);
}

async fn a_retry_waits_for_its_time(engine: &impl Engine) {
    let inbox = engine.reopen().await;
    let id = new_id(inbox.append(entry(3)).await.expect("appends"));
    let taken = inbox.take(10, LONG).await.expect("takes");
    let due = SystemTime::now() + Duration::from_secs(2);
    inbox
        .settle(vec![(id, taken[0].attempt, Settle::RetryAt(due, "the CRM was down".to_owned()))])
        .await
        .expect("settles");
    let pending = inbox.entry(id).await.expect("reads").expect("kept");
    assert_eq!((pending.state, pending.reason.as_deref()), (State::Pending, Some("the CRM was down")));
    assert!(inbox.take(10, LONG).await.expect("takes").is_empty(), "not due yet");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let again = inbox.take(10, LONG).await.expect("takes");
    assert_eq!((ids(&again), again[0].try_number), (vec![id], 2));
    inbox.settle(vec![(id, again[0].attempt, Settle::Done)]).await.expect("settles");
}

async fn dead_letters_keep_their_reason_until_replayed(engine: &impl Engine) {
    let inbox = engine.reopen().await;
    let mut dead = Vec::new();
    for n in [4, 5] {
        let id = new_id(inbox.append(entry(n)).await.expect("appends"));
        let taken = inbox.take(10, LONG).await.expect("takes");
        inbox.settle(vec![(id, taken[0].attempt, Settle::Dead("not an event".to_owned()))]).await.expect("settles");
        dead.push(id);
    }
    let listed = inbox.list(Some(State::Dead), None, 10).await.expect("lists");
    assert_eq!(listed.iter().map(|entry| entry.id).collect::<Vec<_>>(), dead);
    assert!(listed.iter().all(|entry| entry.reason.as_deref() == Some("not an event")));
    assert_eq!(inbox.backlog().await.expect("a backlog").dead, 2);
    assert_eq!(inbox.replay(Replay::Entry(dead[0])).await.expect("replays"), 1);
    assert_eq!(inbox.replay(Replay::Entry(dead[0])).await.expect("replays"), 0, "pending already");
    assert_eq!(inbox.replay(Replay::AllDead).await.expect("replays"), 1);
    let taken = inbox.take(10, LONG).await.expect("takes");
    assert_eq!(ids(&taken).into_iter().collect::<BTreeSet<_>>(), dead.iter().copied().collect());
    assert!(taken.iter().all(|taken| taken.try_number == 1), "a replay starts a new schedule");
    let settled = taken.iter().map(|taken| (taken.id, taken.attempt, Settle::Done)).collect();
    inbox.settle(settled).await.expect("settles");
}

async fn purge_ends_duplicate_suppression(engine: &impl Engine) {
    let inbox = engine.reopen().await;
    let before = inbox.stats().await.expect("stats");
    assert_eq!((before.pending, before.taken, before.dead), (0, 0, 0), "every earlier check settled its entries");
    let purged = inbox.purge(SystemTime::now() + Duration::from_secs(1)).await.expect("purges");
    assert_eq!(purged, before.done);
    assert_eq!(inbox.stats().await.expect("stats").done, 0);
    assert!(matches!(inbox.append(entry(1)).await.expect("appends"), Appended::New(_)), "its key is free again");
    let taken = inbox.take(10, LONG).await.expect("takes");
    inbox.settle(vec![(taken[0].id, taken[0].attempt, Settle::Done)]).await.expect("settles");
}

async fn concurrent_workers_never_take_one_entry_twice(engine: &impl Engine) {
    let one = engine.reopen().await;
    let other = engine.reopen().await;
    let mut appended = BTreeSet::new();
    for n in 100..160 {
        appended.insert(new_id(one.append(entry(n)).await.expect("appends")));
    }
    let (a, b) = tokio::join!(tokio::spawn(drain(one)), tokio::spawn(drain(other)));
    let (a, b) = (a.expect("a worker"), b.expect("a worker"));
    let both: BTreeSet<EntryId> = a.iter().chain(&b).copied().collect();
    assert_eq!(both.len(), a.len() + b.len(), "an entry was taken by both workers");
    assert_eq!(both, appended);
}

/// Takes three at a time until nothing is due, as a worker does.
async fn drain<I: Inbox>(inbox: I) -> Vec<EntryId> {
    let mut mine = Vec::new();
    loop {
        let taken = inbox.take(3, LONG).await.expect("takes");
        if taken.is_empty() {
            return mine;
        }
        mine.extend(ids(&taken));
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms() {
    conforms(Sqlite(Folder::new("inbox-conformance"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_conforms() {
    conforms(Redis(RedisServer::start())).await;
}
