//! The command-line tool, run as a child process against inboxes made here
//! with `SqliteInbox`, and against a small receiver started here.

use foxreach_test_support::folder;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use foxreach_inbox::{Inbox, NewEntry, Settle, SqliteInbox};
use foxreach_webhooks::delivery::DeliveryKey;
use foxreach_webhooks::{SIGNATURE_HEADER, sign, verify};
use serde_json::Value;

use folder::Folder;

/// A secret distinctive enough that finding it in any output is a leak.
const SECRET: &str = "cli-test-secret-7f3a9c-never-printed";

/// What the `show` tests look for: only `--body` may print it.
const MARKER: &str = "cld_body_marker_42";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the tool with `args`, the secret in its environment, stdin from
/// `input`; checks that the secret shows nowhere.
fn run_with(args: &[&str], input: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_foxreach-webhooks"))
        .args(args)
        .env("FOXREACH_WEBHOOK_SECRET", SECRET)
        .env_remove("FOXREACH_INBOX")
        .env_remove("REDIS_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child.stdin.take().expect("piped").write_all(input).expect("writes stdin");
    let output = child.wait_with_output().expect("the binary ends");
    let run = Run {
        code: output.status.code().expect("an exit status, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    };
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET), "the secret leaked: {args:?}");
    run
}

fn run(args: &[&str]) -> Run {
    run_with(args, b"")
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| panic!("{error}: {}", run.stdout))
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(future)
}

fn body(event: &str, n: u8) -> Bytes {
    Bytes::from(format!(
        r#"{{"event":"{event}","timestamp":"2025-01-15T10:30:0{n}Z","data":{{"leadId":"{MARKER}","n":{n}}}}}"#
    ))
}

/// An inbox at `path` with 1 done, 2 and 3 dead, 4 taken and 5 pending (its
/// event type holds an escape sequence, as a hostile body could).
fn fixture(path: &str) {
    block_on(async {
        let inbox = SqliteInbox::open(path).expect("creates the inbox");
        let append = |event: &str, n: u8| {
            let entry = NewEntry::new(DeliveryKey::new([n; 32]), body(event, n), SystemTime::now());
            let inbox = inbox.clone();
            async move { inbox.append(entry).await.expect("appends") }
        };
        for n in 1..=3 {
            append("email.sent", n).await;
        }
        let taken = inbox.take(3, Duration::from_secs(60)).await.expect("takes");
        let settled = taken
            .iter()
            .map(|entry| match entry.id.0 {
                1 => (entry.id, entry.attempt, Settle::Done),
                2 => (entry.id, entry.attempt, Settle::Dead("the CRM refused the lead".to_owned())),
                _ => (entry.id, entry.attempt, Settle::Dead("no handler for it".to_owned())),
            })
            .collect();
        inbox.settle(settled).await.expect("settles");
        append("lead.updated", 4).await;
        assert_eq!(inbox.take(1, Duration::from_secs(3600)).await.expect("takes").len(), 1);
        append("\\u001b[31mred", 5).await;
    });
}

#[test]
fn stats_counts_each_state() {
    let folder = Folder::new("cli-stats");
    let path = folder.file("inbox.sqlite3");
    fixture(&path);
    let text = run(&["inbox", "--path", &path, "stats"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let (counts, oldest) = text.stdout.split_at(text.stdout.find("oldest open").expect("the oldest open entry"));
    assert_eq!(counts, "pending      1\ntaken        1\ndone         1\ndead         2\n");
    assert!(oldest.starts_with("oldest open  ") && oldest.contains(" ago ("), "{oldest}");
    let mut stats = json(&run(&["--json", "inbox", "stats", "--path", &path]));
    let oldest = stats.as_object_mut().and_then(|stats| stats.remove("oldest_open"));
    assert!(oldest.as_ref().and_then(serde_json::Value::as_str).is_some_and(|at| at.ends_with('Z')), "{oldest:?}");
    assert_eq!(stats, serde_json::json!({"pending": 1, "taken": 1, "done": 1, "dead": 2}));
}

#[test]
fn list_shows_a_table_the_dead_and_pages() {
    let folder = Folder::new("cli-list");
    let path = folder.file("inbox.sqlite3");
    fixture(&path);
    let all = run(&["inbox", "--path", &path, "list"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let lines: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five entries:\n{}", all.stdout);
    assert!(lines[0].starts_with("ID") && lines[0].contains("REASON"), "{}", lines[0]);
    assert!(lines[2].contains("dead") && lines[2].contains("the CRM refused the lead"), "{}", lines[2]);
    assert!(lines[2].contains("2025-01-15T10:30:02Z"), "the signed timestamp: {}", lines[2]);
    assert!(!all.stdout.contains('\u{1b}') && all.stdout.contains("\\u{1b}[31mred"), "escaped: {}", all.stdout);

    let dead = run(&["inbox", "--path", &path, "list", "--dead"]);
    let ids: Vec<&str> = dead.stdout.lines().skip(1).filter_map(|line| line.split_whitespace().next()).collect();
    assert_eq!(ids, ["2", "3"]);

    let page = json(&run(&["--json", "inbox", "--path", &path, "list", "--limit", "2"]));
    let entries = page["entries"].as_array().expect("entries");
    assert_eq!((entries.len(), &page["next_after"]), (2, &Value::from(2)));
    let first = &entries[0];
    assert_eq!((first["id"].as_i64(), first["state"].as_str()), (Some(1), Some("done")));
    assert_eq!(first["event_type"], "email.sent");
    assert_eq!(first["timestamp"], "2025-01-15T10:30:01Z");
    assert!(first["received_at"].as_str().is_some_and(|at| at.ends_with('Z')), "RFC 3339: {first}");
    assert!(first["settled_at"].is_string() && first["due_at"].is_null() && first.get("body").is_none());
    let key = first["key"].as_str().expect("a key");
    assert_eq!(key.len(), 16, "the fingerprint");
    assert!(!DeliveryKey::new([1; 32]).to_hex().contains(key), "never the MAC");

    let rest = json(&run(&["--json", "inbox", "--path", &path, "list", "--after", "2", "--state", "pending"]));
    assert_eq!(rest["entries"][0]["id"], 5);
    assert_eq!(rest["entries"].as_array().map(Vec::len), Some(1));
}

#[test]
fn show_prints_the_body_only_when_asked() {
    let folder = Folder::new("cli-show");
    let path = folder.file("inbox.sqlite3");
    fixture(&path);
    let plain = run(&["inbox", "--path", &path, "show", "2"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    for field in ["state        dead", "event type   email.sent", "attempts     1", "reason       the CRM refused"] {
        assert!(plain.stdout.contains(field), "{field} in\n{}", plain.stdout);
    }
    assert!(!plain.stdout.contains(MARKER), "no body without --body:\n{}", plain.stdout);
    let with_body = run(&["inbox", "--path", &path, "show", "2", "--body"]);
    assert!(with_body.stdout.contains(MARKER), "{}", with_body.stdout);

    let entry = json(&run(&["--json", "inbox", "--path", &path, "show", "2"]));
    assert_eq!(
        (entry["state"].as_str(), entry["size"].as_u64()),
        (Some("dead"), Some(body("email.sent", 2).len() as u64))
    );
    assert!(entry.get("body").is_none() && !entry.to_string().contains(MARKER), "{entry}");
    let entry = json(&run(&["--json", "inbox", "--path", &path, "show", "2", "--body"]));
    assert_eq!(entry["body"].as_str().map(str::as_bytes), Some(&body("email.sent", 2)[..]));

    let unknown = run(&["inbox", "--path", &path, "show", "77"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("77") && unknown.stdout.is_empty(), "{}", unknown.stderr);
}

#[test]
fn replay_makes_dead_entries_pending_and_says_when_it_cannot() {
    let folder = Folder::new("cli-replay");
    let path = folder.file("inbox.sqlite3");
    fixture(&path);
    let one = run(&["inbox", "--path", &path, "replay", "2"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(one.stdout.contains("replayed entry 2"), "{}", one.stdout);
    let stats = json(&run(&["--json", "inbox", "--path", &path, "stats"]));
    assert_eq!((stats["pending"].as_u64(), stats["dead"].as_u64()), (Some(2), Some(1)));

    for (id, state) in [("2", "pending"), ("4", "taken")] {
        let again = run(&["inbox", "--path", &path, "replay", id]);
        assert_eq!(again.code, 1, "{id}");
        assert!(again.stderr.contains(state) && again.stderr.contains(id), "{}", again.stderr);
    }
    let unknown = run(&["inbox", "--path", &path, "replay", "99"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("no entry 99"), "{}", unknown.stderr);

    let all = json(&run(&["--json", "inbox", "--path", &path, "replay", "--all-dead"]));
    assert_eq!(all["replayed"], 1);
    let none = run(&["inbox", "--path", &path, "replay", "--all-dead"]);
    assert_eq!(none.code, 1, "nothing left to replay");
    assert!(none.stderr.contains("no dead entries"), "{}", none.stderr);
    let done = json(&run(&["--json", "inbox", "--path", &path, "replay", "1"]));
    assert_eq!((done["replayed"].as_u64(), done["id"].as_i64()), (Some(1), Some(1)), "a done entry replays too");
    assert_eq!(run(&["inbox", "--path", &path, "replay"]).code, 2, "an id or --all-dead");
}

#[test]
fn purge_deletes_done_entries_older_than_asked() {
    let folder = Folder::new("cli-purge");
    let path = folder.file("inbox.sqlite3");
    fixture(&path);
    let recent = json(&run(&["--json", "inbox", "--path", &path, "purge", "--done-before", "7d"]));
    assert_eq!(recent["purged"], 0, "settled a moment ago");
    std::thread::sleep(Duration::from_millis(20));
    let purged = run(&["inbox", "--path", &path, "purge", "--done-before", "10ms"]);
    assert_eq!(purged.code, 0, "{}", purged.stderr);
    assert!(purged.stdout.starts_with("purged 1 done entry settled before "), "{}", purged.stdout);
    let stats = json(&run(&["--json", "inbox", "--path", &path, "stats"]));
    assert_eq!((stats["done"].as_u64(), stats["dead"].as_u64()), (Some(0), Some(2)), "dead letters stay");
    assert_eq!(run(&["inbox", "--path", &path, "purge", "--done-before", "soon"]).code, 2);
}

#[test]
fn an_unusable_inbox_is_an_error_and_never_created() {
    let folder = Folder::new("cli-unusable");
    let missing = folder.file("typo.sqlite3");
    let run_missing = run(&["inbox", "--path", &missing, "stats"]);
    assert_eq!(run_missing.code, 3);
    assert!(
        run_missing.stderr.contains("no inbox at") && run_missing.stderr.contains(&missing),
        "{}",
        run_missing.stderr
    );
    assert!(!Path::new(&missing).exists(), "a mistyped path must not become an inbox");

    let text = folder.file("notes.txt");
    let content = "these are notes, not an inbox\n".repeat(40);
    std::fs::write(&text, &content).expect("writes");
    for args in [&["inbox", "--path", &text, "stats"][..], &["--json", "inbox", "--path", &text, "list"]] {
        let refused = run(args);
        assert_eq!(refused.code, 3, "{args:?}");
        assert!(refused.stderr.contains("not a SQLite database") && refused.stdout.is_empty(), "{}", refused.stderr);
        assert_eq!(refused.stderr.lines().count(), 1, "one line: {}", refused.stderr);
    }
    assert_eq!(std::fs::read_to_string(&text).expect("reads"), content, "left as it was");
}

#[test]
fn a_locked_inbox_says_so() {
    let folder = Folder::new("cli-locked");
    let path = folder.file("inbox.sqlite3");
    fixture(&path);
    let holder = rusqlite::Connection::open(&path).expect("opens");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("locks");
    // The tool waits its 5 s busy timeout first.
    let locked = run(&["inbox", "--path", &path, "replay", "--all-dead"]);
    assert_eq!(locked.code, 3, "{}", locked.stderr);
    assert!(locked.stderr.contains("is locked by another process"), "{}", locked.stderr);
    holder.execute_batch("ROLLBACK").expect("unlocks");
    assert_eq!(run(&["inbox", "--path", &path, "replay", "--all-dead"]).code, 0);
}

#[test]
fn sign_and_verify_round_trip_without_showing_the_secret() {
    let folder = Folder::new("cli-sign");
    let file = folder.file("body.json");
    let payload = body("email.sent", 1);
    std::fs::write(&file, &payload).expect("writes");
    let signed = run(&["sign", &file]);
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    let signature = signed.stdout.trim();
    assert_eq!(signature, sign(SECRET, &payload));
    assert_eq!(json(&run_with(&["--json", "sign"], &payload))["signature"], signature, "from stdin");

    let valid = run(&["verify", "--signature", signature, &file]);
    assert_eq!((valid.code, valid.stdout.as_str()), (0, "valid\n"), "{}", valid.stderr);
    assert_eq!(run_with(&["verify", "--signature", signature, "-"], &payload).code, 0);
    let secret_file = folder.file("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).expect("writes");
    assert_eq!(run(&["verify", "--signature", signature, "--secret-file", &secret_file, &file]).code, 0);

    let forged = sign("another-secret", &payload);
    let invalid = run(&["verify", "--signature", &forged, &file]);
    assert_eq!(invalid.code, 1);
    assert!(invalid.stdout.starts_with("invalid: X-Webhook-Signature does not match"), "{}", invalid.stdout);
    assert!(!invalid.stdout.contains(&forged) && !invalid.stdout.contains(signature), "no MAC echoed");
    let malformed = json(&run(&["--json", "verify", "--signature", "sha256=abc", &file]));
    assert_eq!(malformed["valid"], false);
    assert!(malformed["reason"].as_str().is_some_and(|reason| reason.contains("prefix")), "{malformed}");

    let unset = Command::new(env!("CARGO_BIN_EXE_foxreach-webhooks"))
        .args(["sign", &file])
        .env_remove("FOXREACH_WEBHOOK_SECRET")
        .output()
        .expect("runs");
    assert_eq!(unset.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("FOXREACH_WEBHOOK_SECRET"));
}

/// What the test receiver saw: each body, and whether its signature verified.
type Seen = Arc<Mutex<Vec<(Bytes, bool)>>>;

/// A receiver on 127.0.0.1:0 that answers 204 to a valid signature and 401
/// with a reason otherwise; its URL.
fn receiver(runtime: &tokio::runtime::Runtime, seen: Seen) -> String {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/webhooks/foxreach",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
            let signature = headers.get(SIGNATURE_HEADER).map(|value| value.as_bytes().to_vec()).unwrap_or_default();
            let valid = verify(SECRET, &body, signature).is_ok();
            seen.lock().expect("not poisoned").push((body, valid));
            if valid { (StatusCode::NO_CONTENT, "") } else { (StatusCode::UNAUTHORIZED, "invalid signature") }
        }),
    );
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("binds");
    let address = listener.local_addr().expect("an address");
    runtime.spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/webhooks/foxreach")
}

#[test]
fn send_signs_as_foxreach_and_reports_the_answer() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let seen = Seen::default();
    let url = receiver(&runtime, Arc::clone(&seen));

    let sent = run(&["send", &url]);
    assert_eq!(sent.code, 0, "{}{}", sent.stdout, sent.stderr);
    assert_eq!(sent.stdout, "204 No Content\n");
    let fixture = include_bytes!("../src/email.sent.json");
    assert_eq!(seen.lock().expect("not poisoned").pop(), Some((Bytes::from_static(fixture), true)));

    let folder = Folder::new("cli-send");
    let file = folder.file("lead.json");
    std::fs::write(&file, body("lead.updated", 3)).expect("writes");
    let answer = json(&run(&["--json", "send", &url, &file]));
    assert_eq!(answer["status"], 204);
    assert_eq!(seen.lock().expect("not poisoned").pop(), Some((body("lead.updated", 3), true)));

    let forged = run(&["send", "--forge", &url]);
    assert_eq!(forged.code, 1);
    assert_eq!(forged.stdout, "401 Unauthorized\ninvalid signature\n");
    assert_eq!(seen.lock().expect("not poisoned").pop().map(|(_, valid)| valid), Some(false));

    assert_eq!(run(&["send", "https://127.0.0.1:1/webhooks/foxreach"]).code, 2, "https is refused");
    let closed = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("binds");
    let nobody = format!("http://{}/webhooks/foxreach", closed.local_addr().expect("an address"));
    drop(closed);
    let unreachable = run(&["send", &nobody]);
    assert_eq!(unreachable.code, 4);
    assert!(unreachable.stderr.contains("no answer from"), "{}", unreachable.stderr);
}

use foxreach_test_support::redis_server;

#[tokio::test]
async fn the_inbox_commands_work_on_redis_and_never_print_its_password() {
    use foxreach_inbox::RedisInbox;
    let server = redis_server::RedisServer::start_with(&["--requirepass", "hunter2-pass"]);
    let url = format!("redis://:hunter2-pass@{}/", server.address);
    let inbox = RedisInbox::connect(&url).await.expect("connects");
    for n in 0..2u8 {
        let body =
            format!(r#"{{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{{"leadId":"{MARKER}"}}}}"#);
        inbox
            .append(NewEntry::new(DeliveryKey::new([n; 32]), Bytes::from(body), SystemTime::now()))
            .await
            .expect("appends");
    }
    let taken = inbox.take(2, Duration::from_secs(30)).await.expect("takes");
    inbox.settle(vec![(taken[0].id, 1, Settle::Dead("refused".into()))]).await.expect("settles");
    let id = taken[0].id.0.to_string();
    let runs = [
        run(&["--json", "inbox", "--redis", &url, "stats"]),
        run(&["inbox", "--redis", &url, "list", "--dead"]),
        run(&["inbox", "--redis", &url, "show", &id]),
        run(&["inbox", "--redis", &url, "replay", "--all-dead"]),
        run(&["inbox", "--redis", &url, "show", "12345"]),
        run(&["inbox", "--redis", &format!("redis://:wrong-hunter2@{}/", server.address), "stats"]),
        run(&["inbox", "--redis", &format!("redis://:hunter2-pass@{}/3", server.address), "stats"]),
    ];
    for run in &runs {
        assert!(!run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"), "{}{}", run.stdout, run.stderr);
    }
    let stats = json(&runs[0]);
    assert_eq!((stats["taken"].as_u64(), stats["dead"].as_u64()), (Some(1), Some(1)), "{stats}");
    assert!(runs[1].stdout.contains("refused"), "{}", runs[1].stdout);
    assert!(!runs[2].stdout.contains(MARKER), "no body without --body");
    assert_eq!(runs[3].code, 0, "{}", runs[3].stderr);
    assert_eq!(runs[4].code, 1, "an unknown id: {}", runs[4].stderr);
    assert_eq!(runs[5].code, 3, "a refused password makes the inbox unusable: {}", runs[5].stderr);
    assert!(runs[5].stderr.contains(&server.address.to_string()), "it names the server: {}", runs[5].stderr);
    assert_eq!(runs[6].code, 3, "another database holds no inbox, and none is made: {}", runs[6].stderr);
    assert!(runs[6].stderr.contains("no inbox"), "{}", runs[6].stderr);
}
