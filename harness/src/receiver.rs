//! A running receiver as the harnesses drive it: signed deliveries and GETs
//! over HTTP, clients that send nothing or trickle their headers, and the
//! receiver's open file descriptors.

use std::time::{Duration, Instant};

use bytes::Bytes;
use foxreach_webhooks::{SIGNATURE_HEADER, sign};
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::secret;

type BoxError = Box<dyn std::error::Error>;

/// The receiver at a webhook URL, and the secret deliveries are signed with
/// (`Debug` shows the URL only).
pub struct Receiver {
    url: String,
    base: String,
    /// `host:port`, for raw connections.
    pub authority: String,
    client: Client<HttpConnector, Full<Bytes>>,
    secret: String,
}

impl Receiver {
    /// The receiver whose webhook URL is `url`, signing with `FOXREACH_WEBHOOK_SECRET`.
    ///
    /// # Errors
    ///
    /// If the URL has no host or the secret is not set.
    pub fn new(url: &str) -> Result<Self, BoxError> {
        let uri: http::Uri = url.parse()?;
        let authority = uri.authority().ok_or("the URL has no host")?.to_string();
        Ok(Self {
            url: url.to_owned(),
            base: format!("http://{authority}"),
            authority,
            client: Client::builder(TokioExecutor::new()).build_http(),
            secret: secret()?,
        })
    }

    /// A signed `lead.updated` delivery for `lead`: its status, whether it
    /// had `Retry-After`, and how long it took.
    ///
    /// # Errors
    ///
    /// If the request fails or takes more than 10 s.
    pub async fn deliver(&self, lead: &str) -> Result<(StatusCode, bool, Duration), BoxError> {
        let body =
            format!(r#"{{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{{"leadId":"{lead}"}}}}"#);
        let request = Request::post(&self.url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign(&self.secret, body.as_bytes()))
            .body(Full::from(body))?;
        let started = Instant::now();
        let response = tokio::time::timeout(Duration::from_secs(10), self.client.request(request)).await??;
        let retry_after = response.headers().contains_key(header::RETRY_AFTER);
        let status = response.status();
        response.into_body().collect().await?;
        Ok((status, retry_after, started.elapsed()))
    }

    /// A GET on `path`, on a connection of its own: its status.
    ///
    /// # Errors
    ///
    /// If the request fails or takes more than 10 s.
    pub async fn get(&self, path: &str) -> Result<StatusCode, BoxError> {
        let client: Client<HttpConnector, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let request = Request::get(format!("{}{path}", self.base)).body(Empty::new())?;
        Ok(tokio::time::timeout(Duration::from_secs(10), client.request(request)).await??.status())
    }
}

/// The open file descriptors of the process `pid` (0 if it cannot be read).
#[must_use]
pub fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// Connects to `authority`, trying up to three times 100 ms apart. Added
/// when one of 500 simultaneous connects failed in CI; the cause was the
/// example receivers' listen backlog of 128 (now 1,024), so the retry can
/// hide a backlog that is too small again: the check reports how many could
/// not connect, and removing the retry is left for a run that shows none.
async fn connect(authority: &str) -> Option<TcpStream> {
    for attempt in 0..3 {
        if let Ok(stream) = TcpStream::connect(authority).await {
            return Some(stream);
        }
        if attempt < 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    None
}

/// Holds a connection that sends nothing; resolves when the server closes it
/// (`None` if it could not connect).
pub async fn silent(authority: String) -> Option<Instant> {
    let mut stream = connect(&authority).await?;
    let mut buffer = [0; 64];
    while matches!(stream.read(&mut buffer).await, Ok(n) if n > 0) {}
    Some(Instant::now())
}

/// Sends a head that never ends, a byte every 0.5 s; resolves when the
/// server closes it (`None` if it could not connect).
pub async fn slow_header(authority: String) -> Option<Instant> {
    let mut stream = connect(&authority).await?;
    let head = format!("POST /webhooks/foxreach HTTP/1.1\r\nHost: {authority}\r\nX-Padding: ");
    for byte in head.bytes().chain(std::iter::repeat(b'a')) {
        if stream.write_all(&[byte]).await.is_err() {
            return Some(Instant::now());
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            read = stream.read_u8() => if read.is_err() { return Some(Instant::now()) },
        }
    }
    None
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").field("url", &self.url).finish_non_exhaustive()
    }
}
