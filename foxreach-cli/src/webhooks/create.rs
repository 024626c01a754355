//! `webhooks create`, and keeping a secret FoxReach shows once.

use std::path::{Path, PathBuf};

use clap::Args;
use foxreach_api::{Client, CreatedWebhook, NewWebhook, SecretFile};
use serde_json::json;

use super::{EventsChoice, create_failure, show};
use crate::Failure;
use crate::output::{self, Report};

#[derive(Args)]
pub(crate) struct CreateArgs {
    /// Where FoxReach should post the deliveries (https://, as FoxReach asks).
    #[arg(long)]
    url: String,
    #[command(flatten)]
    events: EventsChoice,
    /// Write the secret to this new file, readable by you alone (mode 0600 on Unix);
    /// an existing file is never overwritten.
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// Print the secret too (it then shows in your terminal's scrollback).
    #[arg(long)]
    show_secret: bool,
}

pub(super) async fn run(client: &Client, args: CreateArgs) -> Result<Report, Failure> {
    let names = args.events.names()?.ok_or_else(|| {
        Failure::Usage("which events? give --events TYPE,TYPE or --all (see `foxreach-webhooks events`)".to_owned())
    })?;
    // FoxReach shows the secret once: without a place for it, refuse before
    // creating a webhook whose secret nobody could ever have.
    if args.secret_file.is_none() && !args.show_secret {
        return Err(Failure::Usage(
            "FoxReach shows the secret only once: pass --secret-file PATH to keep it in a new file (or \
             --show-secret to print it)"
                .to_owned(),
        ));
    }
    let file = args.secret_file.as_deref().map(new_secret_file).transpose()?;
    let created = client.create(&NewWebhook::with_event_names(&args.url, names)).await.map_err(create_failure)?;
    let kept = keep(&created, file, args.show_secret)?;
    let mut text = format!(
        "created webhook {} for {} ({} event types)\n",
        output::clean(&created.webhook.id, false),
        output::clean(&created.webhook.url, false),
        created.webhook.events.len()
    );
    text.push_str(&kept.text);
    let mut json = json!({"webhook": show::json(&created.webhook), "secret_file": kept.path});
    if args.show_secret {
        json["secret"] = json!(created.secret.expose());
    }
    if let Some(path) = &kept.path {
        let path = output::clean(&path.display().to_string(), false).into_owned();
        output::note(&format!(
            "next: run the receiver on the secret file: the example receiver with FOXREACH_WEBHOOK_SECRET_FILE={path}; \
             in Rust, Verifier::from_secret_files([\"{path}\"])"
        ));
    }
    Ok(Report::new(text, json))
}

/// The empty secret file, made before FoxReach is asked, so that a path
/// that cannot be written fails first.
pub(super) fn new_secret_file(path: &Path) -> Result<SecretFile, Failure> {
    SecretFile::create_new(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => Failure::Usage(format!(
            "{} exists; a secret file is never overwritten (it may hold a secret still in use): choose a new path",
            path.display()
        )),
        _ => Failure::Io(format!("cannot create the secret file {}: {error}", path.display())),
    })
}

/// What became of the secret: the lines saying so, and the file's path.
pub(super) struct Kept {
    pub(super) text: String,
    pub(super) path: Option<PathBuf>,
}

/// Writes the new webhook's secret to `file`, and prints it if asked.
pub(super) fn keep(created: &CreatedWebhook, file: Option<SecretFile>, show: bool) -> Result<Kept, Failure> {
    let mut text = String::new();
    if show {
        text.push_str(&format!("secret {}\n", created.secret.expose()));
    }
    let Some(file) = file else { return Ok(Kept { text, path: None }) };
    let path = file.path().to_path_buf();
    match file.write(&created.secret) {
        Ok(()) => {
            text.push_str(&format!("secret written to {} (mode 0600)\n", path.display()));
            Ok(Kept { text, path: Some(path) })
        }
        Err(error) if show => {
            output::note(&format!(
                "warning: cannot write the secret to {}: {error}; it is printed above",
                path.display()
            ));
            Ok(Kept { text, path: None })
        }
        Err(error) => Err(Failure::Io(format!(
            "webhook {id} was created, but its secret could not be written to {}: {error}. The secret is lost: \
             delete the webhook (foxreach-webhooks webhooks delete {id}) and create it again",
            path.display(),
            id = output::clean(&created.webhook.id, false),
        ))),
    }
}
