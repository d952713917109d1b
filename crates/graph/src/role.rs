//! The roles a member holds in a workspace or a project, as the API names them.

use async_graphql::Enum;
use entity::role::Role as StoredRole;

/// A member's role in a workspace or a project: OWNER > ADMIN > USER.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including deleting the workspace or project and managing OWNERs and
    /// ADMINs.
    Owner,
    /// Manages the workspace or project and its USER members.
    Admin,
    /// Works in it.
    User,
}

impl From<StoredRole> for Role {
    fn from(role: StoredRole) -> Self {
        match role {
            StoredRole::Owner => Self::Owner,
            StoredRole::Admin => Self::Admin,
            StoredRole::User => Self::User,
        }
    }
}

impl From<Role> for StoredRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::User => Self::User,
        }
    }
}
