super::payload! {
    /// The `data` of `campaign.paused`: a campaign stopped sending until it is resumed.
    ///
    /// FoxReach documents only the campaign's id; any other field it sends is
    /// kept in `extra`.
    "campaign.paused" => CampaignPaused {
        /// The campaign (`cmp_…`).
        campaign_id: String = "campaignId",
    }
    optional {}
}
