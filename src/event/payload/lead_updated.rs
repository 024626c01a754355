super::lead_payload! {
    /// The `data` of `lead.updated`: a lead's details or status changed.
    ///
    /// FoxReach's webhook docs document the lead's id and show its email
    /// address; the other fields are the lead as FoxReach's API reference
    /// describes it. Any further field is kept in `extra`.
    "lead.updated" => LeadUpdated
}
