super::payload! {
    /// The `data` of `lead.created`: a lead was added to FoxReach.
    ///
    /// FoxReach documents the lead's id and shows its email address; the
    /// other lead fields it may send (names, company, tags, status…) are kept
    /// in `extra`.
    "lead.created" => LeadCreated {
        /// The lead (`cld_…`).
        lead_id: String = "leadId",
    }
    optional {
        /// The lead's email address.
        email: String = "email",
    }
}
