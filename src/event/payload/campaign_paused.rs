super::campaign_payload! {
    /// The `data` of `campaign.paused`: a campaign stopped sending until it is resumed.
    ///
    /// FoxReach's webhook docs document only the campaign's id; the other
    /// fields are the campaign as FoxReach's API reference describes it. Any
    /// further field is kept in `extra`.
    "campaign.paused" => CampaignPaused
}
