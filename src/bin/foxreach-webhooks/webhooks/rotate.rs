//! `webhooks rotate`: FoxReach cannot change a webhook's secret, so a
//! rotation is a second webhook for the same URL and events, created
//! inactive; a receiver that accepts both secrets, the old one first; then
//! the second webhook activated and the first deleted. The recipe is
//! `DeliveryKey`'s (`src/delivery/key.rs`).

use std::path::PathBuf;

use clap::Args;
use foxreach_webhooks::api::{ApiError, Client, NewWebhook, Webhook, WebhookUpdate};
use serde_json::json;

use super::create::{keep, new_secret_file};
use super::{failure, show};
use crate::Failure;
use crate::output::{self, Report};

#[derive(Args)]
pub(crate) struct RotateArgs {
    /// The webhook whose secret is replaced (`cwh_…`).
    id: String,
    /// Start: create the replacement, inactive, and write its secret to this
    /// new file (mode 0600, never over an existing file).
    #[arg(long, value_name = "PATH", required_unless_present = "finish", conflicts_with = "finish")]
    secret_file: Option<PathBuf>,
    /// Finish, once the receiver accepts both secrets: activate the
    /// replacement (another webhook delivering to the same URL), then
    /// delete the old webhook.
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

    // Inactive until the receiver knows its secret: FoxReach signs nothing
    // with it yet, and no refused delivery counts against its health.
    let replacement = NewWebhook::with_event_names(&old.url, old.events.clone()).active(false);
    let created = client.create(&replacement).await.map_err(failure)?;
    let kept = keep(&created, Some(file), false)?;
    let new_id = output::clean(&created.webhook.id, false).into_owned();
    let path = kept.path.as_ref().map(|path| output::clean(&path.display().to_string(), false).into_owned());
    let path = path.unwrap_or_default();
    let steps = [
        format!(
            "Deploy the receiver accepting both secrets, the old one first (deliveries are told apart by the MAC \
             under the first secret, so the old one first keeps their keys): the example receiver with \
             FOXREACH_WEBHOOK_SECRET_FILE=<old secret file>:{path}; in Rust, \
             Verifier::from_secret_files([\"<old secret file>\", \"{path}\"]). Meanwhile {new_id} is inactive: \
             FoxReach signs nothing with its secret, and {id} still delivers every event."
        ),
        format!(
            "foxreach-webhooks webhooks rotate {id} --finish   (activates {new_id}, then deletes {id}; whatever \
             arrives twice meanwhile has the same body, and the delivery feature's duplicate suppression treats the \
             two as one)"
        ),
        format!(
            "Later, deploy with the new secret alone (FOXREACH_WEBHOOK_SECRET_FILE={path}; in Rust, \
             Verifier::from_secret_files([\"{path}\"])), once no delivery is being retried (FoxReach's retries end 36 \
             minutes after a first failure): deliveries are then keyed by the new secret, so a copy of one processed \
             before that deploy, arriving after it, would be processed again (as the crate's DeliveryKey docs \
             explain)."
        ),
    ];
    let mut text = format!(
        "created webhook {new_id}, inactive, the replacement of {id}: same URL, {} event types\n{}\nNext, in this \
         order:\n",
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

/// Activates `old`'s replacement (as active as `old` is), and only then
/// deletes `old`, so that no event falls between the two webhooks. If the
/// activation fails, nothing is deleted.
async fn finish(client: &Client, webhooks: &[Webhook], old: &Webhook) -> Result<Report, Failure> {
    let id = output::clean(&old.id, false).into_owned();
    let url = output::clean(&old.url, false).into_owned();
    let replacement = replacement_of(webhooks, old)?;
    let new_id = output::clean(&replacement.id, false).into_owned();

    let change = WebhookUpdate::new().active(old.is_active);
    let updated = client.update(&replacement.id, &change).await.map_err(|error| {
        explained(error, |message| {
            format!(
                "cannot set {new_id}'s isActive to {} ({message}); nothing was deleted: {id} still delivers every \
                 event. Run this again once that is fixed",
                old.is_active
            )
        })
    })?;
    let mut text = match updated.is_active {
        true => format!("activated webhook {new_id}\n"),
        false => format!("left webhook {new_id} inactive, as {id} is\n"),
    };
    client.delete(&old.id).await.map_err(|error| {
        explained(error, |message| {
            format!(
                "{new_id}'s isActive is now {}, but {id} could not be deleted ({message}): delete it with \
                 `foxreach-webhooks webhooks delete {id}` (until then each event arrives twice)",
                updated.is_active
            )
        })
    })?;
    text.push_str(&format!(
        "deleted webhook {id}; {new_id} delivers to {url} from now on. Later, once no delivery is being retried \
         (FoxReach's retries end 36 minutes after a first failure), deploy the receiver with {new_id}'s secret \
         alone\n"
    ));
    let json = json!({
        "activated": updated.id,
        "active": updated.is_active,
        "deleted": old.id,
        "replacement": show::json(&updated),
    });
    Ok(Report::new(text, json))
}

/// The webhook that replaces `old`: the other webhook delivering to its
/// URL or, if there are several, the inactive one created most recently.
fn replacement_of<'a>(webhooks: &'a [Webhook], old: &Webhook) -> Result<&'a Webhook, Failure> {
    let id = output::clean(&old.id, false);
    let url = output::clean(&old.url, false);
    let others: Vec<&Webhook> =
        webhooks.iter().filter(|webhook| webhook.id != old.id && webhook.url == old.url).collect();
    let several = match others.as_slice() {
        [] => {
            return Err(Failure::No(format!(
                "no other webhook delivers to {url}: deleting {id} would stop its deliveries. Start with \
                 `webhooks rotate {id} --secret-file PATH`, or delete it anyway with `webhooks delete {id}`"
            )));
        }
        [only] => return Ok(only),
        several => several,
    };
    let created = |webhook: &Webhook| webhook.created_at.instant().ok();
    let inactive: Vec<&Webhook> = several.iter().copied().filter(|webhook| !webhook.is_active).collect();
    let newest = inactive.iter().copied().filter(|webhook| created(webhook).is_some()).max_by_key(|w| created(w));
    if let Some(newest) = newest
        && inactive.iter().filter(|webhook| created(webhook) == created(newest)).count() == 1
    {
        return Ok(newest);
    }
    let listed: Vec<String> = several
        .iter()
        .map(|webhook| {
            let state = if webhook.is_active { "active" } else { "inactive" };
            format!("{} ({state}, created {})", output::clean(&webhook.id, false), show::time(&webhook.created_at))
        })
        .collect();
    Err(Failure::No(format!(
        "{} other webhooks deliver to {url}: {}; none is the one inactive webhook created last, so which one \
         replaces {id} is unclear. Delete the ones that do not (`webhooks delete ID`) and run this again",
        several.len(),
        listed.join(", ")
    )))
}

/// `error` as [`failure`] sees it (the same exit status), its message
/// put in `context`.
fn explained(error: ApiError, context: impl FnOnce(&str) -> String) -> Failure {
    match failure(error) {
        Failure::No(message) => Failure::No(context(&message)),
        Failure::Usage(message) => Failure::Usage(context(&message)),
        Failure::Inbox(message) => Failure::Inbox(context(&message)),
        Failure::Io(message) => Failure::Io(context(&message)),
    }
}
