//! Workspace members: the `WorkspaceMember` type, its list, and the three writes (the
//! rules are in the parent module, shared with projects).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::workspace_user;
use uuid::Uuid;

use super::{Level, Newcomer};
use crate::connection::{Count, Cursor, Scope, connection_types};
use crate::context::ContextExt;
use crate::error::Result;
use crate::loaders::hours::HoursScope;
use crate::loaders::members::{WorkspaceMemberCountOf, WorkspaceMembersOf};
use crate::loaders::{self, UserById, WorkspaceById};
use crate::role::Role;
use crate::time_log;
use crate::user::User;
use crate::workspace::Workspace;

pub struct WorkspaceMember(pub workspace_user::Model);

impl From<super::Row> for WorkspaceMember {
    fn from(row: super::Row) -> Self {
        Self(row.into())
    }
}

/// A user's membership of a workspace.
#[Object]
impl WorkspaceMember {
    /// The membership's own id (not the user's), unique across all types: see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The member's role in the workspace.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The member's account.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        loaders::required(ctx, UserById(self.0.user_id))
            .await
            .map(User::new)
    }

    /// The workspace the membership is of.
    async fn workspace(&self, ctx: &Context<'_>) -> Result<Workspace> {
        loaders::required(ctx, WorkspaceById(self.0.workspace_id))
            .await
            .map(Workspace)
    }

    /// The hours this member logged in the workspace, summed over the projects the viewer
    /// may read; with `from` and `to`, only logs with `from <= loggedAt < to`.
    async fn total_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count logs at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant.")] to: Option<DateTime<Utc>>,
    ) -> Result<i32> {
        let viewer = ctx.require_viewer()?;
        let scope = HoursScope::Member {
            workspace: self.0.workspace_id,
            user: self.0.user_id,
            viewer: viewer.user_id,
        };
        time_log::total_hours(ctx, scope, from, to).await
    }

    /// When the user joined (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the membership's role was last set (RFC 3339, UTC), even to the role it had;
    /// equal to `createdAt` until the first.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

connection_types!(
    WorkspaceMemberConnection,
    WorkspaceMemberEdge,
    WorkspaceMember,
    "workspace members"
);

/// A page of `workspace`'s members, in the order they joined. The caller has checked that
/// the viewer is a member.
pub(crate) async fn members_of(
    ctx: &Context<'_>,
    workspace: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<WorkspaceMemberConnection> {
    let scope = Scope {
        connection: "Workspace.members",
        parent: workspace,
        order: "ID_ASC",
    };
    let loaded = loaders::connection_page(ctx, first, after.as_deref(), scope, |page| {
        WorkspaceMembersOf { workspace, page }
    })
    .await?;
    Ok(WorkspaceMemberConnection::build(
        loaded,
        scope,
        |row| Cursor::by_id(row.id),
        WorkspaceMember,
        Count::later(WorkspaceMemberCountOf(workspace)),
    ))
}

/// What `addWorkspaceMember` asks for. The new member is named by exactly one of `userId`
/// and `email`.
#[derive(InputObject)]
pub struct AddWorkspaceMemberInput {
    /// Optional client-chosen id for the membership (a version 4 or 7 UUID), for optimistic
    /// rendering and safe retries: the same id with the same input returns the existing
    /// membership; with different input, or when any other object has this id, it is
    /// `CONFLICT` on `id`.
    pub id: Option<ID>,
    /// The workspace to add the account to.
    pub workspace_id: ID,
    /// The account to add, by its user id; `BAD_USER_INPUT` when no account has it.
    pub user_id: Option<ID>,
    /// The account to add, by its email; `BAD_USER_INPUT` when no account has it.
    pub email: Option<String>,
    /// The new member's role; only an OWNER may give OWNER or ADMIN (else `FORBIDDEN`).
    pub role: Role,
}

/// What `updateWorkspaceMemberRole` asks for.
#[derive(InputObject)]
pub struct UpdateWorkspaceMemberRoleInput {
    /// The workspace the membership belongs to.
    pub workspace_id: ID,
    /// The member's user id (not the membership's id); `NOT_FOUND` when they are not a
    /// member.
    pub user_id: ID,
    /// The role to give; only an OWNER grants or takes OWNER or ADMIN (else `FORBIDDEN`).
    pub role: Role,
}

/// What `removeWorkspaceMember` asks for.
#[derive(InputObject)]
pub struct RemoveWorkspaceMemberInput {
    /// The workspace to remove the member from.
    pub workspace_id: ID,
    /// The member's user id (not the membership's id): the viewer's own to leave;
    /// `NOT_FOUND` when they are not a member.
    pub user_id: ID,
}

#[derive(Default)]
pub struct WorkspaceMemberMutation;

/// Writes to workspace membership.
#[Object]
impl WorkspaceMemberMutation {
    /// Adds an account to a workspace. OWNERs add anyone; ADMINs add USERs. `CONFLICT`
    /// when already a member.
    async fn add_workspace_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace, the account and the role to give.")]
        input: AddWorkspaceMemberInput,
    ) -> Result<WorkspaceMember> {
        let newcomer = Newcomer {
            user_id: input.user_id.as_ref(),
            email: input.email.as_deref(),
        };
        let level = Level::Workspace;
        super::add(
            ctx,
            level,
            input.id.as_ref(),
            &input.workspace_id,
            newcomer,
            input.role,
        )
        .await
        .map(WorkspaceMember::from)
    }

    /// Changes a member's role. Only an OWNER grants or takes OWNER or ADMIN; the last
    /// OWNER can't be demoted (`CONFLICT`).
    async fn update_workspace_member_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace, the member and their new role.")]
        input: UpdateWorkspaceMemberRoleInput,
    ) -> Result<WorkspaceMember> {
        let level = Level::Workspace;
        super::set_role(ctx, level, &input.workspace_id, &input.user_id, input.role)
            .await
            .map(WorkspaceMember::from)
    }

    /// Removes a member, and with them their memberships of the workspace's projects.
    /// Anyone may remove themself (leave); the last OWNER can't (`CONFLICT`), nor can the
    /// last OWNER of one of its projects be removed (`CONFLICT`: give the project another
    /// OWNER first). Returns the removed membership as it was.
    async fn remove_workspace_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace and the member to remove.")]
        input: RemoveWorkspaceMemberInput,
    ) -> Result<WorkspaceMember> {
        super::remove(ctx, Level::Workspace, &input.workspace_id, &input.user_id)
            .await
            .map(WorkspaceMember::from)
    }
}
