//! `sign`, `send` and `verify`: FoxReach's side of a delivery and the
//! receiver's, to try an endpoint or a secret by hand.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use foxreach_webhooks::{SIGNATURE_HEADER, VerifyError};
use http::{Request, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use zeroize::Zeroizing;

use crate::Failure;
use crate::output::{self, Report};

/// The header as FoxReach's documentation spells it.
const HEADER_NAME: &str = "X-Webhook-Signature";

/// The example secret from FoxReach's documentation: never for real traffic.
const DEMO_SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";

/// Where the example receivers listen.
const DEFAULT_URL: &str = "http://127.0.0.1:3000/webhooks/foxreach";

/// The documentation's `email.sent` delivery.
const EMAIL_SENT: &[u8] = include_bytes!("email.sent.json");

/// How long `send` waits for the answer: FoxReach itself wants one within
/// 5 seconds.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of an answer `send` reads.
const MAX_ANSWER: usize = 1 << 20;

/// Where the webhook secret comes from.
#[derive(Args)]
pub(crate) struct SecretArgs {
    /// Read the webhook secret from this file (surrounding whitespace is
    /// removed) instead of the FOXREACH_WEBHOOK_SECRET environment variable.
    #[arg(long, value_name = "PATH", conflicts_with = "demo_secret")]
    secret_file: Option<PathBuf>,
    /// Use the example secret from FoxReach's documentation, as the example
    /// receivers do when FOXREACH_WEBHOOK_SECRET is unset. Never for real
    /// traffic.
    #[arg(long)]
    demo_secret: bool,
}

#[derive(Args)]
pub(crate) struct SignArgs {
    /// The body to sign, byte for byte; stdin when absent or `-`.
    file: Option<PathBuf>,
    #[command(flatten)]
    secret: SecretArgs,
}

#[derive(Args)]
#[command(after_help = "Only http:// URLs: https is not supported (send to the receiver's plain-HTTP address, \
                        on localhost or behind the TLS proxy).")]
pub(crate) struct SendArgs {
    /// The receiver's URL [default: http://127.0.0.1:3000/webhooks/foxreach].
    /// A lone argument that is not a URL is the FILE.
    url: Option<String>,
    /// The body to send; the documentation's `email.sent` delivery when
    /// absent, stdin when `-`.
    file: Option<PathBuf>,
    /// Sign with a secret that is not the webhook's, to see the receiver
    /// refuse a forgery (it should answer 401).
    #[arg(long)]
    forge: bool,
    #[command(flatten)]
    secret: SecretArgs,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The X-Webhook-Signature value to check.
    #[arg(long, value_name = "SIG")]
    signature: String,
    /// The body as received, byte for byte; stdin when absent or `-`.
    file: Option<PathBuf>,
    #[command(flatten)]
    secret: SecretArgs,
}

pub(crate) fn sign(args: SignArgs) -> Result<Report, Failure> {
    let secret = secret(&args.secret)?;
    let body = read_body(args.file.as_deref())?;
    let signature = foxreach_webhooks::sign(secret.as_bytes(), &body);
    let json = json!({"header": HEADER_NAME, "signature": signature});
    Ok(Report::new(signature, json))
}

pub(crate) fn verify(args: VerifyArgs) -> Result<Report, Failure> {
    let secret = secret(&args.secret)?;
    let body = read_body(args.file.as_deref())?;
    match foxreach_webhooks::verify(secret.as_bytes(), &body, args.signature.trim()) {
        Ok(()) => Ok(Report::new("valid", json!({"valid": true}))),
        // Its `Display` names the cause and never the secret or a MAC.
        Err(VerifyError::EmptySecret) => Err(Failure::Usage(VerifyError::EmptySecret.to_string())),
        Err(error) => {
            Ok(Report::new(format!("invalid: {error}"), json!({"valid": false, "reason": error.to_string()}))
                .negative())
        }
    }
}

pub(crate) async fn send(args: SendArgs) -> Result<Report, Failure> {
    let (url, file) = match (args.url, args.file) {
        // As the `send` example reads it: a lone argument that is no URL is the file.
        (Some(lone), None) if !lone.contains("://") => (DEFAULT_URL.to_owned(), Some(PathBuf::from(lone))),
        (url, file) => (url.unwrap_or_else(|| DEFAULT_URL.to_owned()), file),
    };
    let uri: Uri = url.parse().map_err(|error| Failure::Usage(format!("{url} is not a URL: {error}")))?;
    match uri.scheme_str() {
        Some("http") if uri.host().is_some() => {}
        Some("https") => {
            return Err(Failure::Usage(format!(
                "{url}: https is not supported; send to the receiver's plain-HTTP address (on localhost or \
                 behind the TLS proxy)"
            )));
        }
        _ => return Err(Failure::Usage(format!("{url} is not an http:// URL"))),
    }
    let body = match file.as_deref() {
        Some(path) => read_body(Some(path))?,
        None => EMAIL_SENT.to_vec(),
    };
    let signature = if args.forge {
        foxreach_webhooks::sign("not-the-webhook-secret", &body)
    } else {
        foxreach_webhooks::sign(secret(&args.secret)?.as_bytes(), &body)
    };
    let request = Request::post(uri)
        .header(SIGNATURE_HEADER, signature)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|error| Failure::Usage(format!("cannot build a request to {url}: {error}")))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let unreachable = |error: &dyn std::fmt::Display| {
        Failure::Io(format!("no answer from {url}: {error} (is the receiver running, on this port?)"))
    };
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, async {
        let response = client.request(request).await.map_err(|error| unreachable(&error))?;
        let status = response.status();
        let text = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|error| unreachable(&error))?
            .to_bytes();
        Ok::<_, Failure>((status, text))
    })
    .await;
    let (status, text) = answer.map_err(|_| unreachable(&format!("none within {} s", ANSWER_TIMEOUT.as_secs())))??;
    let text = String::from_utf8_lossy(&text);
    let reason = status.canonical_reason().unwrap_or("");
    let mut shown = format!("{} {reason}", status.as_u16());
    if !text.is_empty() {
        shown.push('\n');
        shown.push_str(&output::clean(&text, true));
    }
    let json = json!({"url": url, "status": status.as_u16(), "status_text": reason, "answer": text});
    let report = Report::new(shown, json);
    Ok(if status.is_success() { report } else { report.negative() })
}

/// The webhook secret, without surrounding whitespace (as the receiver's
/// `Verifier::from_env` reads it). Messages name where it comes from,
/// never what it is.
fn secret(from: &SecretArgs) -> Result<Zeroizing<String>, Failure> {
    const VAR: &str = "FOXREACH_WEBHOOK_SECRET";
    let (raw, source) = if let Some(path) = &from.secret_file {
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|error| Failure::Io(format!("cannot read the secret file {}: {error}", path.display())))?,
        );
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Failure::Usage(format!("the secret file {} is not UTF-8 text", path.display())))?;
        (Zeroizing::new(text.to_owned()), format!("the secret file {}", path.display()))
    } else if from.demo_secret {
        output::note("warning: using the DEMO secret from FoxReach's docs; anyone can forge deliveries signed with it");
        (Zeroizing::new(DEMO_SECRET.to_owned()), "the demo secret".to_owned())
    } else {
        match std::env::var(VAR) {
            Ok(value) => (Zeroizing::new(value), VAR.to_owned()),
            Err(std::env::VarError::NotUnicode(_)) => return Err(Failure::Usage(format!("{VAR} is not UTF-8 text"))),
            Err(std::env::VarError::NotPresent) => {
                return Err(Failure::Usage(format!(
                    "no webhook secret: set {VAR} or pass --secret-file PATH (or --demo-secret for the example \
                     secret from FoxReach's docs)"
                )));
            }
        }
    };
    let secret = Zeroizing::new(raw.trim().to_owned());
    if secret.is_empty() {
        return Err(Failure::Usage(format!("{source} holds no secret (it is empty)")));
    }
    Ok(secret)
}

/// The body from `file`, or from stdin when there is none or it is `-`.
fn read_body(file: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match file {
        Some(path) if path != Path::new("-") => std::fs::read(path)
            .map_err(|error| Failure::Io(format!("cannot read the body from {}: {error}", path.display()))),
        _ => {
            let mut stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                output::note("reading the body from stdin (end it with Ctrl-D)");
            }
            let mut body = Vec::new();
            stdin
                .read_to_end(&mut body)
                .map_err(|error| Failure::Io(format!("cannot read the body from stdin: {error}")))?;
            Ok(body)
        }
    }
}
