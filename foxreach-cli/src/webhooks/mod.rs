//! `webhooks` and `events`: FoxReach's side of a receiver, through its
//! management API: registering webhooks, their health, rotating a secret,
//! and the event types FoxReach offers.

mod create;
mod events;
mod rotate;
mod show;

use clap::{Args, Subcommand};
use foxreach_api::{ApiError, ApiKey, Client, DEFAULT_BASE_URL, WebhookUpdate};
use foxreach_webhooks::EventType;
use serde_json::json;
use zeroize::Zeroizing;

use crate::Failure;
use crate::output::{self, Report};

pub(crate) use events::{EventsArgs, run as events};

/// The environment variable the API key is read from (never a flag: a
/// flag's value shows in `ps` and the shell's history).
const KEY_VAR: &str = "FOXREACH_API_KEY";

/// Where FoxReach's API is.
#[derive(Args)]
pub(crate) struct ApiArgs {
    /// FoxReach's API, for a stand-in or a proxy: https://, or http:// on
    /// a loopback address only. The API key is read from FOXREACH_API_KEY.
    #[arg(long, global = true, value_name = "URL", env = "FOXREACH_API_URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
}

#[derive(Args)]
#[command(after_help = "The API key is read from FOXREACH_API_KEY. A 429 (FoxReach allows 100 requests a minute) \
                        is waited out when FoxReach asks for at most 60 s, twice; otherwise the command exits 4.")]
pub(crate) struct WebhooksArgs {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    command: WebhooksCommand,
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Create a webhook and keep its secret, which FoxReach shows this once:
    /// in a new file readable by you alone (--secret-file), or printed
    /// (--show-secret).
    Create(create::CreateArgs),
    /// List the webhooks with their health: active, consecutive failed
    /// deliveries, last successful delivery.
    List,
    /// Change a webhook's URL, events or whether it is active (its secret
    /// cannot change: see `rotate`).
    Update(UpdateArgs),
    /// Delete a webhook: FoxReach stops delivering to it at once.
    Delete {
        /// The webhook's id (`cwh_…`), as `webhooks list` shows it.
        id: String,
    },
    /// Rotate a webhook's secret in two commands: `rotate ID --secret-file
    /// PATH` creates an inactive replacement for the same URL and events
    /// and says what to deploy (both secrets, the old one first); `rotate ID
    /// --finish --replacement NEW` then activates the replacement and
    /// deletes the old webhook.
    Rotate(rotate::RotateArgs),
}

/// The event types to register: a list, or every one this crate types.
#[derive(Args)]
#[group(multiple = false)]
pub(crate) struct EventsChoice {
    /// The event types, comma-separated (`email.sent,reply.received`).
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    events: Option<Vec<String>>,
    /// Every event type this crate types (`foxreach-webhooks events` lists FoxReach's).
    #[arg(long)]
    all: bool,
}

impl EventsChoice {
    /// The wire names chosen, `None` when neither flag was given. A name
    /// this crate does not type is passed on as it is, with a note: FoxReach
    /// may offer types newer than this crate (its 422 names any it does not
    /// know), and their deliveries are still verified and kept, untyped.
    fn names(&self) -> Result<Option<Vec<String>>, Failure> {
        if self.all {
            return Ok(Some(EventType::ALL.iter().map(|event| event.as_str().to_owned()).collect()));
        }
        let Some(given) = &self.events else { return Ok(None) };
        let mut names: Vec<String> = Vec::new();
        for name in given.iter().map(|name| name.trim()).filter(|name| !name.is_empty()) {
            if name.parse::<EventType>().is_err() {
                output::note(&format!(
                    "{} is not an event type this version of foxreach-webhooks types: its deliveries will arrive \
                     untyped (`foxreach-webhooks events` lists FoxReach's)",
                    output::clean(name, false)
                ));
            }
            if !names.iter().any(|known| known == name) {
                names.push(name.to_owned());
            }
        }
        match names.is_empty() {
            true => Err(Failure::Usage("--events names no event type".to_owned())),
            false => Ok(Some(names)),
        }
    }
}

#[derive(Args)]
struct UpdateArgs {
    /// The webhook's id (`cwh_…`).
    id: String,
    /// Deliver to this URL from now on.
    #[arg(long)]
    url: Option<String>,
    #[command(flatten)]
    events: EventsChoice,
    /// Turn deliveries on (`true`) or off (`false`).
    #[arg(long, value_name = "BOOL")]
    active: Option<bool>,
}

pub(crate) async fn run(args: WebhooksArgs) -> Result<Report, Failure> {
    let client = client(&args.api)?;
    match args.command {
        WebhooksCommand::Create(create) => create::run(&client, create).await,
        WebhooksCommand::List => {
            let webhooks = client.list().await.map_err(failure)?;
            let text = if webhooks.is_empty() {
                output::note("no webhooks");
                String::new()
            } else {
                show::table(&webhooks)
            };
            Ok(Report::new(text, json!({"webhooks": webhooks.iter().map(show::json).collect::<Vec<_>>()})))
        }
        WebhooksCommand::Update(update) => {
            let mut change = WebhookUpdate::new();
            if let Some(url) = update.url {
                change = change.url(url);
            }
            if let Some(names) = update.events.names()? {
                change = change.event_names(names);
            }
            if let Some(active) = update.active {
                change = change.active(active);
            }
            if change.is_empty() {
                return Err(Failure::Usage("nothing to change: give --url, --events, --all or --active".to_owned()));
            }
            let webhook = client.update(&update.id, &change).await.map_err(|error| not_found(error, &update.id))?;
            Ok(Report::new(format!("updated\n{}", show::text(&webhook)), show::json(&webhook)))
        }
        WebhooksCommand::Delete { id } => {
            client.delete(&id).await.map_err(|error| not_found(error, &id))?;
            Ok(Report::new(format!("deleted webhook {}\n", output::clean(&id, false)), json!({"deleted": id})))
        }
        WebhooksCommand::Rotate(rotate) => rotate::run(&client, rotate).await,
    }
}

/// The API client, with the key from [`KEY_VAR`].
fn client(api: &ApiArgs) -> Result<Client, Failure> {
    let key = match std::env::var(KEY_VAR) {
        Ok(key) if !key.trim().is_empty() => Zeroizing::new(key),
        Ok(_) => return Err(Failure::Usage(format!("{KEY_VAR} is empty"))),
        Err(std::env::VarError::NotUnicode(_)) => return Err(Failure::Usage(format!("{KEY_VAR} is not UTF-8 text"))),
        Err(std::env::VarError::NotPresent) => {
            return Err(Failure::Usage(format!(
                "no API key: set {KEY_VAR} to a FoxReach API key (otr_…, from FoxReach's settings)"
            )));
        }
    };
    Client::builder(ApiKey::new(key.as_str())).base_url(&api.base_url).build().map_err(failure)
}

/// The exit status an API error means: 2 for what the user must fix (the
/// key, the request, the base URL), 1 for a webhook that does not exist,
/// 4 for FoxReach unreachable, rate limiting or failing.
fn failure(error: ApiError) -> Failure {
    let message = error.to_string();
    match error {
        ApiError::Unauthorized => Failure::Usage(format!("{message}; this tool reads it from {KEY_VAR}")),
        ApiError::Rejected { .. } | ApiError::Config(_) => Failure::Usage(message),
        ApiError::NotFound { .. } => Failure::No(message),
        _ => Failure::Io(message),
    }
}

/// As [`failure`], for a create whose answer never came (or came unreadable):
/// FoxReach may have made the webhook all the same, and its secret is lost.
fn create_failure(error: ApiError) -> Failure {
    let unsure = matches!(error, ApiError::Timeout { .. } | ApiError::Network(_) | ApiError::Body { .. });
    match failure(error) {
        Failure::Io(message) if unsure => Failure::Io(format!(
            "{message}; the webhook may have been created all the same, without its secret reaching you: check \
             `foxreach-webhooks webhooks list` and delete it if it is there"
        )),
        other => other,
    }
}

/// As [`failure`], naming the webhook that does not exist.
fn not_found(error: ApiError, id: &str) -> Failure {
    match error {
        ApiError::NotFound { .. } => Failure::No(format!("FoxReach has no webhook {}", output::clean(id, false))),
        error => failure(error),
    }
}
