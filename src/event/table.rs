//! The one table of the event types FoxReach documents. Both enums of
//! `catalog.rs`, the payload modules and the `Handler` trait of `delivery`
//! are generated from it, so a twelfth type is one row (and its payload's
//! file, which the row declares) and cannot be half-added.

/// The table of documented event types, one line each: the variant (also
/// the name of its payload struct) with its description, the wire name, and
/// the `Handler` method that receives it. `event_types!(then)` expands to
/// `then! { <the table> }`, so that every list of event types is generated
/// from this one.
macro_rules! event_types {
    ($then:ident) => {
        $then! {
            /// An email was handed to the sending mailbox.
            EmailSent = "email.sent" => email_sent,
            /// An email could not be sent.
            EmailFailed = "email.failed" => email_failed,
            /// An email came back undeliverable.
            EmailBounced = "email.bounced" => email_bounced,
            /// An email's tracking pixel was loaded.
            EmailOpened = "email.opened" => email_opened,
            /// A lead replied.
            ReplyReceived = "reply.received" => reply_received,
            /// A reply was given a category (interested, out of office…).
            ReplyCategorized = "reply.categorized" => reply_categorized,
            /// A campaign became active.
            CampaignStarted = "campaign.started" => campaign_started,
            /// A campaign was paused.
            CampaignPaused = "campaign.paused" => campaign_paused,
            /// A campaign has processed all its leads.
            CampaignCompleted = "campaign.completed" => campaign_completed,
            /// A lead was created.
            LeadCreated = "lead.created" => lead_created,
            /// A lead was updated.
            LeadUpdated = "lead.updated" => lead_updated,
        }
    };
}

pub(crate) use event_types;
