//! `foxreach-webhooks webhooks ...` and `events`, run as a child process
//! against a stand-in of FoxReach's API on 127.0.0.1. Every run checks that
//! neither the API key nor any webhook secret shows in its output, except
//! a secret asked for with `--show-secret`.

use foxreach_test_support::folder;

use foxreach_test_support::stand_in;

#[path = "support/tool.rs"]
mod tool;

use std::time::{Duration, Instant};

use folder::Folder;
use serde_json::Value;
use stand_in::{API_KEY, RateLimit, StandIn};
use tool::{json, mode, run, run_as};

#[test]
fn create_writes_the_secret_to_a_new_owner_only_file_and_nowhere_else() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-api-create");
    let path = folder.file("webhook.secret");
    let args = ["webhooks", "create", "--url", "https://example.com/h", "--events", "email.sent,reply.received"];
    let created = run(&stand_in, &[&args[..], &["--secret-file", &path]].concat());
    assert_eq!(created.code, 0, "{}", created.stderr);
    let id = &stand_in.ids()[0];
    assert_eq!(std::fs::read_to_string(&path).expect("the secret file"), stand_in.secret_of(id).expect("stored"));
    assert_eq!(mode(&path), 0o600);
    assert!(created.stdout.starts_with(&format!("created webhook {id} for https://example.com/h (2 event types)\n")));
    assert!(created.stdout.contains(&format!("secret written to {path} (mode 0600)")), "{}", created.stdout);
    assert!(created.stderr.contains(&format!("FOXREACH_WEBHOOK_SECRET_FILE={path};")), "{}", created.stderr);

    let again = folder.file("second.secret");
    let scripted = json(&run(
        &stand_in,
        &["--json", "webhooks", "create", "--url", "https://example.com/g", "--all", "--secret-file", &again],
    ));
    assert_eq!(scripted["secret_file"], again.as_str());
    assert_eq!(scripted["webhook"]["events"].as_array().map(Vec::len), Some(11));
    assert!(scripted.get("secret").is_none(), "{scripted}");
}

#[test]
fn create_refuses_before_asking_foxreach_when_the_secret_could_not_be_kept() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-api-refuse");
    let existing = folder.file("existing.secret");
    std::fs::write(&existing, "a secret in use").expect("written");
    let base = ["webhooks", "create", "--url", "https://example.com/h", "--events", "email.sent"];

    let overwrite = run(&stand_in, &[&base[..], &["--secret-file", &existing]].concat());
    assert_eq!(overwrite.code, 2, "{}", overwrite.stderr);
    assert!(overwrite.stderr.contains("is never overwritten"), "{}", overwrite.stderr);
    assert_eq!(std::fs::read_to_string(&existing).expect("kept"), "a secret in use");

    let nowhere = run(&stand_in, &base);
    assert_eq!(nowhere.code, 2);
    assert!(
        nowhere.stderr.contains("FoxReach shows the secret only once: pass --secret-file PATH"),
        "{}",
        nowhere.stderr
    );

    let unwritable = run(&stand_in, &[&base[..], &["--secret-file", &folder.file("no/such/dir/x.secret")]].concat());
    assert_eq!(unwritable.code, 4, "{}", unwritable.stderr);
    assert_eq!(stand_in.request_count(), 0, "FoxReach was never asked");
}

#[test]
fn create_passes_names_on_and_foxreach_refuses_what_it_does_not_offer() {
    let stand_in = StandIn::start();
    let both = run(
        &stand_in,
        &["webhooks", "create", "--url", "https://e.com/h", "--events", "email.sent", "--all", "--show-secret"],
    );
    assert_eq!(both.code, 2);
    let neither = run(&stand_in, &["webhooks", "create", "--url", "https://e.com/h", "--show-secret"]);
    assert_eq!(neither.code, 2);
    assert!(neither.stderr.contains("give --events TYPE,TYPE or --all"), "{}", neither.stderr);
    assert_eq!(stand_in.request_count(), 0, "usage errors are caught before FoxReach is asked");
    // A name this crate does not type goes to FoxReach, which may offer it
    // (the next test); this one it does not, and its 422 names it.
    let unknown = run(
        &stand_in,
        &["webhooks", "create", "--url", "https://e.com/h", "--events", "email.sent,lead.deleted", "--show-secret"],
    );
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("lead.deleted is not an event type this version"), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("(422): unknown event types: lead.deleted"), "{}", unknown.stderr);
    assert!(stand_in.ids().is_empty());
}

#[test]
fn show_secret_prints_it_and_only_then() {
    let stand_in = StandIn::start();
    let text = run_as(
        &stand_in,
        Some(API_KEY),
        &["webhooks", "create", "--url", "https://e.com/h", "--all", "--show-secret"],
        true,
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    let secret = stand_in.secret_of(&stand_in.ids()[0]).expect("stored");
    assert!(text.stdout.contains(&format!("secret {secret}\n")), "{}", text.stdout);
    let scripted = run_as(
        &stand_in,
        Some(API_KEY),
        &["--json", "webhooks", "create", "--url", "https://e.com/h", "--all", "--show-secret"],
        true,
    );
    assert_eq!(json(&scripted)["secret"], stand_in.secret_of(&stand_in.ids()[1]).expect("stored").as_str());
    assert_eq!(json(&scripted)["secret_file"], Value::Null);
}

#[test]
fn a_422_from_foxreach_names_the_types_and_leaves_no_empty_secret_file() {
    let stand_in = StandIn::with(|state| state.offered.retain(|name| name != "lead.updated"));
    let folder = Folder::new("cli-api-422");
    let path = folder.file("webhook.secret");
    let refused = run(&stand_in, &["webhooks", "create", "--url", "https://e.com/h", "--all", "--secret-file", &path]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("(422): unknown event types: lead.updated"), "{}", refused.stderr);
    assert!(!std::path::Path::new(&path).exists(), "the unused secret file is removed");
}

#[test]
fn an_event_type_foxreach_offers_but_this_crate_does_not_type_is_passed_on_with_a_note() {
    let stand_in = StandIn::with(|state| state.offered.push("meeting.booked".to_owned()));
    let folder = Folder::new("cli-api-untyped");
    let path = folder.file("webhook.secret");
    let events = "email.sent,meeting.booked";
    let created =
        run(&stand_in, &["webhooks", "create", "--url", "https://e.com/h", "--events", events, "--secret-file", &path]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(created.stderr.contains("meeting.booked is not an event type this version"), "{}", created.stderr);
    let id = stand_in.ids()[0].clone();
    let updated = run(&stand_in, &["webhooks", "update", &id, "--events", "meeting.booked"]);
    assert_eq!(updated.code, 0, "{}", updated.stderr);
    assert_eq!(stand_in.state().webhooks[0].json["events"], serde_json::json!(["meeting.booked"]));
}

#[test]
fn list_shows_each_webhooks_health() {
    let stand_in = StandIn::start();
    let healthy = stand_in.seed("https://example.com/a", &["email.sent"], 0, Some("2025-01-15T10:30:00.123456"));
    let failing = stand_in.seed("https://example.com/b", &["email.sent", "lead.created"], 4, None);
    stand_in.seed("https://example.com/c", &["lead.created"], 0, None);
    let text = run(&stand_in, &["webhooks", "list"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let lines: Vec<Vec<&str>> = text.stdout.lines().map(|line| line.split_whitespace().collect()).collect();
    assert_eq!(lines.len(), 4, "a header and three webhooks (two pages):\n{}", text.stdout);
    assert_eq!(lines[0], ["ID", "ACTIVE", "FAILURES", "LAST", "DELIVERY", "EVENTS", "URL"]);
    assert_eq!(lines[1], [healthy.as_str(), "yes", "0", "2025-01-15T10:30:00Z", "1", "https://example.com/a"]);
    assert_eq!(lines[2], [failing.as_str(), "yes", "4", "never", "2", "https://example.com/b"]);

    let scripted = json(&run(&stand_in, &["--json", "webhooks", "list"]));
    let first = &scripted["webhooks"][0];
    assert_eq!(
        (first["last_delivered_at"].as_str(), first["created_at"].as_str()),
        (Some("2025-01-15T10:30:00Z"), Some("2025-01-15T10:00:00Z"))
    );
    assert_eq!(scripted["webhooks"][1]["consecutive_failures"], 4);
    assert_eq!(scripted["webhooks"][1]["last_delivered_at"], Value::Null);
}

#[test]
fn update_changes_what_it_is_told_and_says_why_not() {
    let stand_in = StandIn::start();
    let id = stand_in.seed("https://example.com/a", &["email.sent"], 0, None);
    let paused = run(&stand_in, &["webhooks", "update", &id, "--active", "false", "--events", "lead.created"]);
    assert_eq!(paused.code, 0, "{}", paused.stderr);
    assert!(paused.stdout.contains("active         no\nevents         lead.created\n"), "{}", paused.stdout);
    assert_eq!(
        stand_in.state().bodies.last().map(String::as_str),
        Some(r#"{"events":["lead.created"],"isActive":false}"#)
    );

    assert_eq!(run(&stand_in, &["webhooks", "update", &id]).code, 2, "nothing to change");
    assert_eq!(run(&stand_in, &["webhooks", "update", &id, "--events", "nope"]).code, 2);
    let missing = run(&stand_in, &["webhooks", "update", "cwh_none", "--active", "true"]);
    assert_eq!((missing.code, missing.stderr.as_str()), (1, "error: FoxReach has no webhook cwh_none\n"));
}

#[test]
fn delete_removes_and_a_second_time_answers_no() {
    let stand_in = StandIn::start();
    let id = stand_in.seed("https://example.com/a", &["email.sent"], 0, None);
    let deleted = run(&stand_in, &["--json", "webhooks", "delete", &id]);
    assert_eq!((deleted.code, json(&deleted)["deleted"].as_str()), (0, Some(id.as_str())));
    assert!(stand_in.ids().is_empty());
    assert_eq!(run(&stand_in, &["webhooks", "delete", &id]).code, 1);
}

#[test]
fn a_wrong_or_missing_key_is_a_usage_error_that_never_shows_the_key() {
    let stand_in = StandIn::start();
    // The stand-in echoes a wrong key in its 401; `run_as` checks it is not repeated.
    let wrong = run_as(&stand_in, Some("otr_wrong_3c9d1f"), &["webhooks", "list"], false);
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("FoxReach refused the API key (401)"), "{}", wrong.stderr);
    assert!(wrong.stderr.contains("this tool reads it from FOXREACH_API_KEY"), "{}", wrong.stderr);
    let missing = run_as(&stand_in, None, &["events"], false);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no API key: set FOXREACH_API_KEY"), "{}", missing.stderr);
}

#[test]
fn rate_limiting_and_an_unreachable_api_exit_4() {
    let limit = RateLimit { after: 0, times: 5, retry_after: Some("120") };
    let stand_in = StandIn::with(|state| state.rate_limit = Some(limit));
    let started = Instant::now();
    let limited = run(&stand_in, &["webhooks", "list"]);
    assert_eq!(limited.code, 4);
    assert!(started.elapsed() < Duration::from_secs(10), "a 2-minute Retry-After is not waited out");
    assert!(
        limited.stderr.contains("(429, 100 requests a minute) after 1 attempt(s): try again in 120 s"),
        "{}",
        limited.stderr
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("binds").local_addr().expect("an address").port();
    let gone = run(&stand_in, &["webhooks", "list", "--base-url", &format!("http://127.0.0.1:{port}/api/v1")]);
    assert_eq!(gone.code, 4);
    assert!(gone.stderr.starts_with("error: cannot reach FoxReach: "), "{}", gone.stderr);
    let folder = Folder::new("cli-api-unanswered-create");
    let secret = folder.file("foxreach.secret");
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let unanswered = run(
        &stand_in,
        &["webhooks", "create", "--url", "https://a.example/h", "--all", "--secret-file", &secret, "--base-url", &base],
    );
    assert_eq!(unanswered.code, 4);
    assert!(unanswered.stderr.contains("check `foxreach-webhooks webhooks list`"), "{}", unanswered.stderr);
    assert!(!std::path::Path::new(&secret).exists(), "no empty secret file is left");
    let before = stand_in.request_count();
    for id in ["..", "."] {
        let refused = run(&stand_in, &["webhooks", "delete", id]);
        assert_eq!(refused.code, 2, "{id}: {}", refused.stderr);
    }
    assert_eq!(stand_in.request_count(), before, "`delete ..` never becomes DELETE /webhooks");
    let clear = run(&stand_in, &["webhooks", "list", "--base-url", "http://api.example.com/api/v1"]);
    assert_eq!(clear.code, 2);
    assert!(clear.stderr.contains("loopback address only"), "{}", clear.stderr);
}

#[test]
fn events_check_compares_both_ways() {
    let same = StandIn::start();
    let checked = run(&same, &["events", "--check"]);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    assert!(checked.stdout.ends_with("\nFoxReach offers the 11 event types this crate types\n"), "{}", checked.stdout);

    let drifted = StandIn::with(|state| {
        state.offered.retain(|name| name != "email.opened");
        state.offered.push("lead.deleted".to_owned());
    });
    let differ = run(&drifted, &["events", "--check"]);
    assert_eq!(differ.code, 1);
    assert!(differ.stdout.contains("lead.deleted   (not typed by this crate)\n"), "{}", differ.stdout);
    assert!(
        differ
            .stdout
            .contains("only at FoxReach (delivered as EventData::Unknown until this crate types them): lead.deleted\n")
    );
    assert!(differ.stdout.contains("only in this crate (FoxReach no longer offers them): email.opened\n"));
    assert_eq!(run(&drifted, &["events"]).code, 0, "without --check, a listing");
    let scripted = json(&run(&drifted, &["--json", "events", "--check"]));
    assert_eq!(
        (scripted["only_at_foxreach"][0].as_str(), scripted["only_in_crate"][0].as_str()),
        (Some("lead.deleted"), Some("email.opened"))
    );
    assert_eq!(scripted["same"], false);
}
