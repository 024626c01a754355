//! Hostile input against a running receiver, for `.ci/hostile`, signed with
//! `FOXREACH_WEBHOOK_SECRET`:
//!
//! ```text
//! hostile <URL> <receiver PID> <request timeout in ms>
//! ```
//!
//! 1 GiB bodies with and without `Content-Length`, a body of exactly the
//! limit and one byte more, a trickled body, abused signature headers and
//! 1,000 forged deliveries; then the receiver's peak memory (`VmHWM`).
//! Prints one line per check and exits non-zero if any failed.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use foxreach_webhooks::http::DEFAULT_BODY_LIMIT;
use foxreach_webhooks::{SIGNATURE_HEADER, sign};
use foxreach_webhooks_harness::{raw, secret};
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

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
    let secret = secret()?;
    let mut probe = Probe { url: url.clone(), failures: 0 };
    let small: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let uri: http::Uri = url.parse()?;
    let (authority, path) = (uri.authority().ok_or("the URL has no host")?.as_str(), uri.path());
    let headers =
        |signature: &str| vec![format!("{SIGNATURE_HEADER}: {signature}"), "Content-Type: application/json".to_owned()];
    let zeros = "0".repeat(64);

    // Over a raw connection that reads the answer while it writes: a client
    // library gives up at its first failed write, before reading the 413.
    let gib = 1u64 << 30;
    for (how, length) in [("with Content-Length", Some(gib)), ("chunked", None)] {
        let (status, elapsed) =
            raw::post(authority, path, &headers(&zeros), length, raw::spaces_after(b"", gib)).await?;
        let ok = status.starts_with("HTTP/1.1 413") && elapsed < Duration::from_secs(1);
        probe.check(&format!("1 GiB body {how}"), ok, format!("{status:?} in {elapsed:?}"));
    }

    let event = include_bytes!("../../../tests/fixtures/payloads/email.sent.json");
    // Sent twice at the limit: the second copy is a duplicate, 200 rather than 204.
    for (len, want) in [(DEFAULT_BODY_LIMIT as u64, "2"), (DEFAULT_BODY_LIMIT as u64 + 1, "413")] {
        // The event padded with trailing spaces, which is still the same JSON.
        let body: Vec<u8> = raw::spaces_after(event, len).flatten().collect();
        let signature = sign(&secret, &body);
        for (how, length) in [("with Content-Length", Some(len)), ("chunked", None)] {
            let (status, _) =
                raw::post(authority, path, &headers(&signature), length, raw::spaces_after(event, len)).await?;
            probe.check(&format!("{len}-byte body {how}"), status.starts_with(&format!("HTTP/1.1 {want}")), status);
        }
    }

    // 1,000 bytes announced, 9 sent, then nothing: the receiver must answer
    // 408 (or close) within its timeout, plus slack.
    let first_bytes = std::iter::once(br#"{"event":"#.to_vec());
    let (status, elapsed) = raw::post(authority, path, &headers(&zeros), Some(1000), first_bytes).await?;
    let answered = status.starts_with("HTTP/1.1 408") || status.is_empty();
    let ok = answered && elapsed < timeout + Duration::from_secs(2);
    probe.check("a body trickled after its first bytes", ok, format!("{status:?} after {elapsed:?}"));

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
