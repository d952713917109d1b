//! Workspaces: a team's space, and the lists hanging off it.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::role::Role as StoredRole;
use entity::{workspace, workspace_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::client::{self, ClientConnection};
use crate::connection::{Count, Cursor, Scope, connection_types};
use crate::context::ContextExt;
use crate::deletion::deletion_types;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::loaders;
use crate::loaders::hours::HoursScope;
use crate::loaders::projects::ProjectParent;
use crate::loaders::workspaces::{WorkspaceCountOf, WorkspacesOf};
use crate::membership::workspace::{self as workspace_member, WorkspaceMemberConnection};
use crate::policy::{self, WorkspaceAction};
use crate::project::{self, ProjectConnection, ProjectFilterInput};
use crate::retry;
use crate::role::Role;
use crate::time_log;
use crate::validate;

const WORKSPACE_NAME: UniqueKey = UniqueKey {
    constraint: "uq_workspaces_name",
    sqlite_columns: "workspaces.name",
    field: "name",
    message: "a workspace with this name already exists",
};
pub struct Workspace(pub workspace::Model);

/// A team's space: its members, clients and projects.
#[Object]
impl Workspace {
    /// The object's id, unique across all types (a UUID): see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The workspace's name: 1–100 characters, unique across the server.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Free-text notes on the workspace, up to 500 characters; `null` when there are none.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// When the workspace was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the workspace was last updated (RFC 3339, UTC): by any `update…` of it, even one
    /// that changed nothing; equal to `createdAt` until the first.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The workspace's members, in the order they joined. `first` is at most 100 (default
    /// 50).
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many members to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
    ) -> Result<WorkspaceMemberConnection> {
        workspace_member::members_of(ctx, self.0.id, first, after).await
    }

    /// The workspace's clients by name. `first` is at most 100 (default 50).
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many clients to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
    ) -> Result<ClientConnection> {
        client::clients_of(ctx, self.0.id, first, after).await
    }

    /// The workspace's projects that the viewer may read (all of them for its OWNERs and
    /// ADMINs, else those the viewer is a member of), oldest first. `first` is at most 100
    /// (default 50).
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many projects to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
        #[graphql(desc = "Which projects to list.")] filter: Option<ProjectFilterInput>,
    ) -> Result<ProjectConnection> {
        project::projects_of(
            ctx,
            ProjectParent::Workspace(self.0.id),
            first,
            after,
            filter,
        )
        .await
    }

    /// The hours logged in the workspace, summed over the projects the viewer may read;
    /// with `from` and `to`, only logs with `from <= loggedAt < to`.
    async fn total_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count logs at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant.")] to: Option<DateTime<Utc>>,
    ) -> Result<i32> {
        let viewer = ctx.require_viewer()?;
        let scope = HoursScope::Workspace {
            workspace: self.0.id,
            viewer: viewer.user_id,
        };
        time_log::total_hours(ctx, scope, from, to).await
    }

    /// The viewer's role in this workspace.
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Role> {
        let viewer = ctx.require_viewer()?;
        policy::workspace_role(ctx, viewer, self.0.id)
            .await?
            .map(Role::from)
            .ok_or(Error::NotFound)
    }
}

connection_types!(WorkspaceConnection, WorkspaceEdge, Workspace, "workspaces");

#[derive(Default)]
pub struct WorkspaceQuery;

/// Reads of workspaces.
#[Object]
impl WorkspaceQuery {
    /// A workspace the viewer is a member of. `NOT_FOUND` for any other id.
    async fn workspace(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace's id; `BAD_USER_INPUT` when it is not a UUID.")] id: ID,
    ) -> Result<Workspace> {
        let id = validate::id("id", &id)?;
        let (found, _) = policy::authorize_workspace(ctx, id, WorkspaceAction::Read).await?;
        Ok(Workspace(found))
    }

    /// The workspaces the viewer is a member of, oldest first. `first` is at most 100
    /// (default 50). `UNAUTHENTICATED` without a session.
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn workspaces(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many workspaces to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
    ) -> Result<WorkspaceConnection> {
        let viewer = ctx.require_viewer()?.user_id;
        let scope = Scope {
            connection: "Query.workspaces",
            parent: viewer,
            order: "ID_ASC",
        };
        let loaded = loaders::connection_page(ctx, first, after.as_deref(), scope, |page| {
            WorkspacesOf { user: viewer, page }
        })
        .await?;
        Ok(WorkspaceConnection::build(
            loaded,
            scope,
            |row| Cursor::by_id(row.id),
            Workspace,
            Count::later(WorkspaceCountOf(viewer)),
        ))
    }
}

/// What `createWorkspace` asks for.
#[derive(InputObject)]
pub struct CreateWorkspaceInput {
    /// Optional client-chosen id for optimistic rendering and safe retries: a version 4
    /// (random) or 7 (time-ordered) UUID, else `BAD_USER_INPUT`. The same id with the same
    /// input returns the existing workspace; with different input, or when an object of any
    /// other type has this id (ids are unique across all types), it is `CONFLICT` on `id`.
    pub id: Option<ID>,
    /// The workspace's name: 1–100 characters (trimmed), unique across the server.
    pub name: String,
    /// Optional free-text notes on the workspace, up to 500 characters; blank means none.
    pub description: Option<String>,
}

/// What `updateWorkspace` changes; absent fields stay as they are, `null` clears.
#[derive(InputObject)]
pub struct UpdateWorkspaceInput {
    /// The id of the workspace to change.
    pub id: ID,
    /// A new name, 1–100 characters, unique across the server; absent or `null` keeps the
    /// current one.
    pub name: Option<String>,
    /// A new description of up to 500 characters; `null` or blank clears it.
    pub description: MaybeUndefined<String>,
}

deletion_types!(
    DeleteWorkspaceInput,
    DeleteWorkspacePayload,
    "deleteWorkspace",
    "workspace"
);

#[derive(Default)]
pub struct WorkspaceMutation;

/// Writes to workspaces.
#[Object]
impl WorkspaceMutation {
    /// Creates a workspace with the viewer as its OWNER: any signed-in user. `CONFLICT`
    /// on `name` when taken; `BAD_USER_INPUT` with the offending `field` for invalid input.
    async fn create_workspace(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new workspace's name and description.")] input: CreateWorkspaceInput,
    ) -> Result<Workspace> {
        let viewer = *ctx.require_viewer()?;
        let id = validate::optional_id("id", input.id.as_ref())?;
        let name = validate::required_text("name", &input.name, validate::NAME_CHARS)?;
        let description = validate::description(input.description.as_deref())?;
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

    /// Renames or re-describes a workspace: its OWNERs and ADMINs (other members get
    /// `FORBIDDEN`, non-members `NOT_FOUND`). `CONFLICT` on `name` when taken.
    async fn update_workspace(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace and the fields to change.")] input: UpdateWorkspaceInput,
    ) -> Result<Workspace> {
        let id = validate::id("id", &input.id)?;
        let name = validate::name_patch(input.name.as_deref(), validate::NAME_CHARS)?;
        let description = validate::description_patch(&input.description)?;
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

    /// Deletes a workspace with everything in it: its OWNERs only (other members get
    /// `FORBIDDEN`, non-members `NOT_FOUND`). Answers its id.
    async fn delete_workspace(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace to delete.")] input: DeleteWorkspaceInput,
    ) -> Result<DeleteWorkspacePayload> {
        let id = validate::id("id", &input.id)?;
        policy::authorize_workspace(ctx, id, WorkspaceAction::Delete).await?;
        workspace::Entity::delete_by_id(id).exec(ctx.db()?).await?;
        Ok(DeleteWorkspacePayload { id: input.id })
    }
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
