//! Signs a FoxReach payload and POSTs it to a receiver, printing the answer:
//! the way to try your own endpoint locally.
//!
//! ```text
//! cargo run --example send -- [--forge] [URL] [FILE]
//! ```
//!
//! URL defaults to `http://127.0.0.1:$PORT/webhooks/foxreach` (PORT defaults
//! to 3000) and FILE to the docs' `email.sent` payload; a lone argument that
//! is not an `http://` or `https://` URL is the FILE. The secret comes from
//! `FOXREACH_WEBHOOK_SECRET` (the docs' demo secret when unset). `--forge`
//! signs with another secret, to see the receiver refuse it. The exit status
//! is 0 only for a 2xx answer.

mod common;

use std::process::ExitCode;

use bytes::Bytes;
use foxreach_webhooks::{SIGNATURE_HEADER, sign};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let forge = args.first().is_some_and(|arg| arg == "--forge");
    if forge {
        args.remove(0);
    }
    if args.first().is_some_and(|arg| !arg.starts_with("http://") && !arg.starts_with("https://")) {
        args.insert(0, format!("http://127.0.0.1:{}{}", common::port()?, common::ROUTE));
    }
    let url = match args.first() {
        Some(url) => url.clone(),
        None => format!("http://127.0.0.1:{}{}", common::port()?, common::ROUTE),
    };
    let body = match args.get(1) {
        Some(path) => std::fs::read(path)?,
        None => include_bytes!("../tests/fixtures/payloads/email.sent.json").to_vec(),
    };
    let secret = if forge { "not-the-webhook-secret".to_owned() } else { common::secret() };

    let request = Request::post(&url)
        .header(SIGNATURE_HEADER, sign(&secret, &body))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await?;
    let status = response.status();
    let text = response.into_body().collect().await?.to_bytes();
    println!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    if !text.is_empty() {
        println!("{}", String::from_utf8_lossy(&text));
    }
    Ok(if status.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
