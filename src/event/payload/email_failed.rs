super::payload! {
    /// The `data` of `email.failed`: FoxReach could not send an email, for
    /// example because the mailbox's SMTP server did not answer.
    "email.failed" => EmailFailed {
        /// The email log entry of the email that failed (`cel_…`).
        email_log_id: String = "emailLogId",
        /// The campaign the email belongs to (`cmp_…`).
        campaign_id: String = "campaignId",
        /// The lead the email was meant for (`cld_…`).
        lead_id: String = "leadId",
    }
    optional {
        /// The lead's address the email was meant for.
        to_email: String = "toEmail",
        /// FoxReach's description of the failure, such as
        /// `"SMTP connection timeout"`; free text, not a stable code.
        error: String = "error",
    }
}
