//! The example receivers' handler: one line per event, typed or not, so
//! that nothing that reaches the application goes unseen: on stdout, or
//! appended to the file named by `FOXREACH_EVENTS_FILE`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use foxreach_webhooks::delivery::{Delivery, Handled, Handler, HandlerError};
use foxreach_webhooks::event::{
    CampaignCompleted, CampaignPaused, CampaignStarted, EmailBounced, EmailFailed, EmailOpened, EmailSent, LeadCreated,
    LeadUpdated, ReplyCategorized, ReplyReceived, UnknownEvent, UntypedEvent,
};
use foxreach_webhooks::{Event, EventData};

/// Writes each event it is given, as [`super::summary`] formats it.
pub(crate) struct Printer {
    /// Where to append the lines, opened for each event; stdout when `None`.
    events_file: Option<PathBuf>,
}

impl Printer {
    /// Appending to `FOXREACH_EVENTS_FILE` if it is set, else printing.
    pub(crate) fn from_env() -> Self {
        Self { events_file: std::env::var_os("FOXREACH_EVENTS_FILE").map(PathBuf::from) }
    }

    fn write(&self, data: EventData, delivery: Delivery<'_>) -> Handled {
        let mut line = super::summary(&Event::new(delivery.timestamp.clone(), data));
        if let Some(tenant) = delivery.tenant {
            line = format!("[{tenant}] {line}");
        }
        let Some(path) = &self.events_file else {
            println!("{line}");
            return Ok(());
        };
        // Opened for each event, as a downstream is reached for each one:
        // while the file's folder is gone, the event fails retryably and is
        // kept, as it would be while a real CRM is down.
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| HandlerError::retryable(format!("cannot open the events file: {error}")))?;
        // One write of the whole line: appends of concurrent handlers do not interleave.
        file.write_all(format!("{line}\n").as_bytes())
            .map_err(|error| HandlerError::retryable(format!("cannot write the events file: {error}")))
    }
}

impl Handler for Printer {
    async fn email_sent(&self, data: EmailSent, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::EmailSent(data), delivery)
    }
    async fn email_failed(&self, data: EmailFailed, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::EmailFailed(data), delivery)
    }
    async fn email_bounced(&self, data: EmailBounced, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::EmailBounced(data), delivery)
    }
    async fn email_opened(&self, data: EmailOpened, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::EmailOpened(data), delivery)
    }
    async fn reply_received(&self, data: ReplyReceived, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::ReplyReceived(data), delivery)
    }
    async fn reply_categorized(&self, data: ReplyCategorized, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::ReplyCategorized(data), delivery)
    }
    async fn campaign_started(&self, data: CampaignStarted, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::CampaignStarted(data), delivery)
    }
    async fn campaign_paused(&self, data: CampaignPaused, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::CampaignPaused(data), delivery)
    }
    async fn campaign_completed(&self, data: CampaignCompleted, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::CampaignCompleted(data), delivery)
    }
    async fn lead_created(&self, data: LeadCreated, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::LeadCreated(data), delivery)
    }
    async fn lead_updated(&self, data: LeadUpdated, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::LeadUpdated(data), delivery)
    }
    async fn unknown(&self, event: UnknownEvent, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::Unknown(event), delivery)
    }
    async fn untyped(&self, event: UntypedEvent, delivery: Delivery<'_>) -> Handled {
        self.write(EventData::Untyped(event), delivery)
    }
}
