super::lead_payload! {
    /// The `data` of `lead.created`: a lead was added to FoxReach.
    ///
    /// FoxReach's webhook docs document the lead's id and show its email
    /// address; the other fields are the lead as FoxReach's API reference
    /// describes it. Any further field is kept in `extra`.
    "lead.created" => LeadCreated
}
