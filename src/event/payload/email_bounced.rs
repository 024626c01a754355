super::payload! {
    /// The `data` of `email.bounced`: the lead's mail server returned an email
    /// as undeliverable.
    "email.bounced" => EmailBounced {
        /// The email log entry of the email that bounced (`cel_…`).
        email_log_id: String = "emailLogId",
        /// The campaign the email belongs to (`cmp_…`).
        campaign_id: String = "campaignId",
        /// The lead whose address bounced (`cld_…`).
        lead_id: String = "leadId",
    }
    optional {
        /// The lead's address that bounced.
        to_email: String = "toEmail",
        /// Whether the bounce is permanent ([`BounceType::Hard`]) or not.
        bounce_type: BounceType = "bounceType",
    }
}

super::open_enum! {
    /// The kind of bounce, as FoxReach reports it in `bounceType`.
    ///
    /// ```
    /// use foxreach_webhooks::event::BounceType;
    ///
    /// assert_eq!(BounceType::from("hard"), BounceType::Hard);
    /// assert_eq!(BounceType::from("blocked").as_str(), "blocked");
    /// ```
    BounceType {
        /// A permanent failure (the address does not exist): stop emailing it.
        Hard = "hard",
        /// A temporary failure (a full mailbox, a server down): a later email may arrive.
        Soft = "soft",
    }
}
