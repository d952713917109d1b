//! Membership on both levels, workspace (`workspace_users`) and project (`project_users`):
//! who belongs, and adding, re-roling and removing them. One flow serves both levels;
//! `workspace.rs` and `project.rs` hold only each level's GraphQL types and inputs, `rows.rs`
//! the one row shape of both tables and its reads and writes.
//!
//! The same on both levels, by design:
//! - a member is named by the level's parent id and the user: added by `userId` or, as the
//!   second named way, by `email` (exactly one of the two); re-roled and removed by
//!   `userId`;
//! - an add may carry a client-chosen membership `id`: the same id with the same input
//!   answers the first result, with other input it is `CONFLICT` on `id`;
//! - every membership mutation returns the membership (a removal: as it was just before);
//! - who may change what is [`policy::change_membership`], with the viewer's effective role
//!   at that level; anyone may leave;
//! - every write runs in one transaction, and the last OWNER of a workspace or of a project
//!   can't leave or be demoted (`CONFLICT`), checked with the owner rows locked.
//!
//! The differences that remain, each deliberate:
//! - **Who acts as what.** On a workspace the viewer acts with their workspace role. On a
//!   project a workspace OWNER or ADMIN acts as the project's OWNER (they manage every
//!   project of their workspace), everyone else with their project role.
//! - **Who may join.** Any account may be added to a workspace; only a member of the
//!   project's workspace may be added to a project (`BAD_USER_INPUT` on the field that named
//!   the user).
//! - **What a removal takes along.** Leaving a workspace also ends its holder's memberships
//!   of the workspace's projects (nobody stays in a project of a workspace they left);
//!   leaving a project touches nothing else.
//! - **Who sees a missing parent.** A workspace the viewer is not a member of is
//!   `NOT_FOUND`; a project is `NOT_FOUND` unless the viewer may read it (its members and
//!   its workspace's OWNERs and ADMINs), as `policy` says for reads.

pub mod project;
mod rows;
pub mod workspace;

pub(crate) use self::rows::Row;
use self::rows::{find, find_by_id, insert_row, update_role};

use async_graphql::{Context, ID};
use entity::role::Role as StoredRole;
use entity::{project as project_entity, project_user, user, workspace_user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use crate::context::ContextExt;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::policy::{self, ProjectAccess, ProjectAction, WorkspaceAction};
use crate::retry;
use crate::role::Role;
use crate::validate;

/// The two levels a membership exists on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Workspace,
    Project,
}

impl Level {
    /// The input field naming the parent.
    fn parent_field(self) -> &'static str {
        match self {
            Self::Workspace => "workspaceId",
            Self::Project => "projectId",
        }
    }

    fn duplicate(self, field: &'static str) -> UniqueKey {
        match self {
            Self::Workspace => UniqueKey {
                constraint: "uq_workspace_users_user_workspace",
                sqlite_columns: "workspace_users.user_id, workspace_users.workspace_id",
                field,
                message: "this user is already a member of the workspace",
            },
            Self::Project => UniqueKey {
                constraint: "uq_project_users_user_project",
                sqlite_columns: "project_users.user_id, project_users.project_id",
                field,
                message: "this user is already a member of the project",
            },
        }
    }

    fn last_owner(self) -> Error {
        let level = match self {
            Self::Workspace => "workspace",
            Self::Project => "project",
        };
        Error::Conflict {
            field: None,
            message: format!("a {level} must keep at least one OWNER"),
        }
    }
}

/// How an add names the new member: by `userId`, or by the `email` of their account.
pub(crate) struct Newcomer<'a> {
    pub user_id: Option<&'a ID>,
    pub email: Option<&'a str>,
}

/// What the viewer may do at a level, once the parent is known to be visible to them.
struct Standing {
    /// The role the viewer acts with (see the module doc).
    actor: Option<StoredRole>,
    /// For a project, its workspace (whose members alone may join).
    workspace: Option<Uuid>,
}

/// Checks the viewer may see `parent` and says with which role they act on its members.
async fn standing(ctx: &Context<'_>, level: Level, parent: Uuid) -> Result<Standing> {
    match level {
        Level::Workspace => {
            let (_, role) = policy::authorize_workspace(ctx, parent, WorkspaceAction::Read).await?;
            Ok(Standing {
                actor: role,
                workspace: None,
            })
        }
        Level::Project => {
            let (found, access) =
                policy::authorize_project(ctx, parent, ProjectAction::Read).await?;
            Ok(Standing {
                actor: acting_role(access),
                workspace: Some(found.workspace_id),
            })
        }
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

/// The user an add names, and the input field that named them.
async fn resolve_newcomer(
    db: &impl ConnectionTrait,
    newcomer: &Newcomer<'_>,
) -> Result<(Uuid, &'static str)> {
    match (newcomer.user_id, newcomer.email) {
        (Some(user_id), None) => Ok((validate::id("userId", user_id)?, "userId")),
        (None, Some(email)) => {
            let email = validate::email("email", email)?;
            let account = user::Entity::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .one(db)
                .await?
                .ok_or_else(|| Error::bad_input("email", "no account has this email"))?;
            Ok((account.id, "email"))
        }
        _ => Err(Error::bad_input(
            "userId",
            "name the new member by exactly one of userId and email",
        )),
    }
}

/// Adds a member at `level`; see the module doc for the rules.
pub(crate) async fn add(
    ctx: &Context<'_>,
    level: Level,
    id: Option<&ID>,
    parent: &ID,
    newcomer: Newcomer<'_>,
    role: Role,
) -> Result<Row> {
    let id = validate::optional_id("id", id)?;
    let parent = validate::id(level.parent_field(), parent)?;
    let viewer = *ctx.require_viewer()?;
    let standing = standing(ctx, level, parent).await?;
    let db = ctx.db()?;
    let (user_id, field) = resolve_newcomer(db, &newcomer).await?;
    let role = StoredRole::from(role);
    policy::change_membership(standing.actor, user_id == viewer.user_id, None, Some(role))
        .check()?;
    let by_id = |id: Uuid| async move { find_by_id(db, level, id).await };
    let same = |existing: &Row| {
        existing.parent_id == parent && existing.user_id == user_id && existing.role == role
    };
    let insert = || async {
        let tx = crate::context::begin_write(db).await?;
        ensure_may_join(&tx, level, standing.workspace, user_id, field).await?;
        if find(&tx, level, parent, user_id).await?.is_some() {
            return Err(level.duplicate(field).conflict());
        }
        let created = insert_row(&tx, level, id, parent, user_id, role)
            .await
            .on_unique(level.duplicate(field))?;
        tx.commit().await?;
        Ok(created)
    };
    retry::create_once(id, by_id, same, insert).await
}

/// Gives the member `user` of `parent` a new role.
pub(crate) async fn set_role(
    ctx: &Context<'_>,
    level: Level,
    parent: &ID,
    user: &ID,
    role: Role,
) -> Result<Row> {
    let parent = validate::id(level.parent_field(), parent)?;
    let user_id = validate::id("userId", user)?;
    let viewer = *ctx.require_viewer()?;
    let standing = standing(ctx, level, parent).await?;
    let tx = crate::context::begin_write(ctx.db()?).await?;
    let target = find(&tx, level, parent, user_id)
        .await?
        .ok_or(Error::NotFound)?;
    let role = StoredRole::from(role);
    policy::change_membership(
        standing.actor,
        user_id == viewer.user_id,
        Some(target.role),
        Some(role),
    )
    .check()?;
    if target.role == StoredRole::Owner && role != StoredRole::Owner {
        ensure_another_owner(&tx, level, parent).await?;
    }
    let updated = update_role(&tx, level, target, role).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Removes the member `user` from `parent`, answering the membership as it was.
pub(crate) async fn remove(ctx: &Context<'_>, level: Level, parent: &ID, user: &ID) -> Result<Row> {
    let parent = validate::id(level.parent_field(), parent)?;
    let user_id = validate::id("userId", user)?;
    let viewer = *ctx.require_viewer()?;
    let standing = standing(ctx, level, parent).await?;
    let tx = crate::context::begin_write(ctx.db()?).await?;
    let target = find(&tx, level, parent, user_id)
        .await?
        .ok_or(Error::NotFound)?;
    policy::change_membership(
        standing.actor,
        user_id == viewer.user_id,
        Some(target.role),
        None,
    )
    .check()?;
    if target.role == StoredRole::Owner {
        ensure_another_owner(&tx, level, parent).await?;
    }
    match level {
        Level::Workspace => remove_from_workspace(&tx, parent, user_id).await?,
        Level::Project => {
            project_user::Entity::delete_by_id(target.id)
                .exec(&tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(target)
}

/// Deletes `user_id`'s membership of `workspace_id` and of every project in it; `CONFLICT`
/// when they are the last OWNER of one of those projects (a project keeps an OWNER, as
/// `removeProjectMember` ensures).
async fn remove_from_workspace(
    tx: &DatabaseTransaction,
    workspace_id: Uuid,
    user_id: Uuid,
) -> Result<()> {
    let projects = project_entity::Entity::find()
        .select_only()
        .column(project_entity::Column::Id)
        .filter(project_entity::Column::WorkspaceId.eq(workspace_id))
        .into_tuple::<Uuid>()
        .all(tx)
        .await?;
    let owned = project_user::Entity::find()
        .select_only()
        .column(project_user::Column::ProjectId)
        .filter(project_user::Column::UserId.eq(user_id))
        .filter(project_user::Column::ProjectId.is_in(projects.clone()))
        .filter(project_user::Column::Role.eq(StoredRole::Owner))
        .into_tuple::<Uuid>()
        .all(tx)
        .await?;
    for project in owned {
        ensure_another_owner(tx, Level::Project, project).await?;
    }
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

/// `BAD_USER_INPUT` on `field` unless `user` may join: an existing account for a
/// workspace, a member of the project's workspace for a project.
async fn ensure_may_join(
    tx: &DatabaseTransaction,
    level: Level,
    workspace: Option<Uuid>,
    user: Uuid,
    field: &'static str,
) -> Result<()> {
    let (found, message) = match (level, workspace) {
        (Level::Project, Some(workspace)) => (
            workspace_user::Entity::find()
                .filter(workspace_user::Column::WorkspaceId.eq(workspace))
                .filter(workspace_user::Column::UserId.eq(user))
                .count(tx)
                .await?,
            "only members of the project's workspace can join it",
        ),
        _ => (
            user::Entity::find_by_id(user).count(tx).await?,
            "no account has this id",
        ),
    };
    if found == 0 {
        return Err(Error::bad_input(field, message));
    }
    Ok(())
}

/// `CONFLICT` unless `parent` keeps an OWNER after one is demoted or removed. The owner
/// rows are locked (on PostgreSQL) so two owners demoting each other at once can't leave
/// it without one; SQLite serialises the writing transactions anyway.
async fn ensure_another_owner(tx: &DatabaseTransaction, level: Level, parent: Uuid) -> Result<()> {
    let owners = match level {
        Level::Workspace => workspace_user::Entity::find()
            .filter(workspace_user::Column::WorkspaceId.eq(parent))
            .filter(workspace_user::Column::Role.eq(StoredRole::Owner))
            .lock_exclusive()
            .all(tx)
            .await?
            .len(),
        Level::Project => project_user::Entity::find()
            .filter(project_user::Column::ProjectId.eq(parent))
            .filter(project_user::Column::Role.eq(StoredRole::Owner))
            .lock_exclusive()
            .all(tx)
            .await?
            .len(),
    };
    if owners < 2 {
        return Err(level.last_owner());
    }
    Ok(())
}
