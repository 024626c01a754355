//! `foxreach-webhooks`: look after a receiver of FoxReach webhooks from the
//! command line. `inbox` looks at and repairs the durable inbox (the
//! deliveries kept on disk until their handlers have run); `sign`, `send`
//! and `verify` try an endpoint and a secret the way FoxReach signs;
//! `webhooks` and `events` register, rotate and check webhooks through
//! FoxReach's management API.
//!
//! The binary of crate `foxreach-cli`: `cargo install foxreach-cli`.

mod inbox;
mod output;
mod try_endpoint;
mod webhooks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::Report;

/// Look after a receiver of FoxReach webhooks: its durable inbox, its
/// endpoint and secret, and its webhooks at FoxReach.
#[derive(Parser)]
#[command(name = "foxreach-webhooks", version, propagate_version = true, after_help = EXIT_STATUS)]
struct Cli {
    /// Print one JSON document on stdout instead of text (errors stay on
    /// stderr).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

const EXIT_STATUS: &str = "\
Exit status:
  0  done as asked
  1  the answer is no: an invalid signature, a non-2xx answer, no such entry or webhook, nothing to
     replay, FoxReach's event types differ from this crate's (events --check)
  2  usage: a wrong argument, no secret or API key configured, an existing secret file, FoxReach
     refused the API key (401) or the request (422)
  3  the inbox is unusable: missing, not a SQLite file, locked by another process
  4  a file could not be read or written, the receiver or FoxReach could not be reached, FoxReach
     is rate limiting (429 past the retries) or failing (5xx, an answer off its reference)";

#[derive(Subcommand)]
enum Command {
    /// Look at and repair the durable inbox: the deliveries FoxReach sent
    /// that the receiver keeps on disk until its handlers have processed
    /// them, and the dead letters they gave up on.
    Inbox(inbox::InboxArgs),
    /// Print the X-Webhook-Signature value FoxReach would send with a body:
    /// the hex HMAC-SHA256 of its bytes under the webhook secret.
    Sign(try_endpoint::SignArgs),
    /// Sign a body as FoxReach does and POST it to a receiver, printing its
    /// answer: the way to try an endpoint. Exits 0 only on a 2xx answer.
    Send(try_endpoint::SendArgs),
    /// Check an X-Webhook-Signature value against a body and the webhook
    /// secret, as a receiver does; print `valid` or why not.
    Verify(try_endpoint::VerifyArgs),
    /// Create, list, update, delete and rotate webhooks through FoxReach's
    /// API (key in FOXREACH_API_KEY): the secret goes to a new file, never
    /// through a terminal.
    Webhooks(webhooks::WebhooksArgs),
    /// List the event types FoxReach offers, marking those this crate does
    /// not type; with --check, exit 1 if the two lists differ.
    Events(webhooks::EventsArgs),
}

/// Why a command could not answer, with the exit status that says so.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The thing asked about is not so (no such entry, nothing to replay).
    No(String),
    /// The command line cannot be acted on (clap's own errors exit 2 too).
    Usage(String),
    /// The inbox cannot be used: missing, not SQLite, locked.
    Inbox(String),
    /// A file could not be read, or the receiver reached.
    Io(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Self::No(_) => 1,
            Self::Usage(_) => 2,
            Self::Inbox(_) => 3,
            Self::Io(_) => 4,
        }
    }

    fn message(&self) -> &str {
        match self {
            Self::No(message) | Self::Usage(message) | Self::Inbox(message) | Self::Io(message) => message,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Io(format!("cannot start the async runtime: {error}")))
        .and_then(|runtime| runtime.block_on(run(cli.command)));
    match outcome {
        Ok(report) => report.print(cli.json),
        Err(failure) => {
            output::note(&format!("error: {}", failure.message()));
            ExitCode::from(failure.code())
        }
    }
}

async fn run(command: Command) -> Result<Report, Failure> {
    match command {
        Command::Inbox(args) => inbox::run(args).await,
        Command::Sign(args) => try_endpoint::sign(args),
        Command::Send(args) => try_endpoint::send(args).await,
        Command::Verify(args) => try_endpoint::verify(args),
        Command::Webhooks(args) => webhooks::run(args).await,
        Command::Events(args) => webhooks::events(args).await,
    }
}
