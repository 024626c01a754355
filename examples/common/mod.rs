//! What the examples share: where the secret and port come from, and how an
//! event is printed.
#![allow(dead_code)] // each example uses its own part of this

pub(crate) mod inbox;
#[cfg(feature = "delivery")]
pub(crate) mod printer;

use std::time::Duration;

use foxreach_webhooks::http::server::{Server, Stopped};
use foxreach_webhooks::{Event, EventData, SecretError, Verifier};
use tokio::net::{TcpListener, TcpSocket};

/// The example secret from FoxReach's documentation: never use it in production.
pub(crate) const DEMO_SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";

/// The route FoxReach posts to.
pub(crate) const ROUTE: &str = "/webhooks/foxreach";

/// The secret to sign with: `FOXREACH_WEBHOOK_SECRET` without surrounding
/// whitespace, or the demo secret with a warning. (Unlike [`verifier`], it
/// does not read `FOXREACH_WEBHOOK_SECRET_FILE`.)
pub(crate) fn secret() -> String {
    match std::env::var("FOXREACH_WEBHOOK_SECRET") {
        Ok(secret) => secret.trim().to_owned(),
        Err(_) => {
            demo_warning();
            DEMO_SECRET.to_owned()
        }
    }
}

fn demo_warning() {
    eprintln!("WARNING: FOXREACH_WEBHOOK_SECRET is not set; using the DEMO secret from FoxReach's docs.");
    eprintln!("WARNING: anyone can forge deliveries signed with it. Set FOXREACH_WEBHOOK_SECRET for real traffic.");
}

/// How long a stopping receiver waits for the handlers still running.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A verifier for the secret files named by `FOXREACH_WEBHOOK_SECRET_FILE`
/// (as `foxreach-webhooks webhooks create --secret-file` writes them), else
/// for `FOXREACH_WEBHOOK_SECRET`, else for the demo secret with a loud
/// warning. An empty, missing or unreadable secret is refused here, at
/// start-up, rather than every delivery later. It says on stderr which it
/// used (never the secret), and warns of whitespace removed around one.
pub(crate) fn verifier() -> Result<Verifier, String> {
    /// Where the secret files are: one path, or several separated by `:`
    /// (`;` on Windows), the old webhook's first while rotating.
    const SECRET_FILE_VAR: &str = "FOXREACH_WEBHOOK_SECRET_FILE";
    if let Some(value) = std::env::var_os(SECRET_FILE_VAR) {
        let paths: Vec<std::path::PathBuf> =
            std::env::split_paths(&value).filter(|path| !path.as_os_str().is_empty()).collect();
        if paths.is_empty() {
            return Err(format!(
                "{SECRET_FILE_VAR} is empty: give the secret file's path (old.secret:new.secret while rotating)"
            ));
        }
        let built = Verifier::from_secret_files(&paths).map_err(|error| error.to_string())?;
        for trimmed in &built.trimmed {
            eprintln!("WARNING: {trimmed}");
        }
        let files: Vec<String> = paths.iter().map(|path| path.display().to_string()).collect();
        eprintln!(
            "verifying with the secret file(s) of {SECRET_FILE_VAR}: {} (the first keys deliveries)",
            files.join(", then ")
        );
        if std::env::var_os("FOXREACH_WEBHOOK_SECRET").is_some() {
            eprintln!("note: FOXREACH_WEBHOOK_SECRET is ignored, since {SECRET_FILE_VAR} is set");
        }
        return Ok(built.verifier);
    }
    match Verifier::from_env("FOXREACH_WEBHOOK_SECRET") {
        Ok(built) => {
            if let Some(trimmed) = built.trimmed {
                eprintln!("WARNING: {trimmed}");
            }
            eprintln!("verifying with the secret in FOXREACH_WEBHOOK_SECRET");
            Ok(built.verifier)
        }
        Err(SecretError::EnvUnset { .. }) => {
            demo_warning();
            Verifier::new(DEMO_SECRET).map_err(|error| error.to_string())
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what `docker stop` and
/// Kubernetes send).
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    eprintln!(
        "stopping: no new connections; answering the requests in flight, then waiting for the handlers still running"
    );
}

/// Serves `app` on `127.0.0.1:$PORT` until Ctrl-C or SIGTERM, saying where
/// on stderr, and lets the requests in flight finish.
pub(crate) async fn serve(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
    serve_at(app, ROUTE).await
}

/// [`serve`], saying that FoxReach posts to `route`.
pub(crate) async fn serve_at(app: axum::Router, route: &str) -> Result<(), Box<dyn std::error::Error>> {
    let listener = listen(route).await?;
    stopped(server()?.serve(listener, app, shutdown_signal()).await);
    Ok(())
}

/// How many connections the kernel completes before the server accepts
/// them. `TcpListener::bind` asks for 128, which a burst of a few hundred
/// connections overflows (FoxReach's retries after an outage, or
/// `.ci/hardening`'s 500 idle clients): a handshake dropped there waits for
/// the kernel to try again, seconds later. Linux caps it at
/// `net.core.somaxconn`.
const BACKLOG: u32 = 1024;

/// A listener on `127.0.0.1:$PORT`, announced on stderr with `route`.
pub(crate) async fn listen(route: &str) -> Result<TcpListener, Box<dyn std::error::Error>> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(([127, 0, 0, 1], port()?).into())?;
    let listener = socket.listen(BACKLOG)?;
    eprintln!("listening on http://{}{route}", listener.local_addr()?);
    Ok(listener)
}

/// How the examples serve: the crate's defaults (a 10 s header timeout, a
/// 75 s idle timeout, 512 connections), each changed by an environment
/// variable (`HEADER_TIMEOUT_MS`, `IDLE_TIMEOUT_MS`, `MAX_CONNECTIONS`), and
/// the handlers' grace as the shutdown deadline.
pub(crate) fn server() -> Result<Server, String> {
    let mut server = Server::new().shutdown_deadline(SHUTDOWN_GRACE);
    if let Some(ms) = env_optional::<u64>("HEADER_TIMEOUT_MS")? {
        server = server.header_read_timeout(Duration::from_millis(ms));
    }
    if let Some(ms) = env_optional::<u64>("IDLE_TIMEOUT_MS")? {
        server = server.idle_timeout(Duration::from_millis(ms));
    }
    if let Some(max) = env_optional("MAX_CONNECTIONS")? {
        server = server.max_connections(max);
    }
    Ok(server)
}

/// Says on stderr what a shutdown cut short.
pub(crate) fn stopped(stopped: Stopped) {
    if stopped.closed_at_deadline > 0 {
        eprintln!("closed {} connection(s) still busy at the shutdown deadline", stopped.closed_at_deadline);
    }
}

/// `REQUEST_TIMEOUT_MS`, or 5 s (FoxReach waits 5 seconds for an answer):
/// how long a request may take before it is answered `408`.
pub(crate) fn request_timeout() -> Result<Duration, String> {
    Ok(Duration::from_millis(env_number("REQUEST_TIMEOUT_MS", 5000)?))
}

/// `PORT`, or 3000.
pub(crate) fn port() -> Result<u16, String> {
    env_number("PORT", 3000)
}

/// The number in the environment variable `name`, or `default` when it is unset.
pub(crate) fn env_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    Ok(env_optional(name)?.unwrap_or(default))
}

/// The number in the environment variable `name`, if it is set.
pub(crate) fn env_optional<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(value) => value.parse().map(Some).map_err(|_| format!("{name} must be a number, not {value:?}")),
        Err(_) => Ok(None),
    }
}

/// One line for an event: its type, its timestamp as sent and the ids it is
/// about, or its raw `data` when it has no typed form.
pub(crate) fn summary(event: &Event) -> String {
    let ids = match &event.data {
        EventData::EmailSent(data) => email(&data.email_log_id, &data.campaign_id, &data.lead_id),
        EventData::EmailFailed(data) => email(&data.email_log_id, &data.campaign_id, &data.lead_id),
        EventData::EmailBounced(data) => email(&data.email_log_id, &data.campaign_id, &data.lead_id),
        EventData::EmailOpened(data) => email(&data.email_log_id, &data.campaign_id, &data.lead_id),
        EventData::ReplyReceived(data) => {
            format!("reply_id={} campaign_id={} lead_id={}", data.reply_id, data.campaign_id, data.lead_id)
        }
        EventData::ReplyCategorized(data) => format!("reply_id={}", data.reply_id),
        EventData::CampaignStarted(data) => format!("campaign_id={}", data.campaign_id),
        EventData::CampaignPaused(data) => format!("campaign_id={}", data.campaign_id),
        EventData::CampaignCompleted(data) => format!("campaign_id={}", data.campaign_id),
        EventData::LeadCreated(data) => format!("lead_id={}", data.lead_id),
        EventData::LeadUpdated(data) => format!("lead_id={}", data.lead_id),
        EventData::Untyped(untyped) => format!("(untyped: {}) data={}", untyped.reason, untyped.data),
        EventData::Unknown(unknown) => format!("(unknown type) data={}", unknown.data),
        other => format!("(a type this example does not list) data={}", serde_json::json!(other)),
    };
    format!("{} at {} {ids}", event.name(), event.timestamp)
}

fn email(email_log_id: &str, campaign_id: &str, lead_id: &str) -> String {
    format!("email_log_id={email_log_id} campaign_id={campaign_id} lead_id={lead_id}")
}
