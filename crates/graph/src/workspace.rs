//! Workspaces and their members.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::role::Role as StoredRole;
use entity::{project, project_user, user, workspace, workspace_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::context::ContextExt;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::loaders::{self, Loaders, UserById};
use crate::policy::{self, WorkspaceAction};
use crate::retry;
use crate::role::Role;
use crate::user::User;
use crate::validate;

const WORKSPACE_NAME: UniqueKey = UniqueKey {
    constraint: "uq_workspaces_name",
    sqlite_columns: "workspaces.name",
    field: "name",
    message: "a workspace with this name already exists",
};

const WORKSPACE_MEMBER: UniqueKey = UniqueKey {
    constraint: "uq_workspace_users_user_workspace",
    sqlite_columns: "workspace_users.user_id, workspace_users.workspace_id",
    field: "email",
    message: "this user is already a member of the workspace",
};

/// A team's space: its members, clients and projects.
pub struct Workspace(pub workspace::Model);

/// A team's space: its members, clients and projects.
#[Object]
impl Workspace {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Unique across the server, 1–100 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Up to 500 characters.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The viewer's role here.
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Role> {
        let viewer = ctx.require_viewer()?;
        policy::workspace_role(ctx, viewer, self.0.id)
            .await?
            .map(Role::from)
            .ok_or(Error::NotFound)
    }
}

/// A user's membership of a workspace.
pub struct WorkspaceMember(pub workspace_user::Model);

/// A user's membership of a workspace.
#[Object]
impl WorkspaceMember {
    /// The membership's own id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn role(&self) -> Role {
        self.0.role.into()
    }

    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        let loader = ctx.service::<DataLoader<Loaders>>()?;
        loaders::by_id(loader, UserById(self.0.user_id))
            .await?
            .map(User::new)
            .ok_or(Error::NotFound)
    }

    /// When the user joined.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Reads of workspaces.
#[derive(Default)]
pub struct WorkspaceQuery;

/// Reads of workspaces.
#[Object]
impl WorkspaceQuery {
    /// A workspace the viewer is a member of. `NOT_FOUND` for any other id.
    async fn workspace(&self, ctx: &Context<'_>, id: ID) -> Result<Workspace> {
        let id = validate::id("id", &id)?;
        let (found, _) = policy::authorize_workspace(ctx, id, WorkspaceAction::Read).await?;
        Ok(Workspace(found))
    }
}

/// What `createWorkspace` asks for.
#[derive(InputObject)]
pub struct CreateWorkspaceInput {
    /// Optional client-chosen id (a UUID) for optimistic rendering and safe retries: the
    /// same id with the same input returns the existing workspace; with different input it
    /// is `CONFLICT`.
    pub id: Option<ID>,
    /// 1–100 characters, unique across the server.
    pub name: String,
    /// Up to 500 characters.
    pub description: Option<String>,
}

/// What `updateWorkspace` changes; absent fields stay as they are, `null` clears.
#[derive(InputObject)]
pub struct UpdateWorkspaceInput {
    pub id: ID,
    pub name: Option<String>,
    pub description: MaybeUndefined<String>,
}

/// Names a workspace.
#[derive(InputObject)]
pub struct WorkspaceIdInput {
    pub id: ID,
}

/// What `addWorkspaceMember` asks for.
#[derive(InputObject)]
pub struct AddWorkspaceMemberInput {
    pub workspace_id: ID,
    /// The email of an existing account.
    pub email: String,
    pub role: Role,
}

/// What `updateWorkspaceMemberRole` asks for.
#[derive(InputObject)]
pub struct UpdateWorkspaceMemberRoleInput {
    pub workspace_id: ID,
    pub user_id: ID,
    pub role: Role,
}

/// What `removeWorkspaceMember` asks for.
#[derive(InputObject)]
pub struct RemoveWorkspaceMemberInput {
    pub workspace_id: ID,
    pub user_id: ID,
}

/// Writes to workspaces and their membership.
#[derive(Default)]
pub struct WorkspaceMutation;

/// Writes to workspaces and their membership.
#[Object]
impl WorkspaceMutation {
    /// Creates a workspace with the viewer as its OWNER. `CONFLICT` on `name` when taken.
    async fn create_workspace(
        &self,
        ctx: &Context<'_>,
        input: CreateWorkspaceInput,
    ) -> Result<Workspace> {
        let viewer = *ctx.require_viewer()?;
        let id = input
            .id
            .as_ref()
            .map(|id| validate::id("id", id))
            .transpose()?;
        let name = validate::required_text("name", &input.name, 100)?;
        let description =
            validate::optional_text("description", input.description.as_deref(), 500)?;
        let db = ctx.db()?;
        let find = |id: Uuid| async move {
            let Some(existing) = workspace::Entity::find_by_id(id).one(db).await? else {
                return Ok(None);
            };
            // Only its creator's retry gets the workspace back; anyone else learns the id
            // is taken.
            let member = policy::workspace_role(ctx, &viewer, id).await?.is_some();
            Ok(Some((existing, member)))
        };
        let same = |(existing, member): &(workspace::Model, bool)| {
            *member && existing.name == name && existing.description == description
        };
        let insert = || async {
            ensure_unique_name(db, &name, None).await?;
            let tx = crate::context::begin_write(db).await?;
            let created = workspace::ActiveModel {
                id: id.map_or(sea_orm::ActiveValue::NotSet, Set),
                name: Set(name.clone()),
                description: Set(description.clone()),
                ..Default::default()
            }
            .insert(&tx)
            .await
            .on_unique(WORKSPACE_NAME)?;
            workspace_user::ActiveModel {
                user_id: Set(viewer.user_id),
                workspace_id: Set(created.id),
                role: Set(StoredRole::Owner),
                ..Default::default()
            }
            .insert(&tx)
            .await?;
            tx.commit().await?;
            Ok((created, true))
        };
        let (created, _) = retry::create_once(id, find, same, insert).await?;
        Ok(Workspace(created))
    }

    /// Renames or re-describes a workspace: its OWNERs and ADMINs.
    async fn update_workspace(
        &self,
        ctx: &Context<'_>,
        input: UpdateWorkspaceInput,
    ) -> Result<Workspace> {
        let id = validate::id("id", &input.id)?;
        let name = input
            .name
            .as_deref()
            .map(|name| validate::required_text("name", name, 100))
            .transpose()?;
        let description = match &input.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(text) => {
                Some(validate::optional_text("description", Some(text), 500)?)
            }
        };
        let (found, _) = policy::authorize_workspace(ctx, id, WorkspaceAction::Update).await?;
        let db = ctx.db()?;
        if let Some(name) = &name {
            ensure_unique_name(db, name, Some(id)).await?;
        }
        let mut change: workspace::ActiveModel = found.into();
        if let Some(name) = name {
            change.name = Set(name);
        }
        if let Some(description) = description {
            change.description = Set(description);
        }
        let updated = change.update(db).await.on_unique(WORKSPACE_NAME)?;
        Ok(Workspace(updated))
    }

    /// Deletes a workspace with everything in it: its OWNERs only. Returns its id.
    async fn delete_workspace(&self, ctx: &Context<'_>, input: WorkspaceIdInput) -> Result<ID> {
        let id = validate::id("id", &input.id)?;
        policy::authorize_workspace(ctx, id, WorkspaceAction::Delete).await?;
        workspace::Entity::delete_by_id(id).exec(ctx.db()?).await?;
        Ok(input.id)
    }

    /// Adds the account with `email` to a workspace. OWNERs add anyone; ADMINs add USERs.
    /// `BAD_USER_INPUT` on `email` when no account has it; `CONFLICT` when already a member.
    async fn add_workspace_member(
        &self,
        ctx: &Context<'_>,
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

async fn ensure_unique_name(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    let mut query = workspace::Entity::find().filter(workspace::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(workspace::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(WORKSPACE_NAME.conflict());
    }
    Ok(())
}
