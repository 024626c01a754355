super::payload! {
    /// The `data` of `reply.categorized`: a reply was given a category, by
    /// FoxReach's classifier or by a person.
    "reply.categorized" => ReplyCategorized {
        /// The reply that was categorized (`crp_…`), as in `reply.received`.
        reply_id: String = "replyId",
    }
    optional {
        /// The reply's new category.
        category: ReplyCategory = "category",
        /// The category it had before (often [`ReplyCategory::Uncategorized`]).
        previous_category: ReplyCategory = "previousCategory",
    }
}

super::open_enum! {
    /// What a reply says about the lead's intent, as FoxReach categorizes it.
    ///
    /// ```
    /// use foxreach_webhooks::event::ReplyCategory;
    ///
    /// assert_eq!(ReplyCategory::from("out_of_office"), ReplyCategory::OutOfOffice);
    /// assert_eq!(ReplyCategory::NotInterested.to_string(), "not_interested");
    /// ```
    ReplyCategory {
        /// The lead wants to hear more.
        Interested = "interested",
        /// The lead declined.
        NotInterested = "not_interested",
        /// An automatic absence reply, not the lead's answer.
        OutOfOffice = "out_of_office",
        /// Not categorized yet.
        Uncategorized = "uncategorized",
    }
}
