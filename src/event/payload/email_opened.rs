super::payload! {
    /// The `data` of `email.opened`: FoxReach's tracking pixel in an email was
    /// loaded. Mail clients that preload images can report opens no person made.
    "email.opened" => EmailOpened {
        /// The email log entry of the email that was opened (`cel_…`).
        email_log_id: String = "emailLogId",
        /// The campaign the email belongs to (`cmp_…`).
        campaign_id: String = "campaignId",
        /// The lead the email was sent to (`cld_…`).
        lead_id: String = "leadId",
    }
    optional {
        /// The lead's address the email was sent to.
        to_email: String = "toEmail",
    }
}
