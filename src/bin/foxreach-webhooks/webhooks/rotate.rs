//! `webhooks rotate`: FoxReach cannot change a webhook's secret, so a
//! rotation is a second webhook for the same URL and events, a receiver
//! that accepts both secrets, and then the first webhook deleted.

use std::path::PathBuf;

use clap::Args;
use foxreach_webhooks::api::{Client, NewWebhook, Webhook};
use serde_json::json;

use super::create::{keep, new_secret_file};
use super::{failure, show};
use crate::Failure;
use crate::output::{self, Report};

#[derive(Args)]
pub(crate) struct RotateArgs {
    /// The webhook whose secret is replaced (`cwh_…`).
    id: String,
    /// Start: create the replacement and write its secret to this new file
    /// (mode 0600, never over an existing file).
    #[arg(long, value_name = "PATH", required_unless_present = "finish", conflicts_with = "finish")]
    secret_file: Option<PathBuf>,
    /// Finish: delete the old webhook, once the receiver accepts the new
    /// secret. Refused unless another webhook delivers to the same URL.
    #[arg(long)]
    finish: bool,
}

pub(super) async fn run(client: &Client, args: RotateArgs) -> Result<Report, Failure> {
    let id = output::clean(&args.id, false).into_owned();
    let file = args.secret_file.as_deref().map(new_secret_file).transpose()?;
    let webhooks = client.list().await.map_err(failure)?;
    let old = webhooks
        .iter()
        .find(|webhook| webhook.id == args.id)
        .ok_or_else(|| Failure::No(format!("FoxReach has no webhook {id}")))?;
    let Some(file) = file else { return finish(client, &webhooks, old).await };

    let replacement = NewWebhook::with_event_names(&old.url, old.events.clone()).active(old.is_active);
    let created = client.create(&replacement).await.map_err(failure)?;
    let kept = keep(&created, Some(file), false)?;
    let new_id = output::clean(&created.webhook.id, false).into_owned();
    let path = kept.path.as_ref().map(|path| output::clean(&path.display().to_string(), false).into_owned());
    let path = path.unwrap_or_default();
    let steps = [
        format!(
            "Deploy the receiver accepting both secrets, the new one first: in Rust, \
             Verifier::from_secrets([WebhookSecret::read_file(\"{path}\")?, WebhookSecret::read_file(\"<old secret file>\")?]). \
             Until then FoxReach's deliveries through {new_id} are refused and retried (after 1, 5 and 30 minutes), \
             while {id} still delivers every event."
        ),
        "While both webhooks exist, each event arrives twice, with the same body: process idempotently (the \
         delivery feature's duplicate suppression treats the two as one)."
            .to_owned(),
        format!("foxreach-webhooks webhooks rotate {id} --finish   (deletes {id}; or `webhooks delete {id}`)"),
        format!("Deploy with the new secret alone (the example receiver: FOXREACH_WEBHOOK_SECRET=\"$(cat {path})\")."),
    ];
    let mut text = format!(
        "created webhook {new_id}, the replacement of {id}: same URL, {} event types\n{}\nNext, in this order:\n",
        created.webhook.events.len(),
        kept.text
    );
    for (number, step) in steps.iter().enumerate() {
        text.push_str(&format!("  {}. {step}\n", number + 1));
    }
    let json = json!({
        "old": show::json(old),
        "new": show::json(&created.webhook),
        "secret_file": kept.path,
        "next": steps,
    });
    Ok(Report::new(text, json))
}

/// Deletes `old`, if another webhook delivers to its URL.
async fn finish(client: &Client, webhooks: &[Webhook], old: &Webhook) -> Result<Report, Failure> {
    let id = output::clean(&old.id, false).into_owned();
    let Some(replacement) = webhooks.iter().find(|webhook| webhook.id != old.id && webhook.url == old.url) else {
        return Err(Failure::No(format!(
            "no other webhook delivers to {}: deleting {id} would stop its deliveries. Start with `webhooks rotate \
             {id} --secret-file PATH`, or delete it anyway with `webhooks delete {id}`",
            output::clean(&old.url, false)
        )));
    };
    client.delete(&old.id).await.map_err(failure)?;
    let new_id = output::clean(&replacement.id, false);
    let text = format!(
        "deleted webhook {id}; {new_id} delivers to {} from now on: deploy the receiver with its secret alone\n",
        output::clean(&old.url, false)
    );
    Ok(Report::new(text, json!({"deleted": old.id, "replacement": replacement.id})))
}
