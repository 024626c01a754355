//! What only a bare TCP client shows: a chunked body over the limit is
//! answered `413` while it is still being sent (a client library stops at
//! its first failed write, before it reads the answer).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use foxreach_webhooks::http::axum::FoxReachEvent;
use foxreach_webhooks::{SIGNATURE_HEADER, Verifier};
use foxreach_webhooks_harness::raw;
use tokio::net::TcpListener;

const PATH: &str = "/webhooks/foxreach";

#[derive(Clone)]
struct App {
    verifier: Verifier,
    handled: Arc<AtomicUsize>,
}

impl axum::extract::FromRef<App> for Verifier {
    fn from_ref(app: &App) -> Verifier {
        app.verifier.clone()
    }
}

async fn receive(State(app): State<App>, FoxReachEvent(_): FoxReachEvent) {
    app.handled.fetch_add(1, Ordering::SeqCst);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_over_tcp() {
    let handled = Arc::new(AtomicUsize::new(0));
    let app = App { verifier: Verifier::new("raw-tcp-secret").expect("not empty"), handled: Arc::clone(&handled) };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("bound");
    let router = Router::new().route(PATH, post(receive)).with_state(app);
    tokio::spawn(async move { axum::serve(listener, router).await.expect("the server runs") });

    // 2 MiB in 64 KiB chunks, sent chunked while the answer is read.
    let headers = [format!("{SIGNATURE_HEADER}: {}", "0".repeat(64))];
    let chunks = raw::spaces_after(b"", 2 * 1024 * 1024);
    let (status, _) = raw::post(&address.to_string(), PATH, &headers, None, chunks).await.expect("connects");
    assert!(status.starts_with("HTTP/1.1 413"), "{status:?}");
    assert_eq!(handled.load(Ordering::SeqCst), 0);
}
