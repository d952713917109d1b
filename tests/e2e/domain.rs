//! The work domain through the API: validation against the seed limits, the membership rules, transactions.
