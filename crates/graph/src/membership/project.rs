//! Project members: the `ProjectMember` type, its list, and the three writes (the rules
//! are in the parent module, shared with workspaces).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::project_user;
use uuid::Uuid;

use super::{Level, Newcomer};
use crate::connection::{Count, Cursor, Scope, connection_types};
use crate::error::Result;
use crate::loaders::hours::HoursScope;
use crate::loaders::members::{ProjectMemberCountOf, ProjectMembersOf};
use crate::loaders::{self, ProjectById, UserById};
use crate::project::Project;
use crate::role::Role;
use crate::time_log;
use crate::user::User;

pub struct ProjectMember(pub project_user::Model);

impl From<super::Row> for ProjectMember {
    fn from(row: super::Row) -> Self {
        Self(row.into())
    }
}

/// A user's membership of a project.
#[Object]
impl ProjectMember {
    /// The membership's own id (not the user's), unique across all types: see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The member's role in the project.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The member's account.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        loaders::required(ctx, UserById(self.0.user_id))
            .await
            .map(User::new)
    }

    /// The project the membership is of.
    async fn project(&self, ctx: &Context<'_>) -> Result<Project> {
        loaders::required(ctx, ProjectById(self.0.project_id))
            .await
            .map(Project)
    }

    /// The hours this member logged on the project, summed; with `from` and `to`, only
    /// logs with `from <= loggedAt < to`.
    async fn total_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count logs at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant.")] to: Option<DateTime<Utc>>,
    ) -> Result<i32> {
        let scope = HoursScope::ProjectMember {
            project: self.0.project_id,
            user: self.0.user_id,
        };
        time_log::total_hours(ctx, scope, from, to).await
    }

    /// When the user joined the project (RFC 3339, UTC).
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
    ProjectMemberConnection,
    ProjectMemberEdge,
    ProjectMember,
    "project members"
);

/// A page of `project`'s members, in the order they joined. The caller has checked that
/// the viewer may read the project.
pub(crate) async fn members_of(
    ctx: &Context<'_>,
    project: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<ProjectMemberConnection> {
    let scope = Scope {
        connection: "Project.members",
        parent: project,
        order: "ID_ASC",
    };
    let loaded = loaders::connection_page(ctx, first, after.as_deref(), scope, |page| {
        ProjectMembersOf { project, page }
    })
    .await?;
    Ok(ProjectMemberConnection::build(
        loaded,
        scope,
        |row| Cursor::by_id(row.id),
        ProjectMember,
        Count::later(ProjectMemberCountOf(project)),
    ))
}

/// What `addProjectMember` asks for. The new member is named by exactly one of `userId`
/// and `email`.
#[derive(InputObject)]
pub struct AddProjectMemberInput {
    /// Optional client-chosen id for the membership (a version 4 or 7 UUID), for optimistic
    /// rendering and safe retries: the same id with the same input returns the existing
    /// membership; with different input, or when any other object has this id, it is
    /// `CONFLICT` on `id`.
    pub id: Option<ID>,
    /// The project to add the member to.
    pub project_id: ID,
    /// The member to add, by user id: a member of the project's workspace, else
    /// `BAD_USER_INPUT`.
    pub user_id: Option<ID>,
    /// The member to add, by the email of their account: a member of the project's
    /// workspace, else `BAD_USER_INPUT`.
    pub email: Option<String>,
    /// The new member's role; only the project's OWNERs (and the workspace's OWNERs and
    /// ADMINs) give OWNER or ADMIN, else `FORBIDDEN`.
    pub role: Role,
}

/// What `updateProjectMemberRole` asks for.
#[derive(InputObject)]
pub struct UpdateProjectMemberRoleInput {
    /// The project the membership belongs to.
    pub project_id: ID,
    /// The member's user id (not the membership's id); `NOT_FOUND` when they are not a
    /// member.
    pub user_id: ID,
    /// The role to give; only the project's OWNERs (and the workspace's OWNERs and
    /// ADMINs) grant or take OWNER or ADMIN, else `FORBIDDEN`.
    pub role: Role,
}

/// What `removeProjectMember` asks for.
#[derive(InputObject)]
pub struct RemoveProjectMemberInput {
    /// The project to remove the member from.
    pub project_id: ID,
    /// The member's user id (not the membership's id): the viewer's own to leave;
    /// `NOT_FOUND` when they are not a member.
    pub user_id: ID,
}

#[derive(Default)]
pub struct ProjectMemberMutation;

/// Writes to project membership.
#[Object]
impl ProjectMemberMutation {
    /// Adds a member of the workspace to the project. Project ADMINs add USERs; project
    /// OWNERs and workspace OWNERs/ADMINs add anyone. `CONFLICT` when already a member.
    async fn add_project_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project, the member and the role to give.")]
        input: AddProjectMemberInput,
    ) -> Result<ProjectMember> {
        let newcomer = Newcomer {
            user_id: input.user_id.as_ref(),
            email: input.email.as_deref(),
        };
        let level = Level::Project;
        super::add(
            ctx,
            level,
            input.id.as_ref(),
            &input.project_id,
            newcomer,
            input.role,
        )
        .await
        .map(ProjectMember::from)
    }

    /// Changes a project member's role, by the same rules as adding one; the project's
    /// last OWNER can't be demoted (`CONFLICT`).
    async fn update_project_member_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project, the member and their new role.")]
        input: UpdateProjectMemberRoleInput,
    ) -> Result<ProjectMember> {
        let level = Level::Project;
        super::set_role(ctx, level, &input.project_id, &input.user_id, input.role)
            .await
            .map(ProjectMember::from)
    }

    /// Removes a member from the project; anyone may leave, except its last OWNER
    /// (`CONFLICT`). Returns the removed membership as it was.
    async fn remove_project_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project and the member to remove.")] input: RemoveProjectMemberInput,
    ) -> Result<ProjectMember> {
        super::remove(ctx, Level::Project, &input.project_id, &input.user_id)
            .await
            .map(ProjectMember::from)
    }
}
