//! The SQLite inbox against its states, and against a plain model.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use foxreach_webhooks::delivery::DeliveryKey;

fn key(n: u8) -> DeliveryKey {
    DeliveryKey::new([n; 32])
}

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(millis)
}

fn entry(n: u8, arrived: u64) -> NewEntry {
    NewEntry::new(key(n), Bytes::from(vec![n; 3]), at(arrived))
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime").block_on(future)
}

#[test]
fn an_entry_goes_pending_taken_done_and_stays_a_duplicate() {
    block_on(async {
        let inbox = SqliteInbox::in_memory().expect("opens");
        let Appended::New(id) = inbox.append(entry(1, 0)).await.expect("appends") else { panic!("new") };
        assert_eq!(inbox.append(entry(1, 5)).await.expect("appends"), Appended::Duplicate(id));
        let taken = inbox.take_at(10, Duration::from_secs(30), at(10)).await.expect("takes");
        assert_eq!(taken.len(), 1);
        assert_eq!((taken[0].id, taken[0].attempt, taken[0].key, &taken[0].body[..]), (id, 1, key(1), &[1u8; 3][..]));
        assert!(inbox.take_at(10, Duration::from_secs(30), at(20)).await.expect("takes").is_empty(), "held");
        inbox.settle_at(vec![(id, 1, Settle::Done)], at(30)).await.expect("settles");
        assert_eq!(inbox.stats().await.expect("counts"), Stats { done: 1, ..Stats::default() });
        assert_eq!(inbox.append(entry(1, 40)).await.expect("appends"), Appended::Duplicate(id), "done is remembered");
    });
}

#[test]
fn keys_that_share_their_first_bytes_are_told_apart_by_the_rest() {
    block_on(async {
        let inbox = SqliteInbox::in_memory().expect("opens");
        let alike = |last: u8| {
            let mut bytes = [7; 32];
            bytes[31] = last;
            NewEntry::new(DeliveryKey::new(bytes), Bytes::from_static(b"{}"), at(0))
        };
        let Appended::New(first) = inbox.append(alike(1)).await.expect("appends") else { panic!("new") };
        let Appended::New(second) = inbox.append(alike(2)).await.expect("appends") else { panic!("new") };
        assert_ne!(first, second);
        assert_eq!(inbox.append(alike(2)).await.expect("appends"), Appended::Duplicate(second));
        assert_eq!(inbox.append(alike(1)).await.expect("appends"), Appended::Duplicate(first));
        assert_eq!(inbox.stats().await.expect("counts").pending, 2);
    });
}

#[test]
fn a_lease_that_ends_lets_another_worker_take_it_and_the_first_settles_nothing() {
    block_on(async {
        let inbox = SqliteInbox::in_memory().expect("opens");
        inbox.append(entry(1, 0)).await.expect("appends");
        let first = inbox.take_at(1, Duration::from_millis(100), at(0)).await.expect("takes");
        let second = inbox.take_at(1, Duration::from_millis(100), at(100)).await.expect("takes");
        assert_eq!((first[0].attempt, second[0].attempt), (1, 2));
        inbox.settle_at(vec![(first[0].id, 1, Settle::Done)], at(150)).await.expect("settles");
        assert_eq!(inbox.stats().await.expect("counts").taken, 1, "the first worker's settle came too late");
        inbox.renew_at(vec![(second[0].id, 2)], Duration::from_millis(100), at(150)).await.expect("renews");
        assert!(inbox.take_at(1, Duration::from_millis(100), at(220)).await.expect("takes").is_empty(), "renewed");
        inbox.settle_at(vec![(second[0].id, 2, Settle::Dead("refused".into()))], at(230)).await.expect("settles");
        assert_eq!(inbox.stats().await.expect("counts"), Stats { dead: 1, ..Stats::default() });
    });
}

#[test]
fn a_retry_is_due_at_its_time_and_counts_its_attempts() {
    block_on(async {
        let inbox = SqliteInbox::in_memory().expect("opens");
        inbox.append(entry(1, 0)).await.expect("appends");
        let taken = inbox.take_at(1, Duration::from_secs(30), at(0)).await.expect("takes");
        inbox
            .settle_at(vec![(taken[0].id, 1, Settle::RetryAt(at(5_000), "CRM down".into()))], at(10))
            .await
            .expect("settles");
        assert!(inbox.take_at(1, Duration::from_secs(30), at(4_999)).await.expect("takes").is_empty());
        let again = inbox.take_at(1, Duration::from_secs(30), at(5_000)).await.expect("takes");
        assert_eq!(again[0].attempt, 2);
    });
}

#[test]
fn a_file_inbox_keeps_its_entries_across_opens() {
    let folder = std::env::temp_dir().join(format!("foxreach-inbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let path = folder.join("inbox.sqlite3");
    block_on(async {
        let inbox = SqliteInbox::open(&path).expect("opens");
        assert!(matches!(inbox.append(entry(7, 0)).await, Ok(Appended::New(_))));
    });
    block_on(async {
        let inbox = SqliteInbox::open(&path).expect("opens again");
        assert!(matches!(inbox.append(entry(7, 1)).await, Ok(Appended::Duplicate(_))), "after a restart");
        assert_eq!(inbox.stats().await.expect("counts").pending, 1);
    });
    std::fs::remove_dir_all(&folder).expect("cleans up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_that_arrive_together_all_land() {
    let inbox = SqliteInbox::in_memory().expect("opens");
    let mut appends = tokio::task::JoinSet::new();
    for n in 0..=255u8 {
        let inbox = inbox.clone();
        appends.spawn(async move { inbox.append(entry(n, 0)).await });
    }
    let mut ids = Vec::new();
    while let Some(appended) = appends.join_next().await {
        let Ok(Appended::New(id)) = appended.expect("no panic") else { panic!("every key is new") };
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 256);
    assert_eq!(inbox.stats().await.expect("counts").pending, 256);
}

/// What the model says one entry is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending { due: u64 },
    Taken { lease_end: u64 },
    Done { settled: u64 },
    Dead,
}

#[derive(Debug, Clone)]
enum Step {
    Append(u8),
    Take(usize, u64),
    Settle(usize, u8),
    Replay(u8),
    ReplayAllDead,
    Purge(u64),
    Advance(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..6u8).prop_map(Step::Append),
        (1..4usize, 1..200u64).prop_map(|(max, lease)| Step::Take(max, lease)),
        (0..8usize, 0..3u8).prop_map(|(which, how)| Step::Settle(which, how)),
        (0..6u8).prop_map(Step::Replay),
        Just(Step::ReplayAllDead),
        (0..300u64).prop_map(Step::Purge),
        (0..150u64).prop_map(Step::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sequence of appends, takes (with leases that end), settles (on
    /// time or late) and waiting leaves the inbox where a plain model is.
    #[test]
    fn the_inbox_follows_its_model(steps in proptest::collection::vec(step(), 1..60)) {
        block_on(async {
            let inbox = SqliteInbox::in_memory().expect("opens");
            // key -> (id, attempts, state), and every (id, attempt) ever taken.
            let mut model: BTreeMap<u8, (EntryId, u32, State)> = BTreeMap::new();
            let mut taken_ever: Vec<(EntryId, u32)> = Vec::new();
            let mut now = 0u64;
            for step in steps {
                match step {
                    Step::Append(n) => {
                        let appended = inbox.append(entry(n, now)).await.expect("appends");
                        match model.get(&n) {
                            Some(&(id, _, _)) => assert_eq!(appended, Appended::Duplicate(id)),
                            None => {
                                let Appended::New(id) = appended else { panic!("a new key is new") };
                                model.insert(n, (id, 0, State::Pending { due: now }));
                            }
                        }
                    }
                    Step::Take(max, lease) => {
                        let got = inbox.take_at(max, Duration::from_millis(lease), at(now)).await.expect("takes");
                        let mut due: Vec<(u64, EntryId, u8)> = model
                            .iter()
                            .filter_map(|(&n, &(id, _, state))| match state {
                                State::Pending { due } if due <= now => Some((due, id, n)),
                                State::Taken { lease_end } if lease_end <= now => Some((lease_end, id, n)),
                                _ => None,
                            })
                            .collect();
                        due.sort();
                        due.truncate(max);
                        let mut expected: Vec<(EntryId, u32)> = Vec::new();
                        for (_, id, n) in due {
                            let slot = model.get_mut(&n).expect("in the model");
                            slot.1 += 1;
                            slot.2 = State::Taken { lease_end: now + lease };
                            expected.push((id, slot.1));
                        }
                        expected.sort();
                        let got: Vec<(EntryId, u32)> = got.iter().map(|taken| (taken.id, taken.attempt)).collect();
                        assert_eq!(got, expected);
                        taken_ever.extend(got);
                    }
                    Step::Settle(which, how) => {
                        let Some(&(id, attempt)) = taken_ever.get(which % taken_ever.len().max(1)) else { continue };
                        let settle = match how {
                            0 => Settle::Done,
                            1 => Settle::RetryAt(at(now + 50), "retry".into()),
                            _ => Settle::Dead("dead".into()),
                        };
                        inbox.settle_at(vec![(id, attempt, settle.clone())], at(now)).await.expect("settles");
                        if let Some(slot) = model.values_mut().find(|slot| slot.0 == id)
                            && slot.1 == attempt
                            && matches!(slot.2, State::Taken { .. })
                        {
                            slot.2 = match settle {
                                Settle::Done => State::Done { settled: now },
                                Settle::RetryAt(..) => State::Pending { due: now + 50 },
                                Settle::Dead(_) => State::Dead,
                            };
                        }
                    }
                    Step::Replay(n) => {
                        let Some(&(id, _, state)) = model.get(&n) else { continue };
                        let replayed = inbox.replay_at(Replay::Entry(id), at(now)).await.expect("replays");
                        let again = matches!(state, State::Done { .. } | State::Dead);
                        assert_eq!(replayed, u64::from(again));
                        if again {
                            model.get_mut(&n).expect("in the model").2 = State::Pending { due: now };
                        }
                    }
                    Step::ReplayAllDead => {
                        let replayed = inbox.replay_at(Replay::AllDead, at(now)).await.expect("replays");
                        let mut dead = 0;
                        for slot in model.values_mut().filter(|slot| slot.2 == State::Dead) {
                            slot.2 = State::Pending { due: now };
                            dead += 1;
                        }
                        assert_eq!(replayed, dead);
                    }
                    Step::Purge(age) => {
                        let before = now.saturating_sub(age);
                        let purged = inbox.purge(at(before)).await.expect("purges");
                        let old = |state: &State| matches!(*state, State::Done { settled } if settled < before);
                        let gone: Vec<u8> = model.iter().filter(|(_, slot)| old(&slot.2)).map(|(&n, _)| n).collect();
                        assert_eq!(purged, gone.len() as u64);
                        for n in gone {
                            model.remove(&n);
                        }
                    }
                    Step::Advance(by) => now += by,
                }
                let count = |wanted: fn(&State) -> bool| model.values().filter(|slot| wanted(&slot.2)).count() as u64;
                let expected = Stats {
                    pending: count(|state| matches!(state, State::Pending { .. })),
                    taken: count(|state| matches!(state, State::Taken { .. })),
                    done: count(|state| matches!(state, State::Done { .. })),
                    dead: count(|state| matches!(state, State::Dead)),
                };
                assert_eq!(inbox.stats().await.expect("counts"), expected);
            }
        });
    }
}

#[test]
fn open_existing_creates_nothing_and_writes_nothing_into_another_file() {
    let folder = std::env::temp_dir().join(format!("foxreach-inbox-existing-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let missing = folder.join("missing.sqlite3");
    assert!(SqliteInbox::open_existing(&missing).is_err());
    assert!(!missing.exists(), "a mistyped path is not created");
    let empty = folder.join("empty");
    std::fs::write(&empty, b"").expect("an empty file");
    let refused = SqliteInbox::open_existing(&empty).expect_err("no inbox in it");
    assert!(refused.to_string().contains("not an inbox"), "{refused}");
    assert_eq!(std::fs::metadata(&empty).expect("still there").len(), 0, "left as it was");
    let text = folder.join("notes.txt");
    std::fs::write(&text, b"not a database at all, but long enough to have a header").expect("a file");
    assert!(SqliteInbox::open_existing(&text).is_err());
    assert!(SqliteInbox::open(&text).is_err(), "open refuses it too");
    std::fs::remove_dir_all(&folder).expect("cleans up");
}

#[test]
fn open_refuses_another_applications_database_and_leaves_it_alone() {
    let folder = std::env::temp_dir().join(format!("foxreach-inbox-foreign-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let path = folder.join("app.sqlite3");
    Connection::open(&path).expect("creates").execute_batch("CREATE TABLE t (x)").expect("a table");
    let refused = SqliteInbox::open(&path).expect_err("not an inbox");
    assert!(refused.to_string().contains("not an inbox"), "{refused}");
    let connection = Connection::open(&path).expect("opens");
    let names: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_schema")
        .expect("a statement")
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("names");
    assert_eq!(names, ["t"], "no table added");
    let mode: String = connection.pragma_query_value(None, "journal_mode", |row| row.get(0)).expect("a mode");
    assert_eq!(mode, "delete", "not switched to WAL");
    std::fs::remove_dir_all(&folder).expect("cleans up");
}

#[cfg(unix)]
#[test]
fn a_new_inbox_file_is_readable_by_its_owner_alone() {
    use std::os::unix::fs::PermissionsExt;
    let folder = std::env::temp_dir().join(format!("foxreach-inbox-mode-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let path = folder.join("inbox.sqlite3");
    drop(SqliteInbox::open(&path).expect("opens"));
    assert_eq!(std::fs::metadata(&path).expect("there").permissions().mode() & 0o777, 0o600);
    std::fs::remove_dir_all(&folder).expect("cleans up");
}

#[test]
fn a_version_2_inbox_is_upgraded_in_place_and_keeps_its_entries() {
    let folder = std::env::temp_dir().join(format!("foxreach-inbox-upgrade-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let path = folder.join("inbox.sqlite3");
    // Version 2's schema, as its release wrote it, with one pending entry.
    Connection::open(&path)
        .expect("creates")
        .execute_batch(
            "CREATE TABLE entries (id INTEGER PRIMARY KEY, key BLOB NOT NULL, body BLOB NOT NULL, event_type TEXT,
                 timestamp TEXT, received_at INTEGER NOT NULL, state INTEGER NOT NULL, due_at INTEGER NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, since INTEGER NOT NULL, base INTEGER NOT NULL DEFAULT 0,
                 reason TEXT, settled_at INTEGER);
             CREATE INDEX entries_key ON entries (substr(key, 1, 8));
             CREATE INDEX entries_due ON entries (due_at, id) WHERE state IN (0, 1);
             CREATE INDEX entries_settled ON entries (settled_at) WHERE state = 2;
             INSERT INTO entries (key, body, received_at, state, due_at, since) VALUES (zeroblob(32), X'6f6c64', 5, 0, 5, 5);
             PRAGMA user_version = 2;",
        )
        .expect("a version 2 inbox");
    let refused = SqliteInbox::open_existing(&path).expect_err("the CLI does not upgrade");
    assert!(refused.to_string().contains("schema version 2"), "{refused}");
    block_on(async {
        let inbox = SqliteInbox::open(&path).expect("upgrades");
        let backlog = inbox.backlog().await.expect("a backlog");
        assert_eq!((backlog.pending, backlog.dead, backlog.oldest_open), (1, 0, Some(from_millis(5))));
        let taken = inbox.take(10, Duration::from_secs(30)).await.expect("takes");
        assert_eq!((&taken[0].body[..], taken[0].tenant.as_ref()), (&b"old"[..], None));
        let mut acme = entry(7, 0);
        acme.tenant = Some("acme".parse().expect("a name"));
        inbox.append(acme).await.expect("appends with a tenant");
        let listed = inbox.list(None, None, 10).await.expect("lists");
        assert_eq!(listed[1].tenant.as_ref().map(foxreach_webhooks::tenant::Tenant::as_str), Some("acme"));
    });
    let version: i64 = Connection::open(&path)
        .expect("opens")
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("a version");
    assert_eq!(version, 3);

    // A later release's schema is refused by both ways in, naming both versions.
    Connection::open(&path).expect("opens").pragma_update(None, "user_version", 4).expect("a later version");
    for refused in [SqliteInbox::open(&path).expect_err("newer"), SqliteInbox::open_existing(&path).expect_err("newer")]
    {
        let message = refused.to_string();
        assert!(message.contains("schema version 4") && message.contains("reads schema version 3"), "{message}");
    }
    std::fs::remove_dir_all(&folder).expect("cleans up");
}
