//! The example receivers' handler: one line per event on stdout, typed or
//! not, so that nothing that reaches the application goes unseen.

use foxreach_webhooks::delivery::{Delivery, Handled, Handler};
use foxreach_webhooks::event::{
    CampaignCompleted, CampaignPaused, CampaignStarted, EmailBounced, EmailFailed, EmailOpened, EmailSent, LeadCreated,
    LeadUpdated, ReplyCategorized, ReplyReceived, UnknownEvent, UntypedEvent,
};
use foxreach_webhooks::{Event, EventData};

/// Prints each event it is given, as [`super::summary`] formats it.
pub(crate) struct Printer;

impl Handler for Printer {
    async fn email_sent(&self, data: EmailSent, delivery: Delivery<'_>) -> Handled {
        print(EventData::EmailSent(data), delivery)
    }
    async fn email_failed(&self, data: EmailFailed, delivery: Delivery<'_>) -> Handled {
        print(EventData::EmailFailed(data), delivery)
    }
    async fn email_bounced(&self, data: EmailBounced, delivery: Delivery<'_>) -> Handled {
        print(EventData::EmailBounced(data), delivery)
    }
    async fn email_opened(&self, data: EmailOpened, delivery: Delivery<'_>) -> Handled {
        print(EventData::EmailOpened(data), delivery)
    }
    async fn reply_received(&self, data: ReplyReceived, delivery: Delivery<'_>) -> Handled {
        print(EventData::ReplyReceived(data), delivery)
    }
    async fn reply_categorized(&self, data: ReplyCategorized, delivery: Delivery<'_>) -> Handled {
        print(EventData::ReplyCategorized(data), delivery)
    }
    async fn campaign_started(&self, data: CampaignStarted, delivery: Delivery<'_>) -> Handled {
        print(EventData::CampaignStarted(data), delivery)
    }
    async fn campaign_paused(&self, data: CampaignPaused, delivery: Delivery<'_>) -> Handled {
        print(EventData::CampaignPaused(data), delivery)
    }
    async fn campaign_completed(&self, data: CampaignCompleted, delivery: Delivery<'_>) -> Handled {
        print(EventData::CampaignCompleted(data), delivery)
    }
    async fn lead_created(&self, data: LeadCreated, delivery: Delivery<'_>) -> Handled {
        print(EventData::LeadCreated(data), delivery)
    }
    async fn lead_updated(&self, data: LeadUpdated, delivery: Delivery<'_>) -> Handled {
        print(EventData::LeadUpdated(data), delivery)
    }
    async fn unknown(&self, event: UnknownEvent, delivery: Delivery<'_>) -> Handled {
        print(EventData::Unknown(event), delivery)
    }
    async fn untyped(&self, event: UntypedEvent, delivery: Delivery<'_>) -> Handled {
        print(EventData::Untyped(event), delivery)
    }
}

fn print(data: EventData, delivery: Delivery<'_>) -> Handled {
    println!("{}", super::summary(&Event::new(delivery.timestamp.clone(), data)));
    Ok(())
}
