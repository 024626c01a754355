super::payload! {
    /// The `data` of `email.sent`: FoxReach handed an email of a campaign
    /// sequence to the sending mailbox.
    ///
    /// # Example
    ///
    /// ```
    /// use foxreach_webhooks::{Event, EventData};
    ///
    /// let event = Event::from_slice(br#"{"event":"email.sent","timestamp":"2025-01-15T10:30:00Z",
    ///     "data":{"emailLogId":"cel_123","campaignId":"cmp_456","leadId":"cld_789","sequenceStep":1}}"#)?;
    /// let EventData::EmailSent(sent) = event.data else { unreachable!() };
    /// assert_eq!(sent.email_log_id, "cel_123");
    /// assert_eq!(sent.sequence_step, Some(1));
    /// # Ok::<(), foxreach_webhooks::ParseError>(())
    /// ```
    "email.sent" => EmailSent {
        /// The email log entry of this email (`cel_…`); the later
        /// `email.opened`, `email.bounced` and `email.failed` events for the same
        /// email carry the same id.
        email_log_id: String = "emailLogId",
        /// The campaign the email belongs to (`cmp_…`).
        campaign_id: String = "campaignId",
        /// The lead the email was sent to (`cld_…`).
        lead_id: String = "leadId",
    }
    optional {
        /// The lead's address the email was sent to.
        to_email: String = "toEmail",
        /// The mailbox address the email was sent from.
        from_email: String = "fromEmail",
        /// The subject line as sent, with the lead's variables filled in.
        subject: String = "subject",
        /// Which step of the campaign's sequence this email is (the first is `1`).
        sequence_step: u32 = "sequenceStep",
    }
}
