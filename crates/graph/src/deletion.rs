//! The shape every delete mutation shares: an input naming the object, and a payload
//! object (not a bare id) so a delete's answer can grow without breaking clients.

/// Declares `$input { id }` and `$payload { id }` for the mutation `$mutation`, which
/// deletes one `$noun`.
macro_rules! deletion_types {
    ($input:ident, $payload:ident, $mutation:literal, $noun:literal) => {
        #[doc = concat!("What `", $mutation, "` asks for.")]
        #[derive(async_graphql::InputObject)]
        pub struct $input {
            #[doc = concat!("The id of the ", $noun, " to delete.")]
            pub id: async_graphql::ID,
        }

        #[doc = concat!("What `", $mutation, "` answers.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $payload {
            #[doc = concat!("The id the deleted ", $noun, " had.")]
            pub id: async_graphql::ID,
        }
    };
}

pub(crate) use deletion_types;
