//! The management API's client against a stand-in of FoxReach's API on
//! 127.0.0.1: every method's answer, and every error.

use foxreach_test_support::folder;
use foxreach_test_support::stand_in;

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use foxreach_api::{ApiError, ApiKey, Client, NewWebhook, WebhookUpdate};
use foxreach_webhooks::EventType;
use stand_in::{API_KEY, RateLimit, StandIn};

fn client(stand_in: &StandIn) -> Client {
    client_for(&stand_in.base_url, API_KEY, |builder| builder)
}

fn client_for(
    base_url: &str,
    key: &str,
    settings: impl FnOnce(foxreach_api::ClientBuilder) -> foxreach_api::ClientBuilder,
) -> Client {
    settings(Client::builder(ApiKey::new(key)).base_url(base_url)).build().expect("a client")
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// An HTTP server on 127.0.0.1 that reads one request and answers it with
/// `response` as is (or holds the connection when `None`).
fn raw_server(response: Option<&'static str>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let address = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            match response {
                Some(response) => {
                    let _ = stream.write_all(response.as_bytes());
                }
                None => std::thread::sleep(Duration::from_secs(5)),
            }
        }
    });
    format!("http://{address}/api/v1")
}

fn answer_201(body: &str) -> &'static str {
    let response = format!(
        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    Box::leak(response.into_boxed_str())
}

#[tokio::test]
async fn create_returns_the_secret_which_the_list_never_shows() {
    let stand_in = StandIn::start();
    let client = client(&stand_in);
    let new = NewWebhook::new("https://example.com/hook", [EventType::EmailSent, EventType::ReplyReceived]);
    let created = client.create(&new).await.expect("created");
    let secret = stand_in.secret_of(&created.webhook.id).expect("stored");
    assert_eq!(created.secret.expose(), secret);
    assert_eq!(secret.len(), 64);
    assert_eq!(created.webhook.events, ["email.sent", "reply.received"]);
    assert!(created.webhook.is_active);
    assert_eq!(created.webhook.created_at.instant().expect("UTC").unix_timestamp(), 1_736_935_200);
    assert!(!format!("{created:?}").contains(&secret), "Debug shows no secret");
    assert_eq!(
        stand_in.state().bodies[0],
        r#"{"url":"https://example.com/hook","events":["email.sent","reply.received"],"isActive":true}"#
    );

    let listed = client.list().await.expect("listed");
    assert_eq!(listed, std::slice::from_ref(&created.webhook));
    assert!(!format!("{listed:?}").contains(&secret));
}

#[tokio::test]
async fn list_walks_every_page_and_find_goes_through_it() {
    let stand_in = StandIn::start();
    let ids: Vec<String> =
        (0..5).map(|n| stand_in.seed(&format!("https://example.com/{n}"), &["lead.created"], n, None)).collect();
    let client = client(&stand_in);
    let listed = client.list().await.expect("listed");
    assert_eq!(listed.iter().map(|webhook| &webhook.id).collect::<Vec<_>>(), ids.iter().collect::<Vec<_>>());
    assert_eq!(listed[3].consecutive_failures, 3);
    let pages: Vec<String> = stand_in.state().requests.clone();
    assert_eq!(pages, ["GET /api/v1/webhooks?page=1", "GET /api/v1/webhooks?page=2", "GET /api/v1/webhooks?page=3"]);

    let page = client.list_page(2).await.expect("a page");
    let meta = page.meta.expect("meta");
    assert_eq!((page.items.len(), meta.page, meta.page_size, meta.total, meta.total_pages), (2, 2, 2, 5, 3));
    assert_eq!(
        client.find(&ids[4]).await.expect("found").map(|webhook| webhook.url),
        Some("https://example.com/4".to_owned())
    );
    assert_eq!(client.find("cwh_none").await.expect("looked"), None);
}

#[tokio::test]
async fn update_sends_only_what_changes_and_delete_removes() {
    let stand_in = StandIn::start();
    let id = stand_in.seed("https://example.com/old", &["email.sent"], 0, None);
    let client = client(&stand_in);
    let update = WebhookUpdate::new().url("https://example.com/new").active(false);
    let updated = client.update(&id, &update).await.expect("updated");
    assert_eq!(
        (updated.url.as_str(), updated.is_active, updated.events.clone()),
        ("https://example.com/new", false, names(&["email.sent"]))
    );
    assert_eq!(updated.updated_at.as_str(), "2025-01-16T09:00:00");
    assert_eq!(stand_in.state().bodies[0], r#"{"url":"https://example.com/new","isActive":false}"#);

    client.delete(&id).await.expect("deleted");
    assert!(stand_in.ids().is_empty());
    let again = client.delete(&id).await.expect_err("gone");
    assert!(
        matches!(&again, ApiError::NotFound { message: Some(message) } if message == "Webhook not found"),
        "{again:?}"
    );
    let missing = client.update("cwh_none", &update).await.expect_err("no such webhook");
    assert_eq!(missing.status(), Some(404));
}

#[tokio::test]
async fn event_types_are_foxreachs_list() {
    let stand_in = StandIn::with(|state| state.offered.push("lead.deleted".to_owned()));
    let offered = client(&stand_in).event_types().await.expect("listed");
    assert_eq!(offered.len(), 12);
    assert_eq!((offered[0].as_str(), offered[11].as_str()), ("email.sent", "lead.deleted"));
}

#[tokio::test]
async fn a_wrong_key_is_a_401_that_never_repeats_the_key() {
    let stand_in = StandIn::start();
    let wrong = "otr_wrong_key_b71f0a";
    let client = client_for(&stand_in.base_url, wrong, |builder| builder);
    let error = client.list().await.expect_err("refused");
    assert!(matches!(error, ApiError::Unauthorized), "{error:?}");
    for shown in [error.to_string(), format!("{error:?}"), format!("{client:?}")] {
        assert!(!shown.contains(wrong) && !shown.contains(API_KEY), "{shown}");
    }
}

#[tokio::test]
async fn a_422_names_the_unknown_event_types() {
    let stand_in = StandIn::start();
    let new = NewWebhook::with_event_names("https://example.com/h", names(&["email.sent", "lead.deleted", "x.y"]));
    let error = client(&stand_in).create(&new).await.expect_err("refused");
    let ApiError::Rejected { unknown_events, message } = &error else { panic!("{error:?}") };
    assert_eq!(unknown_events, &names(&["lead.deleted", "x.y"]));
    assert_eq!(message.as_deref(), Some("Unknown event type; Unknown event type"));
    assert!(error.to_string().contains("unknown event types: lead.deleted, x.y"), "{error}");
    assert!(stand_in.ids().is_empty());
}

#[tokio::test]
async fn a_429_is_waited_out_then_retried() {
    let limit = RateLimit { after: 0, times: 1, retry_after: Some("1") };
    let stand_in = StandIn::with(|state| state.rate_limit = Some(limit));
    let started = Instant::now();
    let offered = client(&stand_in).event_types().await.expect("answered after the wait");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited Retry-After: {:?}", started.elapsed());
    assert_eq!((offered.len(), stand_in.request_count()), (11, 2));
}

#[tokio::test]
async fn a_429_past_the_retries_is_an_error_carrying_the_delay() {
    let limit = RateLimit { after: 0, times: 10, retry_after: Some("0") };
    let stand_in = StandIn::with(|state| state.rate_limit = Some(limit));
    let client = client_for(&stand_in.base_url, API_KEY, |builder| builder.max_retries(2));
    let error = client.list().await.expect_err("still limited");
    assert!(
        matches!(error, ApiError::RateLimited { retry_after: Some(delay), attempts: 3 } if delay.is_zero()),
        "{error:?}"
    );
    assert_eq!(stand_in.request_count(), 3);
}

#[tokio::test]
async fn a_429_asking_longer_than_the_bound_returns_at_once() {
    for (retry_after, expected) in [(Some("120"), Some(Duration::from_secs(120))), (None, None)] {
        let limit = RateLimit { after: 0, times: 10, retry_after };
        let stand_in = StandIn::with(|state| state.rate_limit = Some(limit));
        let client = client_for(&stand_in.base_url, API_KEY, |builder| builder.max_retry_wait(Duration::from_secs(30)));
        let started = Instant::now();
        let error = client.event_types().await.expect_err("limited");
        assert!(started.elapsed() < Duration::from_secs(1), "no wait: {:?}", started.elapsed());
        assert!(
            matches!(error, ApiError::RateLimited { retry_after, attempts: 1 } if retry_after == expected),
            "{error:?}"
        );
        assert!(error.to_string().contains("try again in"), "{error}");
        assert_eq!(stand_in.request_count(), 1);
    }
}

#[tokio::test]
async fn nothing_listening_is_a_network_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("binds").local_addr().expect("an address").port();
    let client = client_for(&format!("http://127.0.0.1:{port}/api/v1"), API_KEY, |builder| builder);
    let error = client.list().await.expect_err("nothing there");
    let ApiError::Network(network) = &error else { panic!("{error:?}") };
    assert!(network.is_connect(), "{network}");
    assert!(error.to_string().starts_with("cannot reach FoxReach: "), "{error}");
    assert!(!format!("{error:?}").contains(API_KEY));
}

#[tokio::test]
async fn a_silent_server_is_a_timeout() {
    let base_url = raw_server(None);
    let client = client_for(&base_url, API_KEY, |builder| builder.timeout(Duration::from_millis(300)));
    let error = client.list().await.expect_err("no answer");
    assert!(matches!(error, ApiError::Timeout { after } if after == Duration::from_millis(300)), "{error:?}");
}

#[tokio::test]
async fn an_answer_off_the_contract_is_a_body_error_naming_the_field() {
    let base_url = raw_server(Some(answer_201(r#"{"data": [{"id": "cwh_1", "url": 5}]}"#)));
    let error = client_for(&base_url, API_KEY, |builder| builder).list().await.expect_err("url is not a string");
    let ApiError::Body { status: 201, reason } = &error else { panic!("{error:?}") };
    assert!(reason.starts_with("at `data[0].url`: invalid type"), "{reason}");
}

#[tokio::test]
async fn a_creation_without_a_secret_names_the_webhook_to_delete() {
    let body = r#"{"data": {"id": "cwh_9", "url": "https://example.com/h", "isActive": true, "events": [],
        "consecutiveFailures": 0, "createdAt": "2025-01-15T10:00:00", "updatedAt": "2025-01-15T10:00:00"}}"#;
    let base_url = raw_server(Some(answer_201(body)));
    let new = NewWebhook::new("https://example.com/h", [EventType::LeadCreated]);
    let error = client_for(&base_url, API_KEY, |builder| builder).create(&new).await.expect_err("no secret");
    assert!(matches!(&error, ApiError::MissingSecret { webhook_id } if webhook_id == "cwh_9"), "{error:?}");
}

#[test]
fn the_secret_file_is_new_owner_only_and_read_back_whole() {
    use foxreach_api::{SecretFile, WebhookSecret};
    let folder = folder::Folder::new("api-secret");
    let path = folder.file("webhook.secret");
    let secret = WebhookSecret::new("a1b2c3-the-secret");
    secret.write_new_file(&path).expect("written");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "a1b2c3-the-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let refused = WebhookSecret::new("another").write_new_file(&path).expect_err("never overwritten");
    assert_eq!(refused.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "a1b2c3-the-secret");

    std::fs::write(folder.0.join("edited"), "a1b2c3-the-secret\n").expect("written");
    assert_eq!(WebhookSecret::read_file(folder.0.join("edited")).expect("read").expose(), "a1b2c3-the-secret");
    std::fs::write(folder.0.join("blank"), " \n").expect("written");
    let blank = WebhookSecret::read_file(folder.0.join("blank")).expect_err("empty");
    assert_eq!(blank.kind(), std::io::ErrorKind::InvalidData);

    let unused = folder.0.join("unused.secret");
    drop(SecretFile::create_new(&unused).expect("created"));
    assert!(!unused.exists(), "a secret file never written is removed");
}

/// The stand-in's answer status to a request sent by hand, outside the client.
fn status_of(stand_in: &StandIn, method: &str, path: &str, body: &str) -> u16 {
    let address = stand_in.base_url.trim_start_matches("http://").split('/').next().expect("an address");
    let mut stream = std::net::TcpStream::connect(address).expect("connects");
    let request = format!(
        "{method} /api/v1{path} HTTP/1.1\r\nhost: {address}\r\nx-api-key: {API_KEY}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    answer.split(' ').nth(1).and_then(|status| status.parse().ok()).expect("a status line")
}

#[test]
fn the_stand_in_holds_patch_and_delete_to_the_contract() {
    let stand_in = StandIn::start();
    let id = stand_in.seed("https://example.com/h", &["email.sent"], 0, None);
    let path = format!("/webhooks/{id}");
    for refused in
        [r#"{"is_active":false}"#, r#"{"isActive":"false"}"#, r#"{"secret":"x"}"#, "[]", r#"{"events":["x"]}"#]
    {
        assert_eq!(status_of(&stand_in, "PATCH", &path, refused), 422, "{refused}");
    }
    assert_eq!(stand_in.state().webhooks[0].json["isActive"], true, "nothing changed");
    assert_eq!(status_of(&stand_in, "DELETE", &path, "{}"), 400, "a DELETE carries no body");
    assert_eq!(status_of(&stand_in, "PATCH", &path, r#"{"isActive":false}"#), 200);
    assert_eq!(status_of(&stand_in, "DELETE", &path, ""), 204);
    assert!(stand_in.ids().is_empty());
}
