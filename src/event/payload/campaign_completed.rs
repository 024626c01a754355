super::payload! {
    /// The `data` of `campaign.completed`: every lead of a campaign has been through its whole sequence.
    ///
    /// FoxReach documents only the campaign's id; any other field it sends is
    /// kept in `extra`.
    "campaign.completed" => CampaignCompleted {
        /// The campaign (`cmp_…`).
        campaign_id: String = "campaignId",
    }
    optional {}
}
