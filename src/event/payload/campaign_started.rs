super::campaign_payload! {
    /// The `data` of `campaign.started`: a campaign became active and began sending (started or resumed).
    ///
    /// FoxReach's webhook docs document only the campaign's id; the other
    /// fields are the campaign as FoxReach's API reference describes it. Any
    /// further field is kept in `extra`.
    "campaign.started" => CampaignStarted
}
