//! `events`: the event types FoxReach offers, against the ones this crate
//! types, so that a new type shows up before its first delivery.

use clap::Args;
use foxreach_webhooks::EventType;
use serde_json::json;

use super::{ApiArgs, client, failure};
use crate::Failure;
use crate::output::{self, Report};

#[derive(Args)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Exit 1 unless FoxReach's list and this crate's are the same.
    #[arg(long)]
    check: bool,
}

pub(crate) async fn run(args: EventsArgs) -> Result<Report, Failure> {
    let offered = client(&args.api)?.event_types().await.map_err(failure)?;
    let typed: Vec<&str> = EventType::ALL.iter().map(|event| event.as_str()).collect();
    let only_foxreach: Vec<&str> = offered.iter().map(String::as_str).filter(|name| !typed.contains(name)).collect();
    let only_crate: Vec<&str> = typed.iter().copied().filter(|name| !offered.iter().any(|o| o == name)).collect();
    let same = only_foxreach.is_empty() && only_crate.is_empty();
    let list = |names: &[&str]| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.iter().map(|name| output::clean(name, false)).collect::<Vec<_>>().join(", ")
        }
    };
    let mut text = String::new();
    for name in &offered {
        let mark = if typed.contains(&name.as_str()) { "" } else { "   (not typed by this crate)" };
        text.push_str(&format!("{}{mark}\n", output::clean(name, false)));
    }
    if same {
        text.push_str(&format!("\nFoxReach offers the {} event types this crate types\n", typed.len()));
    } else {
        text.push_str(&format!(
            "\nonly at FoxReach (delivered as EventData::Unknown until this crate types them): {}\n\
             only in this crate (FoxReach no longer offers them): {}\n",
            list(&only_foxreach),
            list(&only_crate)
        ));
    }
    let json = json!({
        "foxreach": offered,
        "only_at_foxreach": only_foxreach,
        "only_in_crate": only_crate,
        "same": same,
    });
    let report = Report::new(text, json);
    Ok(if args.check && !same { report.negative() } else { report })
}
