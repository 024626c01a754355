//! What `lead.created` and `lead.updated` carry: one field list for both.

/// Declares a `lead.*` payload: the documented `leadId` and, as optional
/// fields, the lead as FoxReach's API reference describes it.
///
/// The webhook docs document only `leadId` (and show `email`); the other
/// fields are the API's lead object, which a `lead.*` delivery most likely
/// carries. Typing them costs nothing if they are absent, and a value of
/// another type degrades rather than failing the event.
macro_rules! lead_payload {
    ( $(#[$meta:meta])* $wire_event:literal => $name:ident ) => {
        $crate::event::payload::payload! {
            $(#[$meta])*
            $wire_event => $name {
                /// The lead (`cld_…`).
                lead_id: String = "leadId",
            }
            optional {
                /// The lead's email address, the one FoxReach sends to.
                email: String = "email",
                /// The lead's first name, for personalizing emails (from
                /// FoxReach's API reference, not the webhook docs).
                first_name: String = "firstName",
                /// The lead's last name (from FoxReach's API reference, not the
                /// webhook docs).
                last_name: String = "lastName",
                /// The company the lead works for (from FoxReach's API
                /// reference, not the webhook docs).
                company: String = "company",
                /// The lead's job title (from FoxReach's API reference, not the
                /// webhook docs).
                title: String = "title",
                /// The lead's phone number, as entered (from FoxReach's API
                /// reference, not the webhook docs).
                phone: String = "phone",
                /// The lead's LinkedIn profile URL (from FoxReach's API
                /// reference, not the webhook docs).
                linkedin_url: String = "linkedinUrl",
                /// The lead's or their company's website (from FoxReach's API
                /// reference, not the webhook docs).
                website: String = "website",
                /// The account's own fields on the lead, any JSON object, usable
                /// as email variables (from FoxReach's API reference, not the
                /// webhook docs).
                custom_fields: serde_json::Map<String, serde_json::Value> = "customFields",
                /// Free-text notes on the lead (from FoxReach's API reference,
                /// not the webhook docs).
                notes: String = "notes",
                /// The names of the tags the lead carries (from FoxReach's API
                /// reference, not the webhook docs).
                tags: Vec<String> = "tags",
                /// Where the lead stands: active, bounced, unsubscribed or
                /// replied (from FoxReach's API reference, not the webhook docs).
                status: $crate::event::LeadStatus = "status",
                /// How the lead was added: through the API, a CSV import or by
                /// hand (from FoxReach's API reference, not the webhook docs).
                source: $crate::event::LeadSource = "source",
                /// When the lead was created in FoxReach; the API writes UTC
                /// without an offset (from FoxReach's API reference, not the
                /// webhook docs).
                created_at: $crate::event::Timestamp = "createdAt",
                /// When the lead was last changed in FoxReach (from FoxReach's
                /// API reference, not the webhook docs).
                updated_at: $crate::event::Timestamp = "updatedAt",
            }
        }
    };
}

pub(crate) use lead_payload;

super::open_enum! {
    /// Where a lead stands in FoxReach, its `status` (from FoxReach's API
    /// reference, not the webhook docs).
    ///
    /// ```
    /// use foxreach_webhooks::event::LeadStatus;
    ///
    /// assert_eq!(LeadStatus::from("unsubscribed"), LeadStatus::Unsubscribed);
    /// ```
    LeadStatus {
        /// The lead can be emailed.
        Active = "active",
        /// An email to the lead bounced.
        Bounced = "bounced",
        /// The lead asked not to be emailed again.
        Unsubscribed = "unsubscribed",
        /// The lead replied.
        Replied = "replied",
    }
}

super::open_enum! {
    /// How a lead was added to FoxReach, its `source` (from FoxReach's API
    /// reference, not the webhook docs).
    ///
    /// ```
    /// use foxreach_webhooks::event::LeadSource;
    ///
    /// assert_eq!(LeadSource::from("csv_import"), LeadSource::CsvImport);
    /// ```
    LeadSource {
        /// Created through FoxReach's API.
        Api = "api",
        /// Imported from a CSV file.
        CsvImport = "csv_import",
        /// Entered by hand in FoxReach.
        Manual = "manual",
    }
}
