//! What `campaign.started`, `campaign.paused` and `campaign.completed`
//! carry: one field list for the three.

/// Declares a `campaign.*` payload: the documented `campaignId` and, as
/// optional fields, the campaign as FoxReach's API reference describes it.
///
/// The webhook docs document only `campaignId`; the other fields are the
/// API's campaign object, which a `campaign.*` delivery most likely carries.
/// A value of another type degrades rather than failing the event.
macro_rules! campaign_payload {
    ( $(#[$meta:meta])* $wire_event:literal => $name:ident ) => {
        $crate::event::payload::payload! {
            $(#[$meta])*
            $wire_event => $name {
                /// The campaign (`cmp_…`).
                campaign_id: String = "campaignId",
            }
            optional {
                /// The campaign's name, as its owner gave it (from FoxReach's API
                /// reference, not the webhook docs).
                name: String = "name",
                /// The campaign's state: draft, active, paused or completed (from
                /// FoxReach's API reference, not the webhook docs).
                status: $crate::event::CampaignStatus = "status",
                /// The IANA time zone its sending days and hours are in, such as
                /// `Europe/Berlin` (from FoxReach's API reference, not the
                /// webhook docs).
                timezone: String = "timezone",
                /// How many leads the campaign has (from FoxReach's API
                /// reference, not the webhook docs).
                total_leads: u64 = "totalLeads",
                /// How many emails it has sent (from FoxReach's API reference,
                /// not the webhook docs).
                total_sent: u64 = "totalSent",
                /// How many of them were delivered (from FoxReach's API
                /// reference, not the webhook docs).
                total_delivered: u64 = "totalDelivered",
                /// How many of them bounced (from FoxReach's API reference, not
                /// the webhook docs).
                total_bounced: u64 = "totalBounced",
                /// How many leads replied (from FoxReach's API reference, not the
                /// webhook docs).
                total_replied: u64 = "totalReplied",
                /// How many emails were opened (from FoxReach's API reference,
                /// not the webhook docs).
                total_opened: u64 = "totalOpened",
                /// When the campaign first became active; the API writes UTC
                /// without an offset (from FoxReach's API reference, not the
                /// webhook docs).
                started_at: $crate::event::Timestamp = "startedAt",
                /// When the campaign had processed all its leads (from FoxReach's
                /// API reference, not the webhook docs).
                completed_at: $crate::event::Timestamp = "completedAt",
            }
        }
    };
}

pub(crate) use campaign_payload;

super::open_enum! {
    /// A campaign's state in FoxReach, its `status` (from FoxReach's API
    /// reference, not the webhook docs).
    ///
    /// ```
    /// use foxreach_webhooks::event::CampaignStatus;
    ///
    /// assert_eq!(CampaignStatus::from("paused"), CampaignStatus::Paused);
    /// ```
    CampaignStatus {
        /// Being set up; not sending.
        Draft = "draft",
        /// Sending.
        Active = "active",
        /// Stopped for now; can be resumed.
        Paused = "paused",
        /// Every lead has been through the sequence.
        Completed = "completed",
    }
}
