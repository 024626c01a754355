//! What the examples share: where the secret and port come from, and how an
//! event is printed.
#![allow(dead_code)] // each example uses its own part of this

#[cfg(feature = "delivery")]
pub(crate) mod printer;

use foxreach_webhooks::{Event, EventData};
use tokio::net::TcpListener;

/// The example secret from FoxReach's documentation: never use it in production.
pub(crate) const DEMO_SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";

/// The route FoxReach posts to.
pub(crate) const ROUTE: &str = "/webhooks/foxreach";

/// `FOXREACH_WEBHOOK_SECRET`, or the demo secret with a loud warning.
pub(crate) fn secret() -> String {
    match std::env::var("FOXREACH_WEBHOOK_SECRET") {
        Ok(secret) => secret,
        Err(_) => {
            eprintln!("WARNING: FOXREACH_WEBHOOK_SECRET is not set; using the DEMO secret from FoxReach's docs.");
            eprintln!(
                "WARNING: anyone can forge deliveries signed with it. Set FOXREACH_WEBHOOK_SECRET for real traffic."
            );
            DEMO_SECRET.to_owned()
        }
    }
}

/// Serves `app` on `127.0.0.1:$PORT` until Ctrl-C, saying where on stderr.
pub(crate) async fn serve(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    eprintln!("listening on http://{}{ROUTE}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// `PORT`, or 3000.
pub(crate) fn port() -> Result<u16, String> {
    env_number("PORT", 3000)
}

/// The number in the environment variable `name`, or `default` when it is unset.
pub(crate) fn env_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(value) => value.parse().map_err(|_| format!("{name} must be a number, not {value:?}")),
        Err(_) => Ok(default),
    }
}

/// One line for an event: its type, its timestamp and the ids it is about.
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
        _ => return format!("unknown event type {} at {}", event.name(), event.timestamp),
    };
    format!("{} at {} {ids}", event.name(), event.timestamp)
}

fn email(email_log_id: &str, campaign_id: &str, lead_id: &str) -> String {
    format!("email_log_id={email_log_id} campaign_id={campaign_id} lead_id={lead_id}")
}
