//! `http::server::Server` over real loopback sockets: clients that send
//! nothing, trickle their headers or idle between requests are closed;
//! at the connection limit the idlest connection makes room, or the new one
//! is answered 503 when all are busy; shutdown closes idle connections at
//! once, lets answers in flight finish, and closes the rest at its deadline.
//!
//! Timeouts here are short and every wait for a close is bounded by a much
//! longer one: a server without the bound keeps the connection open, and
//! the test fails.

#[cfg(feature = "metrics")]
#[path = "support/recorder.rs"]
#[allow(dead_code)] // the gauges are not needed here
mod recorder;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use foxreach_webhooks::http::server::{Server, Stopped};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// How long a test waits for something that should happen much sooner.
const PATIENCE: Duration = Duration::from_secs(5);

/// A body far bigger than the sockets' buffers.
const BIG: usize = 32 << 20;

const GET_FAST: &[u8] = b"GET /fast HTTP/1.1\r\nhost: test\r\n\r\n";
const GET_HELD: &[u8] = b"GET /held HTTP/1.1\r\nhost: test\r\n\r\n";

/// A server running the test app: `/fast` answers at once, `/held` when
/// `release` is notified, `/never` never.
struct Running {
    addr: SocketAddr,
    release: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Stopped>,
}

impl Running {
    async fn start(server: Server) -> Self {
        let release = Arc::new(Notify::new());
        let held = release.clone();
        let app = Router::new()
            .route("/fast", get(|| async { "fast" }))
            .route(
                "/held",
                get(move || async move {
                    held.notified().await;
                    "held"
                }),
            )
            .route("/never", get(std::future::pending::<&'static str>))
            .route("/big", get(|| async { vec![b'x'; BIG] }));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let (stop, stopped) = oneshot::channel();
        let task =
            tokio::spawn(async move { server.serve(listener, app, async move { stopped.await.unwrap_or(()) }).await });
        Self { addr, release, stop: Some(stop), task }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("the server accepts")
    }

    /// Begins the shutdown; `stopped` waits for its end.
    fn shut_down(&mut self) {
        let _ = self.stop.take().expect("not shut down yet").send(());
    }

    async fn stopped(self) -> Stopped {
        tokio::time::timeout(PATIENCE, self.task).await.expect("serve returns").expect("serve does not panic")
    }
}

/// Everything the server sends until it closes the connection; fails the
/// test if it does not close within [`PATIENCE`].
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    String::from_utf8_lossy(&received).into_owned()
}

/// One answer's head and body (the app's bodies are a word each).
async fn answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    while !String::from_utf8_lossy(&received).ends_with("fast") && !String::from_utf8_lossy(&received).ends_with("held")
    {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .expect("the connection stays open");
        assert!(n > 0, "the connection closed before answering: {:?}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

fn short_header_timeout() -> Server {
    Server::new().header_read_timeout(Duration::from_millis(200)).idle_timeout(Duration::from_secs(60))
}

/// Writes a head that never ends, a byte every 20 ms; `true` once the server closed the connection.
async fn trickle_until_closed(stream: &mut TcpStream) -> bool {
    let head = b"GET /fast HTTP/1.1\r\nx-padding: ".iter().chain(std::iter::repeat(&b'a'));
    let trickle = async {
        for byte in head {
            if stream.write_all(&[*byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    };
    tokio::time::timeout(PATIENCE, trickle).await.unwrap_or(false)
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_closed_at_the_header_timeout() {
    let running = Running::start(short_header_timeout()).await;
    let mut silent = running.connect().await;
    assert_eq!(until_closed(&mut silent).await, "", "closed without an answer");
}

#[tokio::test]
async fn headers_trickled_a_byte_at_a_time_are_cut_at_the_header_timeout() {
    let running = Running::start(short_header_timeout()).await;
    let mut slow = running.connect().await;
    // Bytes keep coming, so only the header timeout can end it.
    assert!(trickle_until_closed(&mut slow).await, "the server closes a trickling client");
}

#[tokio::test]
async fn a_kept_alive_connection_trickling_its_next_head_is_cut_at_the_header_timeout() {
    // The idle timeout is far beyond the test: only the header timeout can end it.
    let running = Running::start(short_header_timeout()).await;
    let mut client = running.connect().await;
    client.write_all(GET_FAST).await.expect("sent");
    assert!(answer(&mut client).await.starts_with("HTTP/1.1 200"));
    assert!(trickle_until_closed(&mut client).await, "the server closes a trickling kept-alive client");
}

#[tokio::test]
async fn a_kept_alive_connection_waits_the_idle_timeout_not_the_header_timeout() {
    let server = Server::new().header_read_timeout(Duration::from_millis(200)).idle_timeout(Duration::from_millis(800));
    let running = Running::start(server).await;
    let mut client = running.connect().await;
    client.write_all(GET_FAST).await.expect("sent");
    assert!(answer(&mut client).await.starts_with("HTTP/1.1 200"));
    // Longer than the header timeout, well under the idle one: still open.
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.write_all(GET_FAST).await.expect("sent");
    assert!(answer(&mut client).await.starts_with("HTTP/1.1 200"));
    // Then idle past the idle timeout: closed, without an answer.
    assert_eq!(until_closed(&mut client).await, "");
}

#[tokio::test]
async fn at_the_limit_the_idlest_connection_makes_room() {
    let running = Running::start(Server::new().max_connections(2)).await;
    let mut oldest = running.connect().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut newer = running.connect().await;
    newer.write_all(b"GET /fa").await.expect("sent"); // a head begun, not finished
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = running.connect().await;
    third.write_all(GET_FAST).await.expect("sent");
    assert!(answer(&mut third).await.starts_with("HTTP/1.1 200"), "the new connection is served");
    assert_eq!(until_closed(&mut oldest).await, "", "the idlest one was closed");
    // The half-sent head is still served once it is finished.
    newer.write_all(b"st HTTP/1.1\r\nhost: test\r\n\r\n").await.expect("sent");
    assert!(answer(&mut newer).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn past_the_limit_with_every_connection_busy_a_new_one_gets_503() {
    let running = Running::start(Server::new().max_connections(1)).await;
    let mut busy = running.connect().await;
    busy.write_all(GET_HELD).await.expect("sent");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut refused = running.connect().await;
    refused.write_all(GET_FAST).await.expect("sent");
    let refusal = until_closed(&mut refused).await;
    assert!(refusal.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{refusal}");
    assert!(refusal.contains("\r\nretry-after: 1\r\n") && refusal.contains("\r\nconnection: close\r\n"), "{refusal}");
    assert!(refusal.ends_with("try again in a moment"), "{refusal}");
    running.release.notify_one();
    assert!(answer(&mut busy).await.starts_with("HTTP/1.1 200"), "the busy connection still gets its answer");
}

#[tokio::test]
async fn shutdown_closes_idle_connections_at_once_and_answers_requests_in_flight() {
    // Timeouts far beyond the test: only the shutdown can close these.
    let server = Server::new().header_read_timeout(Duration::from_secs(60)).shutdown_deadline(Duration::from_secs(60));
    let mut running = Running::start(server).await;
    let mut idle = running.connect().await;
    let mut half_sent = running.connect().await;
    half_sent.write_all(b"GET /fast HTTP/1.1\r\nho").await.expect("sent");
    let mut in_flight = running.connect().await;
    in_flight.write_all(GET_HELD).await.expect("sent");
    tokio::time::sleep(Duration::from_millis(100)).await;

    running.shut_down();
    assert_eq!(until_closed(&mut idle).await, "");
    assert_eq!(until_closed(&mut half_sent).await, "");
    // New connections are refused once the listener is closed.
    tokio::time::timeout(PATIENCE, async {
        while TcpStream::connect(running.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the listener closes");
    running.release.notify_one();
    let answered = until_closed(&mut in_flight).await;
    assert!(answered.starts_with("HTTP/1.1 200") && answered.ends_with("held"), "{answered}");
    assert_eq!(running.stopped().await.closed_at_deadline, 0);
}

#[tokio::test]
async fn at_shutdown_kept_alive_connections_idle_or_trickling_their_next_head_close_at_once() {
    let server = Server::new().header_read_timeout(Duration::from_secs(60)).shutdown_deadline(Duration::from_secs(60));
    let mut running = Running::start(server).await;
    let mut idle = running.connect().await;
    let mut trickling = running.connect().await;
    for client in [&mut idle, &mut trickling] {
        client.write_all(GET_FAST).await.expect("sent");
        assert!(answer(client).await.starts_with("HTTP/1.1 200"));
    }
    trickling.write_all(b"GET /fast HTTP/1.1\r\nho").await.expect("sent");
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.shut_down();
    assert_eq!(until_closed(&mut idle).await, "");
    assert_eq!(until_closed(&mut trickling).await, "");
    assert_eq!(running.stopped().await.closed_at_deadline, 0);
}

#[tokio::test]
async fn a_request_in_flight_past_the_request_timeout_is_dropped() {
    let running = Running::start(Server::new().request_timeout(Duration::from_millis(200))).await;
    let mut stuck = running.connect().await;
    stuck.write_all(b"GET /never HTTP/1.1\r\nhost: test\r\n\r\n").await.expect("sent");
    assert_eq!(until_closed(&mut stuck).await, "", "dropped without an answer");
    // The server goes on serving.
    let mut next = running.connect().await;
    next.write_all(GET_FAST).await.expect("sent");
    assert!(answer(&mut next).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn timeouts_of_duration_max_mean_none_and_do_not_overflow() {
    let server = Server::new()
        .header_read_timeout(Duration::MAX)
        .idle_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .shutdown_deadline(Duration::MAX);
    let mut running = Running::start(server).await;
    let mut client = running.connect().await;
    for _ in 0..2 {
        client.write_all(GET_FAST).await.expect("sent");
        assert!(answer(&mut client).await.starts_with("HTTP/1.1 200"));
    }
    running.shut_down();
    assert_eq!(until_closed(&mut client).await, "", "idle: closed at shutdown");
    assert_eq!(running.stopped().await.closed_at_deadline, 0);
}

#[tokio::test]
async fn a_connection_asked_to_close_whose_client_reads_nothing_is_dropped_an_idle_timeout_later() {
    let server = Server::new().idle_timeout(Duration::from_millis(300)).max_connections(1);
    let running = Running::start(server).await;
    let mut not_reading = running.connect().await;
    not_reading.write_all(b"GET /big HTTP/1.1\r\nhost: test\r\n\r\n").await.expect("sent");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Its answer is ready, only not read: it makes room, then never finishes.
    let mut next = running.connect().await;
    next.write_all(GET_FAST).await.expect("sent");
    assert!(answer(&mut next).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = until_closed(&mut not_reading).await;
    assert!(received.starts_with("HTTP/1.1 200"), "the answer was begun");
    assert!(received.len() < BIG, "dropped before the whole answer went out: {} bytes", received.len());
}

#[tokio::test]
async fn connections_still_busy_at_the_shutdown_deadline_are_closed() {
    let mut running = Running::start(Server::new().shutdown_deadline(Duration::from_millis(200))).await;
    let mut stuck = running.connect().await;
    stuck.write_all(b"GET /never HTTP/1.1\r\nhost: test\r\n\r\n").await.expect("sent");
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.shut_down();
    assert_eq!(until_closed(&mut stuck).await, "", "closed without an answer");
    let stopped = running.stopped().await;
    assert_eq!(stopped.closed_at_deadline, 1);
}

/// Each connection the server closes itself is counted, by reason.
#[cfg(feature = "metrics")]
#[test]
fn closed_connections_are_counted_by_reason() {
    use recorder::{expect, recorded, with_recorder};
    with_recorder(async |snapshotter| {
        let server = short_header_timeout().max_connections(1);
        let running = Running::start(server).await;
        let mut silent = running.connect().await;
        until_closed(&mut silent).await;
        let mut busy = running.connect().await;
        busy.write_all(GET_HELD).await.expect("sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut refused = running.connect().await;
        until_closed(&mut refused).await;
        let mut waiting = running.connect().await; // at the limit again: evicts nothing busy, refused too
        until_closed(&mut waiting).await;
        running.release.notify_one();
        assert!(answer(&mut busy).await.starts_with("HTTP/1.1 200"));
        let mut next = running.connect().await; // the idle kept-alive `busy` makes room
        next.write_all(GET_FAST).await.expect("sent");
        assert!(answer(&mut next).await.starts_with("HTTP/1.1 200"));
        assert_eq!(
            recorded(&snapshotter),
            expect(&[
                ("foxreach_webhooks_connections_closed_total{reason=header_timeout}", 1),
                ("foxreach_webhooks_connections_closed_total{reason=refused}", 2),
                ("foxreach_webhooks_connections_closed_total{reason=evicted}", 1),
            ])
        );
    });
}
