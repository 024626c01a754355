super::payload! {
    /// The `data` of `campaign.started`: a campaign became active and began sending (started or resumed).
    ///
    /// FoxReach documents only the campaign's id; any other field it sends is
    /// kept in `extra`.
    "campaign.started" => CampaignStarted {
        /// The campaign (`cmp_…`).
        campaign_id: String = "campaignId",
    }
    optional {}
}
