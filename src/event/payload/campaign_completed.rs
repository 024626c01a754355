super::campaign_payload! {
    /// The `data` of `campaign.completed`: every lead of a campaign has been through its whole sequence.
    ///
    /// FoxReach's webhook docs document only the campaign's id; the other
    /// fields are the campaign as FoxReach's API reference describes it. Any
    /// further field is kept in `extra`.
    "campaign.completed" => CampaignCompleted
}
