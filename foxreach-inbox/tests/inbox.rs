//! Workers on the SQLite inbox: each way an attempt can end, leases renewed
//! under a slow handler, and stopping.
#![cfg(feature = "sqlite")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use foxreach_inbox::{
    Appended, Backoff, Entry, EntryId, Inbox, InboxError, NewEntry, Replay, Settle, SqliteInbox, State, Stats, Taken,
    Workers,
};
use foxreach_webhooks::delivery::{Delivery, DeliveryKey, Handled, Handler, HandlerError, ReplayWindow};
use foxreach_webhooks::event::LeadUpdated;

/// Fails as told for the first `failures` attempts, then succeeds; counts
/// attempts and successes.
#[derive(Default)]
struct Lead {
    how: &'static str,
    failures: usize,
    delay: Duration,
    attempts: AtomicUsize,
    done: AtomicUsize,
}

impl Handler for Lead {
    async fn lead_updated(&self, _: LeadUpdated, _: Delivery<'_>) -> Handled {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if attempt < self.failures {
            match self.how {
                "panic" => panic!("the handler's own bug"),
                "permanent" => return Err(HandlerError::permanent("lead refused")),
                _ => return Err(HandlerError::retryable("CRM down")),
            }
        }
        self.done.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

const LEAD: &[u8] = br#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_1"}}"#;

async fn inbox_with(bodies: &[&'static [u8]]) -> SqliteInbox {
    let inbox = SqliteInbox::in_memory().expect("opens");
    for (n, body) in bodies.iter().enumerate() {
        let key = DeliveryKey::new([u8::try_from(n).expect("few"); 32]);
        let appended = inbox.append(NewEntry::new(key, Bytes::from_static(body), SystemTime::now())).await;
        assert!(matches!(appended, Ok(Appended::New(_))));
    }
    inbox
}

/// (pending, taken, done, dead).
fn counts(stats: Stats) -> (u64, u64, u64, u64) {
    (stats.pending, stats.taken, stats.done, stats.dead)
}

/// Quick retries, for tests: 20 ms doubling to 40 ms, for half a second.
fn quick() -> Backoff {
    Backoff::new(Duration::from_millis(20), Duration::from_millis(40), Duration::from_millis(500))
}

/// Runs the workers until nothing is pending or taken.
async fn drain<H: Handler>(workers: &Workers<Arc<H>, SqliteInbox>) -> (u64, u64, u64, u64) {
    for _ in 0..500 {
        workers.run_once().await.expect("the inbox works");
        let stats = workers.inbox().stats().await.expect("counts");
        if stats.pending == 0 && stats.taken == 0 {
            return counts(stats);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still pending after 500 rounds");
}

#[tokio::test]
async fn each_way_an_attempt_ends() {
    for (how, failures, attempts, stats) in [
        ("retryable", 0, 1, (0, 0, 1, 0)),
        ("retryable", 2, 3, (0, 0, 1, 0)),
        ("panic", 1, 2, (0, 0, 1, 0)),
        ("permanent", 1, 1, (0, 0, 0, 1)),
        ("retryable", 1_000, 0, (0, 0, 0, 1)),
    ] {
        let lead = Arc::new(Lead { how, failures, ..Lead::default() });
        let workers = Workers::new(Arc::clone(&lead), inbox_with(&[LEAD]).await).backoff(quick());
        assert_eq!(drain(&workers).await, stats, "{how} x{failures}");
        if attempts > 0 {
            assert_eq!(lead.attempts.load(Ordering::SeqCst), attempts, "{how} x{failures}");
        } else {
            // Given up within the half second: more than a few, fewer than 30.
            assert!((3..30).contains(&lead.attempts.load(Ordering::SeqCst)), "{how} x{failures}");
        }
    }
}

#[tokio::test]
async fn what_cannot_be_handled_is_a_dead_letter_not_a_loss() {
    struct Nothing;
    impl Handler for Nothing {}
    let untyped: &[u8] = br#"{"event":"lead.updated","timestamp":"t","data":{}}"#;
    let workers = Workers::new(Arc::new(Nothing), inbox_with(&[b"{not json", untyped]).await);
    assert_eq!(drain(&workers).await, (0, 0, 0, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_keeps_its_lease_and_is_never_run_twice() {
    let lead = Arc::new(Lead { delay: Duration::from_millis(900), ..Lead::default() });
    let inbox = inbox_with(&[LEAD]).await;
    let first = Workers::new(Arc::clone(&lead), inbox.clone()).lease(Duration::from_millis(300));
    let second = Workers::new(Arc::clone(&lead), inbox.clone()).lease(Duration::from_millis(300));
    let slow = tokio::spawn(async move { first.run_once().await });
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(second.run_once().await.expect("works"), 0, "renewed, so not due");
    }
    assert_eq!(slow.await.expect("no panic").expect("works"), 1);
    assert_eq!((lead.attempts.load(Ordering::SeqCst), lead.done.load(Ordering::SeqCst)), (1, 1));
    assert_eq!(counts(inbox.stats().await.expect("counts")), (0, 0, 1, 0));
}

#[tokio::test]
async fn run_stops_when_asked_and_finishes_what_it_holds() {
    let lead = Arc::new(Lead { delay: Duration::from_millis(200), ..Lead::default() });
    let inbox = inbox_with(&[LEAD]).await;
    let workers = Workers::new(Arc::clone(&lead), inbox.clone());
    workers.run(tokio::time::sleep(Duration::from_millis(50)), Duration::from_secs(5)).await;
    assert_eq!(lead.done.load(Ordering::SeqCst), 1, "the running handler finished within the grace");
    assert_eq!(counts(inbox.stats().await.expect("counts")), (0, 0, 1, 0));
}

#[test]
fn the_default_backoff_outlasts_foxreachs_schedule() {
    let backoff = Backoff::DEFAULT;
    assert_eq!(backoff.delay(1), Duration::from_secs(5));
    assert_eq!(backoff.delay(9), Duration::from_secs(1280));
    assert_eq!(backoff.delay(10), Duration::from_secs(30 * 60));
    let arrived = SystemTime::UNIX_EPOCH;
    let (mut now, mut attempt) = (arrived, 1);
    while let Some(next) = backoff.next(attempt, arrived, now) {
        (now, attempt) = (next, attempt + 1);
    }
    let lasted = now.duration_since(arrived).expect("later");
    assert!(lasted > Duration::from_secs(23 * 60 * 60) && lasted <= Duration::from_secs(24 * 60 * 60), "{lasted:?}");
    assert!((50..60).contains(&attempt), "{attempt} attempts in a day");
}

#[tokio::test]
async fn a_handler_past_the_grace_is_left_taken_and_due_again_after_its_lease() {
    let lead = Arc::new(Lead { delay: Duration::from_secs(30), ..Lead::default() });
    let inbox = inbox_with(&[LEAD]).await;
    let workers = Workers::new(Arc::clone(&lead), inbox.clone()).lease(Duration::from_millis(300));
    workers.run(tokio::time::sleep(Duration::from_millis(50)), Duration::from_millis(50)).await;
    assert_eq!(counts(inbox.stats().await.expect("counts")), (0, 1, 0, 0), "still taken, not lost");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let quick = Arc::new(Lead::default());
    let next_start = Workers::new(Arc::clone(&quick), inbox.clone());
    assert_eq!(drain(&next_start).await, (0, 0, 1, 0), "the next start takes it once its lease ended");
    assert_eq!(quick.done.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn run_purges_done_entries_past_the_retention_and_no_others() {
    let inbox = inbox_with(&[LEAD]).await;
    let workers = Workers::new(Arc::new(Lead::default()), inbox.clone());
    assert_eq!(drain(&workers).await, (0, 0, 1, 0));
    let keeps = Workers::new(Arc::new(Lead::default()), inbox.clone());
    keeps.run(tokio::time::sleep(Duration::from_millis(20)), Duration::from_secs(1)).await;
    assert_eq!(counts(inbox.stats().await.expect("counts")), (0, 0, 1, 0), "within the default retention");
    tokio::time::sleep(Duration::from_millis(30)).await;
    let purges = Workers::new(Arc::new(Lead::default()), inbox.clone()).retention(Duration::from_millis(10));
    purges.run(tokio::time::sleep(Duration::from_millis(20)), Duration::from_secs(1)).await;
    assert_eq!(counts(inbox.stats().await.expect("counts")), (0, 0, 0, 0), "purged past a 10 ms retention");
    let again =
        inbox.append(NewEntry::new(DeliveryKey::new([0; 32]), Bytes::from_static(LEAD), SystemTime::now())).await;
    assert!(matches!(again, Ok(Appended::New(_))), "a purged delivery is no longer a duplicate");
}

/// A SQLite inbox whose renewals fail, as while its disk stalls: leases run
/// out under running handlers.
#[derive(Clone)]
struct NoRenewals(SqliteInbox);

impl Inbox for NoRenewals {
    async fn append(&self, entry: NewEntry) -> Result<Appended, InboxError> {
        self.0.append(entry).await
    }
    async fn take(&self, max: usize, lease: Duration) -> Result<Vec<Taken>, InboxError> {
        self.0.take(max, lease).await
    }
    async fn renew(&self, _: Vec<(EntryId, u32)>, _: Duration) -> Result<(), InboxError> {
        Err(InboxError::new("disk stalled"))
    }
    async fn settle(&self, settled: Vec<(EntryId, u32, Settle)>) -> Result<(), InboxError> {
        self.0.settle(settled).await
    }
    async fn stats(&self) -> Result<Stats, InboxError> {
        self.0.stats().await
    }
    async fn list(&self, state: Option<State>, after: Option<EntryId>, limit: usize) -> Result<Vec<Entry>, InboxError> {
        self.0.list(state, after, limit).await
    }
    async fn entry(&self, id: EntryId) -> Result<Option<Entry>, InboxError> {
        self.0.entry(id).await
    }
    async fn replay(&self, which: Replay) -> Result<u64, InboxError> {
        self.0.replay(which).await
    }
    async fn purge(&self, done_before: SystemTime) -> Result<u64, InboxError> {
        self.0.purge(done_before).await
    }
}

/// Counts the handlers running at once.
#[derive(Default)]
struct Overlap {
    running: AtomicUsize,
    most: AtomicUsize,
    calls: AtomicUsize,
}

impl Handler for Overlap {
    async fn lead_updated(&self, _: LeadUpdated, _: Delivery<'_>) -> Handled {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(900)).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_that_runs_out_under_a_running_handler_never_starts_a_second_one() {
    let overlap = Arc::new(Overlap::default());
    let inbox = NoRenewals(inbox_with(&[LEAD]).await);
    let workers = Workers::new(Arc::clone(&overlap), inbox.clone()).lease(Duration::from_millis(150));
    workers.run(tokio::time::sleep(Duration::from_millis(1_500)), Duration::from_secs(2)).await;
    assert_eq!(overlap.most.load(Ordering::SeqCst), 1, "never two at once");
    assert_eq!(overlap.calls.load(Ordering::SeqCst), 1, "and not run again once done");
    assert_eq!(counts(inbox.stats().await.expect("counts")), (0, 0, 1, 0), "settled under the newest attempt");
}

#[tokio::test]
async fn the_replay_window_judges_a_delivery_when_it_arrived_not_when_it_is_retried() {
    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).expect("formats");
    let body = format!(r#"{{"event":"lead.updated","timestamp":"{now}","data":{{"leadId":"cld_1"}}}}"#);
    let inbox = SqliteInbox::in_memory().expect("opens");
    let key = DeliveryKey::new([9; 32]);
    inbox.append(NewEntry::new(key, Bytes::from(body), SystemTime::now())).await.expect("appends");
    let lead = Arc::new(Lead { failures: 1, ..Lead::default() });
    let slow_retry = Backoff::new(Duration::from_millis(1_200), Duration::from_millis(1_200), Duration::from_secs(10));
    let workers = Workers::new(Arc::clone(&lead), inbox.clone())
        .backoff(slow_retry)
        .replay_window(ReplayWindow::new(Duration::from_secs(1)));
    assert_eq!(drain(&workers).await, (0, 0, 1, 0), "its retry, 1.2 s later, is not a replay");
    assert_eq!(lead.attempts.load(Ordering::SeqCst), 2);
}

#[test]
fn a_schedule_allows_a_bounded_number_of_tries() {
    assert_eq!(Backoff::DEFAULT.max_tries(), 56);
    let forever = Backoff::new(Duration::from_secs(1), Duration::from_secs(1), Duration::MAX);
    assert_eq!(forever.max_tries(), u32::MAX, "never gives up, and does not overflow");
    assert!(forever.next(1, SystemTime::now(), SystemTime::now()).is_some());
}
