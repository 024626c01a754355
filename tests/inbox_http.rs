//! The durable inbox behind both receivers this crate builds: what verified
//! is kept before the answer, once, also across a restart, whatever its
//! shape; what did not verify is not; an inbox that fails gets FoxReach to
//! retry.
#![cfg(all(feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::time::{Duration, SystemTime};

use foxreach_inbox::{
    Appended, Entry, EntryId, Inbox, InboxError, NewEntry, Replay, Settle, SqliteInbox, State, Stats, Taken,
};
use foxreach_webhooks::ParseError;
use foxreach_webhooks::Verifier;
use foxreach_webhooks::delivery::{Outcome, Receive, VerifiedDelivery};
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::{signed, tampered};
use foxreach_webhooks::http::tower::receiver;
use http::{Request, StatusCode, header};
use support::{PATH, verifier};
use tower::ServiceExt;

const LEAD: &str = r#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_789"}}"#;

/// Sends `request` through the router (`true`) or the tower receiver.
async fn send<R: Receive>(
    through_router: bool,
    verifier: &Verifier,
    inbox: R,
    request: Request<FullBody>,
) -> StatusCode {
    let response = if through_router {
        router(PATH, verifier.clone(), inbox).oneshot(request).await.expect("infallible").map(axum::body::Body::new)
    } else {
        receiver(verifier.clone(), inbox).oneshot(request).await.expect("infallible").map(axum::body::Body::new)
    };
    let status = response.status();
    assert_eq!(response.headers().contains_key(header::RETRY_AFTER), status == StatusCode::SERVICE_UNAVAILABLE);
    status
}

fn folder(name: &str) -> std::path::PathBuf {
    let folder = std::env::temp_dir().join(format!("foxreach-inbox-http-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("a folder");
    folder
}

#[tokio::test]
async fn what_verifies_is_kept_once_whatever_its_shape_and_across_a_restart() {
    let verifier = verifier();
    for through_router in [true, false] {
        let folder = folder(if through_router { "router" } else { "tower" });
        let path = folder.join("inbox.sqlite3");
        let inbox = SqliteInbox::open(&path).expect("opens");
        let bodies = [LEAD, r#"{"event":"lead.updated","timestamp":1,"data":[]}"#, "{not json", r#"{"no":"event"}"#];
        for body in bodies {
            let status = send(through_router, &verifier, inbox.clone(), signed(&verifier, PATH, body)).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            let again = send(through_router, &verifier, inbox.clone(), signed(&verifier, PATH, body)).await;
            assert_eq!(again, StatusCode::OK, "a duplicate of {body}");
        }
        let forged = send(through_router, &verifier, inbox.clone(), tampered(&verifier, PATH, LEAD)).await;
        assert_eq!(forged, StatusCode::UNAUTHORIZED);
        assert_eq!(inbox.stats().await.expect("counts").pending, 4, "the forged one is not kept");

        let listed = inbox.list(None, None, 10).await.expect("lists");
        assert_eq!(listed[0].event_type.as_deref(), Some("lead.updated"));
        assert_eq!(listed[0].timestamp.as_deref(), Some("2025-01-15T10:00:00Z"), "the signed timestamp");
        assert_eq!(listed[1].timestamp.as_deref(), Some("1"), "a number, as its JSON text");
        assert_eq!((listed[2].event_type.as_ref(), listed[2].timestamp.as_ref()), (None, None));
        let shown = inbox.entry(listed[2].id).await.expect("reads").expect("there");
        assert_eq!(shown.body.as_deref(), Some(&b"{not json"[..]), "kept byte for byte");
        drop(inbox);

        let reopened = SqliteInbox::open(&path).expect("opens again");
        let status = send(through_router, &verifier, reopened.clone(), signed(&verifier, PATH, LEAD)).await;
        assert_eq!(status, StatusCode::OK, "a duplicate after a restart");
        std::fs::remove_dir_all(&folder).expect("cleans up");
    }
}

/// An inbox whose disk is gone.
#[derive(Clone)]
struct Broken;

fn broken<T>() -> Result<T, InboxError> {
    Err(InboxError::new("disk I/O error"))
}

impl Inbox for Broken {
    async fn append(&self, _: NewEntry) -> Result<Appended, InboxError> {
        broken()
    }
    async fn take(&self, _: usize, _: Duration) -> Result<Vec<Taken>, InboxError> {
        broken()
    }
    async fn renew(&self, _: Vec<(EntryId, u32)>, _: Duration) -> Result<(), InboxError> {
        broken()
    }
    async fn settle(&self, _: Vec<(EntryId, u32, Settle)>) -> Result<(), InboxError> {
        broken()
    }
    async fn stats(&self) -> Result<Stats, InboxError> {
        broken()
    }
    async fn list(&self, _: Option<State>, _: Option<EntryId>, _: usize) -> Result<Vec<Entry>, InboxError> {
        broken()
    }
    async fn entry(&self, _: EntryId) -> Result<Option<Entry>, InboxError> {
        broken()
    }
    async fn replay(&self, _: Replay) -> Result<u64, InboxError> {
        broken()
    }
    async fn purge(&self, _: SystemTime) -> Result<u64, InboxError> {
        broken()
    }
}

/// As an engine of the application's own would: through `keep`.
impl Receive for Broken {
    async fn receive(&self, delivery: VerifiedDelivery) -> Result<Outcome, ParseError> {
        Ok(foxreach_inbox::keep(self, delivery).await)
    }
}

#[tokio::test]
async fn an_inbox_that_fails_is_503_so_that_foxreach_retries() {
    let verifier = verifier();
    for through_router in [true, false] {
        let status = send(through_router, &verifier, Broken, signed(&verifier, PATH, LEAD)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}

#[tokio::test]
async fn an_inbox_at_its_bound_is_503_so_that_foxreach_keeps_the_delivery() {
    let verifier = verifier();
    let other = r#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_790"}}"#;
    for through_router in [true, false] {
        let inbox = SqliteInbox::in_memory().expect("opens").max_open_entries(1);
        let kept = send(through_router, &verifier, inbox.clone(), signed(&verifier, PATH, LEAD)).await;
        assert_eq!(kept, StatusCode::ACCEPTED);
        let refused = send(through_router, &verifier, inbox.clone(), signed(&verifier, PATH, other)).await;
        assert_eq!(refused, StatusCode::SERVICE_UNAVAILABLE, "past the bound, with Retry-After");
        let again = send(through_router, &verifier, inbox.clone(), signed(&verifier, PATH, LEAD)).await;
        assert_eq!(again, StatusCode::OK, "a duplicate of what is kept is still acknowledged");
        assert_eq!(inbox.stats().await.expect("counts").pending, 1, "the refused one is not kept");
    }
}
