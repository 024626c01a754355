//! Hostile input against a running receiver, for `.ci/hostile`:
//!
//! ```text
//! hostile <URL> <receiver PID> <request timeout in ms>
//! ```
//!
//! 1 GiB bodies with and without `Content-Length`, a body of exactly the
//! limit and one byte more, a trickled body, abused signature headers and
//! 1,000 forged deliveries; then the receiver's peak memory (`VmHWM`).
//! Prints one line per check and exits non-zero if any failed.

mod common;

use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use foxreach_webhooks::http::DEFAULT_BODY_LIMIT;
use foxreach_webhooks::{SIGNATURE_HEADER, sign};
use http::{HeaderValue, Request, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A body of `prefix` followed by spaces up to `len` bytes, made as it is
/// read, 64 KiB at a time; its length is announced only when `announce` is
/// set (otherwise it goes chunked).
struct Streamed {
    prefix: Bytes,
    left: u64,
    announce: bool,
}

impl Streamed {
    fn new(prefix: &[u8], len: u64, announce: bool) -> Self {
        Self { prefix: Bytes::copy_from_slice(prefix), left: len, announce }
    }
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        const CHUNK: u64 = 64 * 1024;
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let size = self.left.min(CHUNK);
        self.left -= size;
        let take = self.prefix.len().min(size as usize);
        let mut chunk = self.prefix.split_to(take).to_vec();
        chunk.resize(size as usize, b' ');
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn size_hint(&self) -> SizeHint {
        if self.announce { SizeHint::with_exact(self.left) } else { SizeHint::default() }
    }
}

struct Probe {
    url: String,
    failures: usize,
}

impl Probe {
    fn check(&mut self, what: &str, ok: bool, detail: String) {
        println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
        self.failures += usize::from(!ok);
    }

    fn post(&self, signatures: &[&[u8]]) -> http::request::Builder {
        let mut request = Request::post(&self.url).header(header::CONTENT_TYPE, "application/json");
        for signature in signatures {
            request = request.header(SIGNATURE_HEADER, HeaderValue::from_bytes(signature).expect("a header value"));
        }
        request
    }
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, pid, timeout_ms] = args.as_slice() else {
        eprintln!("usage: hostile <URL> <receiver PID> <request timeout in ms>");
        return Ok(ExitCode::from(2));
    };
    let timeout = Duration::from_millis(timeout_ms.parse()?);
    let secret = common::secret();
    let mut probe = Probe { url: url.clone(), failures: 0 };
    let streamed: Client<HttpConnector, Streamed> = Client::builder(TokioExecutor::new()).build_http();
    let small: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let zeros = "0".repeat(64);

    // A client library gives up when its write fails, so a body announced
    // with Content-Length is sent over a raw connection that reads the answer
    // while it writes.
    let gib = 1u64 << 30;
    let (status, elapsed) = announced(url, zeros.as_bytes(), b"", gib).await?;
    let ok = status.starts_with("HTTP/1.1 413") && elapsed < Duration::from_secs(1);
    probe.check("1 GiB body with Content-Length", ok, format!("{status:?} in {elapsed:?}"));
    let started = Instant::now();
    let response = streamed.request(probe.post(&[zeros.as_bytes()]).body(Streamed::new(b"", gib, false))?).await;
    let (elapsed, status) = (started.elapsed(), response.map(|response| response.status()));
    let ok = matches!(status, Ok(StatusCode::PAYLOAD_TOO_LARGE)) && elapsed < Duration::from_secs(1);
    probe.check("1 GiB body chunked", ok, format!("{status:?} in {elapsed:?}"));

    let event = include_bytes!("../tests/fixtures/payloads/email.sent.json");
    for (len, want) in
        [(DEFAULT_BODY_LIMIT, StatusCode::NO_CONTENT), (DEFAULT_BODY_LIMIT + 1, StatusCode::PAYLOAD_TOO_LARGE)]
    {
        // The event padded with trailing spaces, which is still the same JSON.
        let mut body = event.to_vec();
        body.resize(len, b' ');
        let signature = sign(&secret, &body);
        let (status, _) = announced(url, signature.as_bytes(), &body, len as u64).await?;
        probe.check(
            &format!("{len}-byte body with Content-Length"),
            status.starts_with(&format!("HTTP/1.1 {}", want.as_u16())),
            status,
        );
        let request = probe.post(&[signature.as_bytes()]).body(Streamed::new(event, len as u64, false))?;
        let status = streamed.request(request).await.map(|response| response.status());
        probe.check(&format!("{len}-byte body chunked"), matches!(status, Ok(s) if s == want), format!("{status:?}"));
    }

    let trickle = trickled(url, timeout).await?;
    probe.check("a body trickled after its first bytes", trickle.0, trickle.1);

    let body = Bytes::from_static(event);
    let good = sign(&secret, &body);
    let abuse: [(&str, Vec<&[u8]>); 4] = [
        ("two signature headers", vec![good.as_bytes(), good.as_bytes()]),
        ("8 KiB of junk in the header", vec![&[b'j'; 8192]]),
        ("non-ASCII bytes in the header", vec![&[0xe2, 0x82, 0xac, 0xff, 0xfe]]),
        ("an empty header", vec![b""]),
    ];
    for (what, signatures) in abuse {
        let status = small.request(probe.post(&signatures).body(Full::from(body.clone()))?).await?.status();
        probe.check(what, status == StatusCode::UNAUTHORIZED, format!("{status}"));
    }

    let forged = sign("not-the-secret", &body);
    let mut refused = 0;
    for _ in 0..1000 {
        let status = small.request(probe.post(&[forged.as_bytes()]).body(Full::from(body.clone()))?).await?.status();
        refused += usize::from(status == StatusCode::UNAUTHORIZED);
    }
    probe.check("1,000 forged deliveries", refused == 1000, format!("{refused} refused with 401"));

    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmHWM in /proc/PID/status")?;
    probe.check("receiver peak memory (VmHWM)", peak_kib < 32 * 1024, format!("{:.1} MiB", peak_kib as f64 / 1024.0));

    Ok(if probe.failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Sends `len` bytes (`prefix`, then spaces) with `Content-Length` over a raw
/// connection, writing while it waits for the answer; returns the status line
/// and how long it took to come.
async fn announced(
    url: &str,
    signature: &[u8],
    prefix: &[u8],
    len: u64,
) -> Result<(String, Duration), Box<dyn std::error::Error>> {
    let uri: http::Uri = url.parse()?;
    let authority = uri.authority().ok_or("the URL has no host")?.as_str().to_owned();
    let stream = tokio::net::TcpStream::connect(&authority).await?;
    let (mut reader, mut writer) = stream.into_split();
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n{SIGNATURE_HEADER}: ",
        uri.path()
    )
    .into_bytes();
    head.extend_from_slice(signature);
    head.extend_from_slice(b"\r\n\r\n");
    let started = Instant::now();
    let mut body = Streamed::new(prefix, len, true);
    // The write side stays open until the answer is read: closing it would
    // end the request early (hyper closes half-closed connections).
    let write = async {
        let mut result = writer.write_all(&head).await;
        while let (Ok(()), Some(Ok(frame))) =
            (&result, std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await)
        {
            if let Ok(data) = frame.into_data() {
                result = writer.write_all(&data).await;
            }
        }
        std::future::pending::<()>().await
    };
    let read = async {
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => answer.extend_from_slice(&buffer[..read]),
            }
        }
        answer
    };
    let answer = tokio::select! {
        answer = tokio::time::timeout(Duration::from_secs(10), read) => answer.unwrap_or_default(),
        () = write => unreachable!("writing never ends by itself"),
    };
    let elapsed = started.elapsed();
    let status = String::from_utf8_lossy(&answer).lines().next().unwrap_or("no answer").to_owned();
    Ok((status, elapsed))
}

/// Sends the headers of a 1,000-byte body and 10 bytes of it, then nothing:
/// the receiver must answer `408` (or close) within its timeout, plus slack.
async fn trickled(url: &str, timeout: Duration) -> Result<(bool, String), Box<dyn std::error::Error>> {
    let uri: http::Uri = url.parse()?;
    let authority = uri.authority().ok_or("the URL has no host")?.as_str();
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n{SIGNATURE_HEADER}: {}\r\n\r\n{{\"event\":",
        uri.path(),
        "0".repeat(64)
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(timeout + Duration::from_secs(2), stream.read_to_end(&mut answer)).await;
    let elapsed = started.elapsed();
    let first_line = String::from_utf8_lossy(&answer).lines().next().unwrap_or("").to_owned();
    Ok(match read {
        Ok(_) if first_line.starts_with("HTTP/1.1 408") => (true, format!("{first_line} after {elapsed:?}")),
        Ok(_) if answer.is_empty() => (true, format!("connection closed after {elapsed:?}")),
        Ok(_) => (false, format!("answered {first_line:?} after {elapsed:?}")),
        Err(_) => (false, format!("still open after {elapsed:?}")),
    })
}
