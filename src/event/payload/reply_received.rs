super::payload! {
    /// The `data` of `reply.received`: a lead answered an email of a campaign.
    "reply.received" => ReplyReceived {
        /// The reply (`crp_…`); `reply.categorized` refers to it by this id.
        reply_id: String = "replyId",
        /// The campaign the lead replied to (`cmp_…`).
        campaign_id: String = "campaignId",
        /// The lead who replied (`cld_…`).
        lead_id: String = "leadId",
    }
    optional {
        /// The address the reply came from (usually the lead's).
        from_email: String = "fromEmail",
        /// The reply's subject line, such as `"Re: Quick question"`.
        subject: String = "subject",
        /// The beginning of the reply's text, for a preview; not the whole body.
        body_preview: String = "bodyPreview",
    }
}
