//! The SQLite inbox on a bad day: a lock held by another process, files
//! deleted or replaced under it, a write-ahead log that must give its space
//! back, and the bound on open entries. Each is refused early and honestly
//! (`InboxError`, which the receivers answer `503` with `Retry-After`), and
//! `ready` tells the truth about it.
#![cfg(feature = "sqlite")]

use foxreach_test_support::folder;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use folder::Folder;
use foxreach_inbox::{Appended, Inbox, NewEntry, Settle, SqliteInbox};
use foxreach_webhooks::delivery::DeliveryKey;

const LEAD: &[u8] = br#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_1"}}"#;

fn entry(n: u8) -> NewEntry {
    NewEntry::new(DeliveryKey::new([n; 32]), Bytes::from_static(LEAD), SystemTime::now())
}

fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[tokio::test]
async fn a_lock_held_elsewhere_is_refused_within_about_two_seconds_and_reported_not_ready() {
    let folder = Folder::new("hardening-locked");
    let path = folder.0.join("inbox.sqlite3");
    let inbox = SqliteInbox::open(&path).expect("opens");
    inbox.append(entry(1)).await.expect("appends");
    inbox.ready().await.expect("ready while nobody holds the lock");

    // What `sqlite3 FILE 'BEGIN EXCLUSIVE;'` does, held until dropped.
    let other = rusqlite::Connection::open(&path).expect("a second connection");
    other.execute_batch("BEGIN EXCLUSIVE").expect("the other process takes the lock");
    let started = Instant::now();
    let refused = inbox.append(entry(2)).await.expect_err("locked");
    let waited = started.elapsed();
    assert!(refused.to_string().contains("locked"), "{refused}");
    // Well before FoxReach's 5 s, which the old 5 s lock wait raced.
    assert!(waited < Duration::from_millis(2_500), "refused after {waited:?}");
    assert!(!refused.is_full());
    inbox.ready().await.expect_err("not ready while locked");

    other.execute_batch("ROLLBACK").expect("the lock is released");
    inbox.ready().await.expect("ready again");
    assert!(matches!(inbox.append(entry(2)).await.expect("appends again"), Appended::New(_)));
}

#[tokio::test]
async fn an_append_waits_at_most_two_seconds_for_its_commit_whatever_the_lock_wait() {
    let folder = Folder::new("hardening-budget");
    let path = folder.0.join("inbox.sqlite3");
    drop(SqliteInbox::open(&path).expect("creates"));
    // The command-line tool's inbox waits 5 s for a lock: the 2 s budget answers first.
    let tool = SqliteInbox::open_existing(&path).expect("opens");
    let other = rusqlite::Connection::open(&path).expect("a second connection");
    other.execute_batch("BEGIN EXCLUSIVE").expect("the other process takes the lock");
    let started = Instant::now();
    let refused = tool.append(entry(1)).await.expect_err("not confirmed in time");
    let waited = started.elapsed();
    assert!(refused.to_string().contains("did not confirm the write within 2 s"), "{refused}");
    assert!(waited >= Duration::from_secs(2) && waited < Duration::from_secs(4), "refused after {waited:?}");
    other.execute_batch("ROLLBACK").expect("the lock is released");
}

#[tokio::test]
async fn an_inbox_file_deleted_or_replaced_under_the_receiver_refuses_appends() {
    for what in ["the database", "its -wal and -shm", "a replacement"] {
        let folder = Folder::new(&format!("hardening-{}", what.replace(' ', "-")));
        let path = folder.0.join("inbox.sqlite3");
        let inbox = SqliteInbox::open(&path).expect("opens");
        let Appended::New(first) = inbox.append(entry(1)).await.expect("appends") else { panic!("new") };
        inbox.ready().await.expect("ready");
        match what {
            "the database" => std::fs::remove_file(&path).expect("deleted"),
            "its -wal and -shm" => {
                std::fs::remove_file(companion(&path, "-wal")).expect("deleted");
                std::fs::remove_file(companion(&path, "-shm")).expect("deleted");
            }
            _ => {
                std::fs::write(folder.0.join("other"), b"").expect("written");
                std::fs::rename(folder.0.join("other"), &path).expect("replaced");
            }
        }
        let refused = inbox.append(entry(2)).await.expect_err(what);
        assert!(refused.to_string().contains("restart the receiver"), "{what}: {refused}");
        inbox.ready().await.expect_err(what);
        // The workers of this process go on with what the old file holds.
        let taken = inbox.take(10, Duration::from_secs(30)).await.expect("takes");
        assert_eq!(taken.iter().map(|taken| taken.id).collect::<Vec<_>>(), vec![first], "{what}");
        inbox.settle(vec![(first, taken[0].attempt, Settle::Done)]).await.expect("settles");
    }
}

#[tokio::test]
async fn the_write_ahead_log_is_emptied_once_writes_stop() {
    let folder = Folder::new("hardening-wal");
    let path = folder.0.join("inbox.sqlite3");
    let inbox = SqliteInbox::open(&path).expect("opens");
    for n in 0..200 {
        inbox.append(entry(n)).await.expect("appends");
    }
    let wal = companion(&path, "-wal");
    let size = || std::fs::metadata(&wal).map(|metadata| metadata.len()).expect("the log exists while open");
    assert!(size() > 0, "the appends went through the log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while size() > 0 {
        assert!(Instant::now() < deadline, "the log still holds {} bytes", size());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Emptied, not lost.
    drop(inbox);
    let reopened = SqliteInbox::open(&path).expect("opens again");
    assert_eq!(reopened.stats().await.expect("counts").pending, 200);
}

#[tokio::test]
async fn past_the_bound_on_open_entries_appends_are_refused_as_full_and_duplicates_still_recognized() {
    let inbox = SqliteInbox::in_memory().expect("opens").max_open_entries(3);
    let mut ids = Vec::new();
    for n in 0..3 {
        let Appended::New(id) = inbox.append(entry(n)).await.expect("under the bound") else { panic!("new") };
        ids.push(id);
    }
    let full = inbox.append(entry(3)).await.expect_err("at the bound");
    assert!(full.is_full(), "{full}");
    assert!(full.to_string().contains("3 entries wait"), "{full}");
    assert!(inbox.ready().await.expect_err("full").is_full());
    assert_eq!(inbox.append(entry(0)).await.expect("a duplicate is no new entry"), Appended::Duplicate(ids[0]));

    // Once the workers catch up, the next count lets appends in again.
    let taken = inbox.take(10, Duration::from_secs(30)).await.expect("takes");
    inbox.settle(taken.iter().map(|taken| (taken.id, taken.attempt, Settle::Done)).collect()).await.expect("settles");
    let deadline = Instant::now() + Duration::from_secs(10);
    while inbox.append(entry(3)).await.is_err() {
        assert!(Instant::now() < deadline, "still refused after the backlog was processed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    inbox.ready().await.expect("ready again");
    // Without a bound, nothing is refused; a bound of 0 refuses everything.
    let unbounded = SqliteInbox::in_memory().expect("opens");
    for n in 0..10 {
        unbounded.append(entry(n)).await.expect("no bound");
    }
    let closed = SqliteInbox::in_memory().expect("opens").max_open_entries(0);
    assert!(closed.append(entry(0)).await.expect_err("a bound of 0").is_full());
}
