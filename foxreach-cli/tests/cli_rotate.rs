//! `foxreach-webhooks webhooks rotate`, run as a child process against a
//! stand-in of FoxReach's API on 127.0.0.1: the two steps, and every way
//! `--finish` refuses to delete the wrong webhook. Every run checks that
//! neither the API key nor any webhook secret shows in its output.

use foxreach_test_support::folder;

use foxreach_test_support::stand_in;

#[path = "support/tool.rs"]
mod tool;

use axum::http::StatusCode;
use folder::Folder;
use foxreach_webhooks::delivery::DeliveryKey;
use foxreach_webhooks::{Verifier, sign};
use stand_in::StandIn;
use tool::{Run, mode, run};

/// `rotate OLD --finish --replacement NEW`.
fn finish(stand_in: &StandIn, old_id: &str, new_id: &str) -> Run {
    run(stand_in, &["webhooks", "rotate", old_id, "--finish", "--replacement", new_id])
}

/// Starts rotating `old_id` with the tool, the new secret in `new_file`.
fn start_rotation(stand_in: &StandIn, old_id: &str, new_file: &str) -> (Run, String) {
    let started = run(stand_in, &["webhooks", "rotate", old_id, "--secret-file", new_file]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let new_id = stand_in.ids().last().expect("the replacement").clone();
    (started, new_id)
}

#[test]
fn rotation_is_two_commands_and_both_secrets_verify_meanwhile() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-api-rotate");
    let (old_file, new_file) = (folder.file("old.secret"), folder.file("new.secret"));
    let create = ["webhooks", "create", "--url", "https://example.com/h", "--events", "email.sent,lead.created"];
    let created = run(&stand_in, &[&create[..], &["--secret-file", &old_file]].concat());
    assert_eq!(created.code, 0, "{}", created.stderr);
    let old_id = stand_in.ids()[0].clone();

    let (started, new_id) = start_rotation(&stand_in, &old_id, &new_file);
    let state = stand_in.state().webhooks.clone();
    assert_eq!((&state[1].json["url"], &state[1].json["events"]), (&state[0].json["url"], &state[0].json["events"]));
    assert_eq!(state[1].json["isActive"], false, "created inactive: nothing signed with a secret nobody knows");
    assert_eq!(state[0].json["isActive"], true);
    assert_eq!(stand_in.state().bodies.last().map(|body| body.ends_with(r#""isActive":false}"#)), Some(true));
    assert_eq!(mode(&new_file), 0o600);
    assert!(started.stdout.starts_with(&format!("created webhook {new_id}, inactive, the replacement of {old_id}")));
    let steps = [
        "  1. Deploy the receiver accepting both secrets, the old one first",
        &format!("FOXREACH_WEBHOOK_SECRET_FILE=<old secret file>:{new_file};"),
        &format!("Verifier::from_secret_files([\"<old secret file>\", \"{new_file}\"])"),
        &format!("  2. foxreach-webhooks webhooks rotate {old_id} --finish --replacement {new_id}   "),
        &format!("activates {new_id}, then deletes {old_id}"),
        "  3. Later, deploy with the new secret alone",
        &format!("FOXREACH_WEBHOOK_SECRET_FILE={new_file};"),
        "FoxReach's retries end 36 minutes after a first failure",
    ];
    let at: Vec<usize> = steps
        .iter()
        .map(|step| started.stdout.find(step).unwrap_or_else(|| panic!("{step}: {}", started.stdout)))
        .collect();
    assert!(at.is_sorted(), "the steps in order: {}", started.stdout);
    assert!(!started.stdout.contains("new one first"), "{}", started.stdout);
    assert!(!started.stdout.contains("  4. "), "three steps: {}", started.stdout);

    // Meanwhile FoxReach may sign each event once per webhook: both verify,
    // and both copies get the key the old secret alone gave.
    let verifier = Verifier::from_secret_files([&old_file, &new_file]).expect("two secret files").verifier;
    let before = Verifier::from_secret_files([&old_file]).expect("the old secret file").verifier;
    let body = br#"{"event":"lead.created","timestamp":"2025-01-15T10:30:00Z","data":{"leadId":"cld_1"}}"#;
    let by_old = sign(stand_in.secret_of(&old_id).expect("stored"), body);
    let key = DeliveryKey::verify(&before, body, &by_old).expect("the old secret verifies");
    for id in [&old_id, &new_id] {
        let signature = sign(stand_in.secret_of(id).expect("stored"), body);
        assert_eq!(DeliveryKey::verify(&verifier, body, &signature).ok(), Some(key), "{id}'s copy: the same key");
    }
    assert!(verifier.verify(body, sign("another-secret", body)).is_err());

    let finished = finish(&stand_in, &old_id, &new_id);
    assert_eq!(finished.code, 0, "{}", finished.stderr);
    assert_eq!(
        stand_in.changes(),
        [format!("PATCH /api/v1/webhooks/{new_id}"), format!("DELETE /api/v1/webhooks/{old_id}")],
        "activated first, deleted after"
    );
    assert!(stand_in.state().bodies.contains(&r#"{"isActive":true}"#.to_owned()));
    assert_eq!(stand_in.ids(), std::slice::from_ref(&new_id));
    assert_eq!(stand_in.state().webhooks[0].json["isActive"], true);
    assert!(
        finished.stdout.starts_with(&format!(
            "activated webhook {new_id}\ndeleted webhook {old_id}; {new_id} delivers to https://example.com/h"
        )),
        "{}",
        finished.stdout
    );
    let alone = finish(&stand_in, &new_id, &old_id);
    assert_eq!(alone.code, 1, "the only webhook for its URL is not deleted by --finish");
    assert!(
        alone.stderr.contains(&format!("FoxReach has no webhook {old_id}; nothing was changed")),
        "{}",
        alone.stderr
    );
}

#[test]
fn finish_deletes_nothing_when_the_activation_fails() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-api-rotate-fail");
    let old_id = stand_in.seed("https://example.com/h", &["email.sent"], 0, None);
    let (_, new_id) = start_rotation(&stand_in, &old_id, &folder.file("new.secret"));

    stand_in.state().failing = Some(("PATCH", axum::http::StatusCode::INTERNAL_SERVER_ERROR));
    let failed = finish(&stand_in, &old_id, &new_id);
    assert_eq!(failed.code, 4, "{}", failed.stderr);
    assert!(failed.stderr.contains(&format!("cannot set {new_id}'s isActive to true (")), "{}", failed.stderr);
    assert!(failed.stderr.contains(&format!("nothing was deleted: {old_id} still delivers")), "{}", failed.stderr);
    assert!(!stand_in.changes().iter().any(|change| change.starts_with("DELETE")), "{:?}", stand_in.changes());
    assert_eq!(stand_in.ids(), [old_id.clone(), new_id.clone()]);
    assert_eq!(stand_in.state().webhooks[1].json["isActive"], false);

    stand_in.state().failing = None;
    let again = finish(&stand_in, &old_id, &new_id);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(stand_in.ids(), [new_id]);
}

#[test]
fn rotate_refuses_an_existing_file_and_an_unknown_webhook_without_creating_anything() {
    let stand_in = StandIn::start();
    let id = stand_in.seed("https://example.com/h", &["email.sent"], 0, None);
    let folder = Folder::new("cli-api-rotate-refuse");
    let existing = folder.file("existing.secret");
    std::fs::write(&existing, "in use").expect("written");
    assert_eq!(run(&stand_in, &["webhooks", "rotate", &id, "--secret-file", &existing]).code, 2);
    let path = folder.file("new.secret");
    let unknown = run(&stand_in, &["webhooks", "rotate", "cwh_none", "--secret-file", &path]);
    assert_eq!((unknown.code, unknown.stderr.as_str()), (1, "error: FoxReach has no webhook cwh_none\n"));
    assert!(!std::path::Path::new(&path).exists());
    assert_eq!(stand_in.ids(), [id]);
}

#[test]
fn finish_refuses_an_unrelated_webhook_for_the_same_url() {
    let stand_in = StandIn::start();
    let url = "https://example.com/h";
    let old_id = stand_in.seed(url, &["email.sent"], 0, None);
    let other_events = stand_in.seed(url, &["email.sent", "lead.created"], 0, None);
    let elsewhere = stand_in.seed("https://example.com/g", &["email.sent"], 0, None);

    let unrelated = finish(&stand_in, &old_id, &other_events);
    assert_eq!(unrelated.code, 1, "{}", unrelated.stderr);
    assert!(
        unrelated.stderr.contains("it does not receive the same event types; nothing was changed"),
        "{}",
        unrelated.stderr
    );
    let other_url = finish(&stand_in, &old_id, &elsewhere);
    assert_eq!(other_url.code, 1, "{}", other_url.stderr);
    assert!(
        other_url.stderr.contains(&format!("it delivers to https://example.com/g, not {url}")),
        "{}",
        other_url.stderr
    );
    let itself = finish(&stand_in, &old_id, &old_id);
    assert_eq!(itself.code, 1, "{}", itself.stderr);
    assert!(itself.stderr.contains("it is the same webhook"), "{}", itself.stderr);
    assert!(stand_in.changes().is_empty(), "nothing changed: {:?}", stand_in.changes());
    assert_eq!(stand_in.ids().len(), 3);
}

#[test]
fn finish_with_the_ids_swapped_changes_nothing() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-rotate-swapped");
    let old_id = stand_in.seed("https://example.com/h", &["email.sent", "lead.created"], 0, None);
    let (_, new_id) = start_rotation(&stand_in, &old_id, &folder.file("new.secret"));

    let swapped = finish(&stand_in, &new_id, &old_id);
    assert_eq!(swapped.code, 1, "{}", swapped.stderr);
    assert!(
        swapped.stderr.contains(&format!("{old_id} cannot replace {new_id}: it was created ")),
        "{}",
        swapped.stderr
    );
    assert!(swapped.stderr.contains("are the two ids swapped?"), "{}", swapped.stderr);
    assert!(stand_in.changes().is_empty(), "nothing changed: {:?}", stand_in.changes());
    assert_eq!(stand_in.ids(), [old_id, new_id]);
}

#[test]
fn finish_without_replacement_is_a_usage_error() {
    let stand_in = StandIn::start();
    let old_id = stand_in.seed("https://example.com/h", &["email.sent"], 0, None);
    stand_in.seed("https://example.com/h", &["email.sent"], 0, None);
    let missing = run(&stand_in, &["webhooks", "rotate", &old_id, "--finish"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("--finish needs --replacement NEW"), "{}", missing.stderr);
    assert_eq!(stand_in.request_count(), 0, "FoxReach was never asked");
    let alone = run(&stand_in, &["webhooks", "rotate", &old_id, "--replacement", "cwh_0002"]);
    assert_eq!(alone.code, 2, "--replacement goes with --finish: {}", alone.stderr);
    assert_eq!(stand_in.request_count(), 0);
}

#[test]
fn a_second_start_is_refused_while_a_rotation_is_unfinished() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-rotate-unfinished");
    let old_id = stand_in.seed("https://example.com/h", &["email.sent", "lead.created"], 0, None);
    let (_, new_id) = start_rotation(&stand_in, &old_id, &folder.file("first.secret"));

    let second = folder.file("second.secret");
    let again = run(&stand_in, &["webhooks", "rotate", &old_id, "--secret-file", &second]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains(&format!("webhook {new_id} (inactive, created ")), "{}", again.stderr);
    assert!(again.stderr.contains(&format!("rotate {old_id} --finish --replacement {new_id}")), "{}", again.stderr);
    assert!(again.stderr.contains(&format!("webhooks delete {new_id}")), "{}", again.stderr);
    assert_eq!(stand_in.ids(), [old_id, new_id], "no second candidate");
    assert!(!std::path::Path::new(&second).exists(), "the unused secret file is removed");
}

#[test]
fn a_failed_delete_after_the_activation_says_what_to_run() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-rotate-delete-fails");
    let old_id = stand_in.seed("https://example.com/h", &["email.sent"], 0, None);
    let (_, new_id) = start_rotation(&stand_in, &old_id, &folder.file("new.secret"));

    stand_in.state().failing = Some(("DELETE", StatusCode::INTERNAL_SERVER_ERROR));
    let failed = finish(&stand_in, &old_id, &new_id);
    assert_eq!(failed.code, 4, "{}", failed.stderr);
    assert!(failed.stderr.contains(&format!("{new_id}'s isActive is now true, but {old_id} could not be deleted")));
    assert!(failed.stderr.contains(&format!("`foxreach-webhooks webhooks delete {old_id}`")), "{}", failed.stderr);
    assert_eq!(stand_in.state().webhooks[1].json["isActive"], true);
    assert_eq!(stand_in.ids(), [old_id, new_id]);
}

#[test]
fn finish_deletes_nothing_when_foxreach_does_not_take_the_activation() {
    let stand_in = StandIn::start();
    let folder = Folder::new("cli-rotate-not-taken");
    let old_id = stand_in.seed("https://example.com/h", &["email.sent"], 0, None);
    let (_, new_id) = start_rotation(&stand_in, &old_id, &folder.file("new.secret"));

    stand_in.state().patch_ignores_active = true;
    let ignored = finish(&stand_in, &old_id, &new_id);
    assert_eq!(ignored.code, 1, "{}", ignored.stderr);
    assert!(ignored.stderr.contains("but answers that it is false; nothing was deleted"), "{}", ignored.stderr);
    assert_eq!(stand_in.changes(), [format!("PATCH /api/v1/webhooks/{new_id}")], "no DELETE");
    assert_eq!(stand_in.ids(), [old_id, new_id]);
}
