//! Workspace membership: who belongs to a workspace, and adding, re-roling and removing
//! them.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::role::Role as StoredRole;
use entity::{project, project_user, user, workspace_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::connection::{Cursor, Page, Scope, Selection, SortValue, connection_types};
use crate::context::ContextExt;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::loaders::hours::HoursScope;
use crate::loaders::members::{WorkspaceMemberCountOf, WorkspaceMembersOf};
use crate::loaders::{self, Count, UserById};
use crate::policy::{self, WorkspaceAction};
use crate::role::Role;
use crate::time_log;
use crate::user::User;
use crate::validate;

const WORKSPACE_MEMBER: UniqueKey = UniqueKey {
    constraint: "uq_workspace_users_user_workspace",
    sqlite_columns: "workspace_users.user_id, workspace_users.workspace_id",
    field: "email",
    message: "this user is already a member of the workspace",
};

/// A user's membership of a workspace.
pub struct WorkspaceMember(pub workspace_user::Model);

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

    /// When the user joined.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
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
    let selection = Selection::of(ctx);
    let page = Page::forward(first, after.as_deref(), scope)?.counting(selection.total);
    let key = WorkspaceMembersOf {
        workspace,
        page: page.clone(),
    };
    let paged = loaders::page(ctx, selection.rows, key).await?;
    Ok(WorkspaceMemberConnection::build(
        paged,
        &page,
        scope,
        |row| Cursor {
            value: SortValue::Id,
            id: row.id,
        },
        WorkspaceMember,
        Count::WorkspaceMembers(WorkspaceMemberCountOf(workspace)),
    ))
}

/// What `addWorkspaceMember` asks for.
#[derive(InputObject)]
pub struct AddWorkspaceMemberInput {
    /// The workspace to add the account to.
    pub workspace_id: ID,
    /// The email of an existing account.
    pub email: String,
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
    /// The member's user id (not the membership's id): the viewer's own to leave.
    pub user_id: ID,
}

/// Writes to workspace membership.
#[derive(Default)]
pub struct WorkspaceMemberMutation;

/// Writes to workspace membership.
#[Object]
impl WorkspaceMemberMutation {
    /// Adds the account with `email` to a workspace. OWNERs add anyone; ADMINs add USERs.
    /// `BAD_USER_INPUT` on `email` when no account has it; `CONFLICT` when already a member.
    async fn add_workspace_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace, the account's email and the role to give.")]
        input: AddWorkspaceMemberInput,
    ) -> Result<WorkspaceMember> {
        let workspace_id = validate::id("workspaceId", &input.workspace_id)?;
        let email = validate::email("email", &input.email)?;
        let (_, actor) =
            policy::authorize_workspace(ctx, workspace_id, WorkspaceAction::Read).await?;
        let role = StoredRole::from(input.role);
        policy::change_membership(actor, false, None, Some(role)).check()?;
        let db = ctx.db()?;
        let account = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(db)
            .await?
            .ok_or_else(|| Error::bad_input("email", "no account has this email"))?;
        let existing = membership(db, workspace_id, account.id).await?;
        if existing.is_some() {
            return Err(WORKSPACE_MEMBER.conflict());
        }
        let created = workspace_user::ActiveModel {
            user_id: Set(account.id),
            workspace_id: Set(workspace_id),
            role: Set(role),
            ..Default::default()
        }
        .insert(db)
        .await
        .on_unique(WORKSPACE_MEMBER)?;
        Ok(WorkspaceMember(created))
    }

    /// Changes a member's role. Only an OWNER grants or takes OWNER or ADMIN; the last
    /// OWNER can't be demoted (`CONFLICT`).
    async fn update_workspace_member_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace, the member and their new role.")]
        input: UpdateWorkspaceMemberRoleInput,
    ) -> Result<WorkspaceMember> {
        let workspace_id = validate::id("workspaceId", &input.workspace_id)?;
        let user_id = validate::id("userId", &input.user_id)?;
        let viewer = *ctx.require_viewer()?;
        let (_, actor) =
            policy::authorize_workspace(ctx, workspace_id, WorkspaceAction::Read).await?;
        let db = ctx.db()?;
        let tx = crate::context::begin_write(db).await?;
        let target = membership(&tx, workspace_id, user_id)
            .await?
            .ok_or(Error::NotFound)?;
        let role = StoredRole::from(input.role);
        policy::change_membership(
            actor,
            user_id == viewer.user_id,
            Some(target.role),
            Some(role),
        )
        .check()?;
        if target.role == StoredRole::Owner && role != StoredRole::Owner {
            ensure_another_owner(&tx, workspace_id).await?;
        }
        let mut change: workspace_user::ActiveModel = target.into();
        change.role = Set(role);
        let updated = change.update(&tx).await?;
        tx.commit().await?;
        Ok(WorkspaceMember(updated))
    }

    /// Removes a member, and with them their memberships of the workspace's projects.
    /// Anyone may remove themself (leave); the last OWNER can't (`CONFLICT`). Returns the
    /// removed membership's id.
    async fn remove_workspace_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace and the member to remove.")]
        input: RemoveWorkspaceMemberInput,
    ) -> Result<ID> {
        let workspace_id = validate::id("workspaceId", &input.workspace_id)?;
        let user_id = validate::id("userId", &input.user_id)?;
        let viewer = *ctx.require_viewer()?;
        let (_, actor) =
            policy::authorize_workspace(ctx, workspace_id, WorkspaceAction::Read).await?;
        let db = ctx.db()?;
        let tx = crate::context::begin_write(db).await?;
        let target = membership(&tx, workspace_id, user_id)
            .await?
            .ok_or(Error::NotFound)?;
        policy::change_membership(actor, user_id == viewer.user_id, Some(target.role), None)
            .check()?;
        if target.role == StoredRole::Owner {
            ensure_another_owner(&tx, workspace_id).await?;
        }
        remove_from_workspace(&tx, workspace_id, user_id).await?;
        tx.commit().await?;
        Ok(ID(target.id.to_string()))
    }
}

/// Deletes `user_id`'s membership of `workspace_id` and of every project in it.
pub(crate) async fn remove_from_workspace(
    tx: &DatabaseTransaction,
    workspace_id: Uuid,
    user_id: Uuid,
) -> Result<()> {
    let projects = project::Entity::find()
        .select_only()
        .column(project::Column::Id)
        .filter(project::Column::WorkspaceId.eq(workspace_id))
        .into_tuple::<Uuid>()
        .all(tx)
        .await?;
    project_user::Entity::delete_many()
        .filter(project_user::Column::UserId.eq(user_id))
        .filter(project_user::Column::ProjectId.is_in(projects))
        .exec(tx)
        .await?;
    workspace_user::Entity::delete_many()
        .filter(workspace_user::Column::UserId.eq(user_id))
        .filter(workspace_user::Column::WorkspaceId.eq(workspace_id))
        .exec(tx)
        .await?;
    Ok(())
}

async fn membership(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    user_id: Uuid,
) -> Result<Option<workspace_user::Model>> {
    Ok(workspace_user::Entity::find()
        .filter(workspace_user::Column::WorkspaceId.eq(workspace_id))
        .filter(workspace_user::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// `CONFLICT` unless the workspace keeps an OWNER after one is demoted or removed. The
/// owner rows are locked (on PostgreSQL) so two owners demoting each other at once can't
/// leave the workspace without one; SQLite serialises the writing transactions anyway.
async fn ensure_another_owner(tx: &DatabaseTransaction, workspace_id: Uuid) -> Result<()> {
    let owners = workspace_user::Entity::find()
        .filter(workspace_user::Column::WorkspaceId.eq(workspace_id))
        .filter(workspace_user::Column::Role.eq(StoredRole::Owner))
        .lock_exclusive()
        .all(tx)
        .await?;
    if owners.len() < 2 {
        return Err(Error::Conflict {
            field: None,
            message: "a workspace must keep at least one OWNER".into(),
        });
    }
    Ok(())
}
