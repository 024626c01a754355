//! Real HTTP over loopback TCP: axum::serve and plain hyper, with a hyper client.
#![cfg(all(feature = "axum", feature = "tower", feature = "test-util"))]

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;
use foxreach_webhooks::http::axum::FoxReachEvent;
use foxreach_webhooks::http::tower::{RequestBody, VerifySignatureLayer};
use foxreach_webhooks::{Event, EventData, Verifier};
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::{PATH, compact, fixtures, numbered_event, signed, signed_with, verifier};
use tokio::net::{TcpListener, TcpStream};
use tower::Layer;

#[derive(Clone)]
struct AppState {
    verifier: Verifier,
    handled: Arc<AtomicUsize>,
}

impl axum::extract::FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Verifier {
        state.verifier.clone()
    }
}

/// Counts each event and answers with its name and main id.
async fn receive(State(state): State<AppState>, FoxReachEvent(event): FoxReachEvent) -> String {
    state.handled.fetch_add(1, Ordering::SeqCst);
    let id = match &event.data {
        EventData::LeadCreated(lead) => lead.lead_id.clone(),
        _ => String::new(),
    };
    format!("{} {id}", event.name())
}

/// Serves the app on a free loopback port; returns its address and event counter.
async fn serve_axum() -> (SocketAddr, Arc<AtomicUsize>) {
    let handled = Arc::new(AtomicUsize::new(0));
    let state = AppState { verifier: verifier(), handled: handled.clone() };
    let app = Router::new().route(PATH, post(receive)).with_state(state);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the server runs") });
    (addr, handled)
}

fn client<B>() -> Client<hyper_util::client::legacy::connect::HttpConnector, B>
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Client::builder(TokioExecutor::new()).build_http()
}

fn at<B>(addr: SocketAddr, mut request: Request<B>) -> Request<B> {
    *request.uri_mut() = format!("http://{addr}{PATH}").parse().expect("a URI");
    request
}

async fn text(response: Response<hyper::body::Incoming>) -> (StatusCode, String) {
    let status = response.status();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
}

#[tokio::test]
async fn every_fixture_pretty_and_compact_is_accepted_over_tcp() {
    let (addr, handled) = serve_axum().await;
    let client = client();
    for (name, pretty) in fixtures() {
        for body in [pretty.to_vec(), compact(pretty)] {
            let (status, text) = text(client.request(at(addr, signed(body))).await.expect("a response")).await;
            assert_eq!(status, StatusCode::OK, "{name}: {text}");
            assert!(text.starts_with(name), "{name}: {text}");
        }
    }
    let forged = client.request(at(addr, signed_with("forger", fixtures()[0].1))).await.expect("a response");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(handled.load(Ordering::SeqCst), 22, "the forged request never reached the handler");
}

#[tokio::test]
async fn many_requests_share_one_kept_alive_connection() {
    let (addr, handled) = serve_axum().await;
    let stream = TcpStream::connect(addr).await.expect("connects");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("HTTP/1.1");
    tokio::spawn(connection);
    for n in 0..200 {
        let (lead, body) = numbered_event(n);
        let request = at(addr, signed(body));
        let (status, text) = text(sender.send_request(request).await.expect("the connection stays open")).await;
        assert_eq!((status, text), (StatusCode::OK, format!("lead.created {lead}")));
    }
    assert_eq!(handled.load(Ordering::SeqCst), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_deliveries_are_each_answered_once_and_correctly() {
    let (addr, handled) = serve_axum().await;
    let client = client();
    let tasks: Vec<_> = (0..1000)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                let (lead, body) = numbered_event(n);
                let response = client.request(at(addr, signed(body))).await.expect("a response");
                (lead, text(response).await)
            })
        })
        .collect();
    for task in tasks {
        let (lead, (status, text)) = task.await.expect("the task ran");
        assert_eq!((status, text), (StatusCode::OK, format!("lead.created {lead}")));
    }
    assert_eq!(handled.load(Ordering::SeqCst), 1000, "none lost, none handled twice");
}

/// The layer around a plain hyper service: no axum involved.
async fn serve_hyper() -> SocketAddr {
    let service =
        VerifySignatureLayer::new(verifier()).layer(tower::service_fn(|request: Request<RequestBody>| async move {
            let event = request.extensions().get::<Event>().expect("the layer parsed it");
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(event.name().to_owned()))))
        }));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accepts");
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    addr
}

#[tokio::test]
async fn the_layer_serves_plain_hyper() {
    let addr = serve_hyper().await;
    let client = client();
    for (name, body) in fixtures() {
        let (status, text) = text(client.request(at(addr, signed(body))).await.expect("a response")).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, name));
    }
    let (status, text) =
        text(client.request(at(addr, signed_with("forger", fixtures()[0].1))).await.expect("a response")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(text.contains("does not match"), "{text}");
}
