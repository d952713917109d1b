//! Project membership: who works on a project, and adding, re-roling and removing them.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::role::Role as StoredRole;
use entity::{project_user, workspace_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::connection::{Cursor, Page, Scope, Selection, SortValue, connection_types};
use crate::context::ContextExt;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::loaders::members::{ProjectMemberCountOf, ProjectMembersOf};
use crate::loaders::{self, Count, UserById};
use crate::policy::{self, ProjectAccess, ProjectAction};
use crate::role::Role;
use crate::user::User;
use crate::validate;

const PROJECT_MEMBER: UniqueKey = UniqueKey {
    constraint: "uq_project_users_user_project",
    sqlite_columns: "project_users.user_id, project_users.project_id",
    field: "userId",
    message: "this user is already a member of the project",
};

/// A user's membership of a project.
pub struct ProjectMember(pub project_user::Model);

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

    /// When the user joined the project.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
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
    let selection = Selection::of(ctx);
    let page = Page::forward(first, after.as_deref(), scope)?.counting(selection.total);
    let key = ProjectMembersOf {
        project,
        page: page.clone(),
    };
    let paged = loaders::page(ctx, selection.rows, key).await?;
    Ok(ProjectMemberConnection::build(
        paged,
        &page,
        scope,
        |row| Cursor {
            value: SortValue::Id,
            id: row.id,
        },
        ProjectMember,
        Count::ProjectMembers(ProjectMemberCountOf(project)),
    ))
}

/// What `addProjectMember` and `updateProjectMemberRole` ask for.
#[derive(InputObject)]
pub struct ProjectMemberInput {
    /// The project whose membership to add or change.
    pub project_id: ID,
    /// A member of the project's workspace.
    pub user_id: ID,
    /// The role to give; only the project's OWNERs (and the workspace's OWNERs and
    /// ADMINs) give or take OWNER or ADMIN, else `FORBIDDEN`.
    pub role: Role,
}

/// What `removeProjectMember` asks for.
#[derive(InputObject)]
pub struct RemoveProjectMemberInput {
    /// The project to remove the member from.
    pub project_id: ID,
    /// The member's user id (not the membership's id): the viewer's own to leave.
    pub user_id: ID,
}

/// Writes to project membership.
#[derive(Default)]
pub struct ProjectMemberMutation;

/// Writes to project membership.
#[Object]
impl ProjectMemberMutation {
    /// Adds a member of the workspace to the project. Project ADMINs add USERs; project
    /// OWNERs and workspace OWNERs/ADMINs add anyone. `BAD_USER_INPUT` on `userId` for a
    /// user outside the workspace; `CONFLICT` when already a member.
    async fn add_project_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project, the user and the role to give.")] input: ProjectMemberInput,
    ) -> Result<ProjectMember> {
        let project_id = validate::id("projectId", &input.project_id)?;
        let user_id = validate::id("userId", &input.user_id)?;
        let viewer = *ctx.require_viewer()?;
        let (found, access) =
            policy::authorize_project(ctx, project_id, ProjectAction::Read).await?;
        let role = StoredRole::from(input.role);
        policy::change_membership(
            acting_role(access),
            user_id == viewer.user_id,
            None,
            Some(role),
        )
        .check()?;
        let db = ctx.db()?;
        let in_workspace = workspace_user::Entity::find()
            .filter(workspace_user::Column::WorkspaceId.eq(found.workspace_id))
            .filter(workspace_user::Column::UserId.eq(user_id))
            .count(db)
            .await?;
        if in_workspace == 0 {
            return Err(Error::bad_input(
                "userId",
                "only members of the project's workspace can join it",
            ));
        }
        if membership(db, project_id, user_id).await?.is_some() {
            return Err(PROJECT_MEMBER.conflict());
        }
        let created = project_user::ActiveModel {
            user_id: Set(user_id),
            project_id: Set(project_id),
            role: Set(role),
            ..Default::default()
        }
        .insert(db)
        .await
        .on_unique(PROJECT_MEMBER)?;
        Ok(ProjectMember(created))
    }

    /// Changes a project member's role, by the same rules as adding one. `NOT_FOUND` when
    /// the user is not a member of the project.
    async fn update_project_member_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project, the member and their new role.")] input: ProjectMemberInput,
    ) -> Result<ProjectMember> {
        let project_id = validate::id("projectId", &input.project_id)?;
        let user_id = validate::id("userId", &input.user_id)?;
        let viewer = *ctx.require_viewer()?;
        let (_, access) = policy::authorize_project(ctx, project_id, ProjectAction::Read).await?;
        let db = ctx.db()?;
        let target = membership(db, project_id, user_id)
            .await?
            .ok_or(Error::NotFound)?;
        let role = StoredRole::from(input.role);
        policy::change_membership(
            acting_role(access),
            user_id == viewer.user_id,
            Some(target.role),
            Some(role),
        )
        .check()?;
        let mut change: project_user::ActiveModel = target.into();
        change.role = Set(role);
        Ok(ProjectMember(change.update(db).await?))
    }

    /// Removes a member from the project; anyone may leave. Returns the removed
    /// membership's id.
    async fn remove_project_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project and the member to remove.")] input: RemoveProjectMemberInput,
    ) -> Result<ID> {
        let project_id = validate::id("projectId", &input.project_id)?;
        let user_id = validate::id("userId", &input.user_id)?;
        let viewer = *ctx.require_viewer()?;
        let (_, access) = policy::authorize_project(ctx, project_id, ProjectAction::Read).await?;
        let db = ctx.db()?;
        let target = membership(db, project_id, user_id)
            .await?
            .ok_or(Error::NotFound)?;
        policy::change_membership(
            acting_role(access),
            user_id == viewer.user_id,
            Some(target.role),
            None,
        )
        .check()?;
        project_user::Entity::delete_by_id(target.id)
            .exec(db)
            .await?;
        Ok(ID(target.id.to_string()))
    }
}

/// The role a viewer acts with on a project's membership: a workspace OWNER or ADMIN acts
/// as the project's OWNER.
fn acting_role(access: ProjectAccess) -> Option<StoredRole> {
    match access.workspace_role {
        Some(StoredRole::Owner | StoredRole::Admin) => Some(StoredRole::Owner),
        _ => access.project_role,
    }
}

async fn membership(
    db: &impl ConnectionTrait,
    project_id: Uuid,
    user_id: Uuid,
) -> Result<Option<project_user::Model>> {
    Ok(project_user::Entity::find()
        .filter(project_user::Column::ProjectId.eq(project_id))
        .filter(project_user::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}
