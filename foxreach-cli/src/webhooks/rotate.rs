//! `webhooks rotate`: FoxReach cannot change a webhook's secret, so a
//! rotation is a second webhook for the same URL and events, created
//! inactive; a receiver that accepts both secrets, the old one first; then
//! the second webhook activated and the first deleted. The recipe is
//! `DeliveryKey`'s (`src/delivery/key.rs`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::Args;
use foxreach_api::{ApiError, Client, NewWebhook, Webhook, WebhookUpdate};
use serde_json::json;

use super::create::{keep, new_secret_file};
use super::{create_failure, failure, show};
use crate::Failure;
use crate::output::{self, Report};

#[derive(Args)]
pub(crate) struct RotateArgs {
    /// The webhook whose secret is replaced (`cwh_…`).
    id: String,
    /// Start: create the replacement, inactive, and write its secret to this
    /// new file (mode 0600 on Unix, never over an existing file).
    #[arg(long, value_name = "PATH", required_unless_present = "finish", conflicts_with = "finish")]
    secret_file: Option<PathBuf>,
    /// Finish, once the receiver accepts both secrets: activate the
    /// replacement named by --replacement, then delete the old webhook.
    #[arg(long)]
    finish: bool,
    /// With --finish: the replacement's id, as the start step printed it.
    /// It must deliver to the same URL and the same events as the old
    /// webhook, and have been created after it.
    #[arg(long, value_name = "ID", requires = "finish")]
    replacement: Option<String>,
}

pub(super) async fn run(client: &Client, args: RotateArgs) -> Result<Report, Failure> {
    let id = output::clean(&args.id, false).into_owned();
    if args.finish && args.replacement.is_none() {
        return Err(Failure::Usage(format!(
            "--finish needs --replacement NEW, the replacement's id that `rotate {id} --secret-file PATH` printed \
             (`foxreach-webhooks webhooks rotate {id} --finish --replacement NEW`)"
        )));
    }
    let file = args.secret_file.as_deref().map(new_secret_file).transpose()?;
    let webhooks = client.list().await.map_err(failure)?;
    let old = webhooks
        .iter()
        .find(|webhook| webhook.id == args.id)
        .ok_or_else(|| Failure::No(format!("FoxReach has no webhook {id}")))?;
    let Some(file) = file else {
        let replacement = args.replacement.as_deref().unwrap_or_default();
        return finish(client, &webhooks, old, replacement).await;
    };
    if let Some(unfinished) = webhooks.iter().find(|webhook| !webhook.is_active && same_target(webhook, old)) {
        let other = output::clean(&unfinished.id, false);
        return Err(Failure::No(format!(
            "webhook {other} (inactive, created {}) already delivers to the same URL and events as {id}: a rotation \
             not finished. Finish it (`foxreach-webhooks webhooks rotate {id} --finish --replacement {other}`, once \
             the receiver accepts its secret) or delete it (`foxreach-webhooks webhooks delete {other}`), then run \
             this again",
            show::time(&unfinished.created_at)
        )));
    }
    // Inactive until the receiver knows its secret: FoxReach signs nothing
    // with it yet, and no refused delivery counts against its health.
    let replacement = NewWebhook::with_event_names(&old.url, old.events.clone()).active(false);
    let created = client.create(&replacement).await.map_err(create_failure)?;
    let kept = match keep(&created, Some(file), false) {
        Ok(kept) => kept,
        // Its secret is lost, and nothing uses it yet (it is inactive):
        // deleted, so that no half-made rotation is left behind.
        Err(Failure::Io(message)) => {
            let new_id = output::clean(&created.webhook.id, false).into_owned();
            let cleanup = match client.delete(&created.webhook.id).await {
                Ok(()) => format!("the replacement {new_id} was deleted again; run this once the file can be written"),
                Err(error) => format!("deleting the replacement {new_id} failed too ({error}): delete it by hand"),
            };
            return Err(Failure::Io(format!("{message}. {cleanup}")));
        }
        Err(other) => return Err(other),
    };
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
            "foxreach-webhooks webhooks rotate {id} --finish --replacement {new_id}   (activates {new_id}, then \
             deletes {id}; whatever arrives twice meanwhile has the same body, and the delivery feature's duplicate suppression treats the \
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

/// Activates `replacement` (as active as `old` is), and only then deletes
/// `old`, so that no event falls between the two webhooks. Nothing is
/// changed unless `replacement` is another webhook for `old`'s URL and
/// events, created after it; nothing is deleted unless the activation
/// took.
async fn finish(client: &Client, webhooks: &[Webhook], old: &Webhook, replacement: &str) -> Result<Report, Failure> {
    let id = output::clean(&old.id, false).into_owned();
    let url = output::clean(&old.url, false).into_owned();
    let new_id = output::clean(replacement, false).into_owned();
    let replacement = replacement_of(webhooks, old, replacement)?;

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
    if updated.is_active != old.is_active {
        return Err(Failure::No(format!(
            "FoxReach accepted setting {new_id}'s isActive to {}, but answers that it is {}; nothing was deleted: \
             {id} still delivers every event. Check `foxreach-webhooks webhooks list`, then run this again",
            old.is_active, updated.is_active
        )));
    }
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

/// Webhook `new_id`, if it can replace `old`: another webhook, for the same
/// URL and the same events, created after `old`. Otherwise the reason, so
/// that neither an unrelated webhook for the same URL nor swapped ids ever
/// delete the wrong one.
fn replacement_of<'a>(webhooks: &'a [Webhook], old: &Webhook, new_id: &str) -> Result<&'a Webhook, Failure> {
    let id = output::clean(&old.id, false);
    let shown = output::clean(new_id, false);
    let refused = |why: String| {
        Failure::No(format!(
            "{shown} cannot replace {id}: {why}; nothing was changed. Give --replacement the id `rotate {id} --secret-file PATH` printed"
        ))
    };
    if new_id == old.id {
        return Err(refused("it is the same webhook".to_owned()));
    }
    let replacement = webhooks
        .iter()
        .find(|webhook| webhook.id == new_id)
        .ok_or_else(|| Failure::No(format!("FoxReach has no webhook {shown}; nothing was changed")))?;
    if replacement.url != old.url {
        return Err(refused(format!(
            "it delivers to {}, not {}",
            output::clean(&replacement.url, false),
            output::clean(&old.url, false)
        )));
    }
    if !same_target(replacement, old) {
        return Err(refused("it does not receive the same event types".to_owned()));
    }
    match (old.created_at.instant(), replacement.created_at.instant()) {
        (Ok(before), Ok(after)) if after > before => Ok(replacement),
        (Ok(_), Ok(_)) => Err(refused(format!(
            "it was created {}, not after {id} ({}): are the two ids swapped?",
            show::time(&replacement.created_at),
            show::time(&old.created_at)
        ))),
        _ => Err(refused("FoxReach's creation times of the two cannot be read, to tell which is newer".to_owned())),
    }
}

/// Whether `webhook` is another webhook for `old`'s URL and the same set
/// of event types.
fn same_target(webhook: &Webhook, old: &Webhook) -> bool {
    webhook.id != old.id && webhook.url == old.url && event_set(webhook) == event_set(old)
}

/// `webhook`'s event type names, each once, in any order.
fn event_set(webhook: &Webhook) -> BTreeSet<&str> {
    webhook.events.iter().map(String::as_str).collect()
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
