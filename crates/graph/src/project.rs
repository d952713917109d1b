//! Projects: work a workspace does for one of its clients.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, SubsecRound, Utc};
use entity::role::Role as StoredRole;
use entity::{client, project, project_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::client::Client;
use crate::connection::{Count, Cursor, Scope, connection_types};
use crate::context::ContextExt;
use crate::deletion::deletion_types;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::loaders::hours::HoursScope;
use crate::loaders::projects::{ProjectCountOf, ProjectFilter, ProjectParent, ProjectsOf};
use crate::loaders::{self, ClientById, Loaders, ProjectRoleOf, WorkspaceById};
use crate::membership::project::{self as project_member, ProjectMemberConnection};
use crate::policy::{self, ProjectAction, WorkspaceAction};
use crate::retry;
use crate::role::Role;
use crate::task::{self, TaskConnection, TaskFilterInput, TaskOrderInput};
use crate::time_log;
use crate::validate;
use crate::workspace::Workspace;

const PROJECT_NAME: UniqueKey = UniqueKey {
    constraint: "uq_projects_workspace_name",
    sqlite_columns: "projects.workspace_id, projects.name",
    field: "name",
    message: "this workspace already has a project with this name",
};

pub struct Project(pub project::Model);

/// Work a workspace does for one of its clients.
#[Object]
impl Project {
    /// The object's id, unique across all types (a UUID): see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The project's name: 1–100 characters, unique within the workspace.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Free-text notes on the project, up to 500 characters; `null` when there are none.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// When the work is due (RFC 3339), if set.
    async fn deadline(&self) -> Option<DateTime<Utc>> {
        self.0.deadline
    }

    /// The client the work is for.
    async fn client(&self, ctx: &Context<'_>) -> Result<Client> {
        loaders::required(ctx, ClientById(self.0.client_id))
            .await
            .map(Client)
    }

    /// The workspace the project belongs to.
    async fn workspace(&self, ctx: &Context<'_>) -> Result<Workspace> {
        loaders::required(ctx, WorkspaceById(self.0.workspace_id))
            .await
            .map(Workspace)
    }

    /// The project's tasks, oldest first unless `orderBy` says otherwise. `first` is at
    /// most 100 (default 50).
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many tasks to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
        #[graphql(desc = "Which tasks to list.")] filter: Option<TaskFilterInput>,
        #[graphql(desc = "The order; `CREATED_AT` ascending when absent.")] order_by: Option<
            TaskOrderInput,
        >,
    ) -> Result<TaskConnection> {
        task::tasks_of(ctx, self.0.id, first, after, filter, order_by).await
    }

    /// The project's members, in the order they joined. `first` is at most 100 (default
    /// 50).
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many members to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
    ) -> Result<ProjectMemberConnection> {
        project_member::members_of(ctx, self.0.id, first, after).await
    }

    /// The hours logged on the project's tasks, summed; with `from` and `to`, only logs
    /// with `from <= loggedAt < to`.
    async fn total_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count logs at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant.")] to: Option<DateTime<Utc>>,
    ) -> Result<i32> {
        time_log::total_hours(ctx, HoursScope::Project(self.0.id), from, to).await
    }

    /// The viewer's role in the project; `null` when they see it as a workspace OWNER or
    /// ADMIN without being a member.
    async fn viewer_role(&self, ctx: &Context<'_>) -> Result<Option<Role>> {
        let viewer = ctx.require_viewer()?;
        let loader = ctx.service::<DataLoader<Loaders>>()?;
        let role = loader
            .load_one(ProjectRoleOf {
                user: viewer.user_id,
                project: self.0.id,
            })
            .await?;
        Ok(role.map(Role::from))
    }

    /// When the project was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the project was last updated (RFC 3339, UTC): by any `update…` of it, even one
    /// that changed nothing; equal to `createdAt` until the first.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

connection_types!(ProjectConnection, ProjectEdge, Project, "projects");

/// Which projects a list shows; all conditions must hold.
#[derive(InputObject, Default)]
pub struct ProjectFilterInput {
    /// Only this client's projects.
    pub client_id: Option<ID>,
    /// Only projects due strictly before this instant (so none without a deadline).
    pub deadline_before: Option<DateTime<Utc>>,
}

/// The filter a project list is asked for, checked: its resolver's reading of it, and the
/// planned read path's ([`crate::plan`]).
pub(crate) fn project_filter(filter: Option<ProjectFilterInput>) -> Result<ProjectFilter> {
    let filter = filter.unwrap_or_default();
    Ok(ProjectFilter {
        client: filter
            .client_id
            .as_ref()
            .map(|id| validate::id("filter.clientId", id))
            .transpose()?,
        deadline_before: filter.deadline_before,
    })
}

/// A page of the projects under `parent` that the viewer may read, oldest first. The
/// caller has checked that the viewer is a member of the parent's workspace; which of its
/// projects they see is up to the policy, applied in the loader's statement.
pub(crate) async fn projects_of(
    ctx: &Context<'_>,
    parent: ProjectParent,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<ProjectFilterInput>,
) -> Result<ProjectConnection> {
    let viewer = ctx.require_viewer()?.user_id;
    let filter = project_filter(filter)?;
    let (connection, parent_id) = match parent {
        ProjectParent::Workspace(id) => ("Workspace.projects", id),
        ProjectParent::Client(id) => ("Client.projects", id),
    };
    let scope = Scope {
        connection,
        parent: parent_id,
        order: "ID_ASC",
    };
    let loaded = loaders::connection_page(ctx, first, after.as_deref(), scope, |page| ProjectsOf {
        parent,
        viewer,
        page,
        filter,
    })
    .await?;
    let count = ProjectCountOf {
        parent,
        viewer,
        filter,
    };
    Ok(ProjectConnection::build(
        loaded,
        scope,
        |row| Cursor::by_id(row.id),
        Project,
        Count::later(count),
    ))
}

#[derive(Default)]
pub struct ProjectQuery;

/// Reads of projects.
#[Object]
impl ProjectQuery {
    /// A project the viewer may read: its members, and its workspace's OWNERs and ADMINs.
    /// `NOT_FOUND` for any other id.
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's id; `BAD_USER_INPUT` when it is not a UUID.")] id: ID,
    ) -> Result<Project> {
        let id = validate::id("id", &id)?;
        let (found, _) = policy::authorize_project(ctx, id, ProjectAction::Read).await?;
        Ok(Project(found))
    }
}

/// What `createProject` asks for.
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// Optional client-chosen id (a UUID) for safe retries; see `createWorkspace`.
    pub id: Option<ID>,
    /// The workspace to create the project in.
    pub workspace_id: ID,
    /// A client of the same workspace.
    pub client_id: ID,
    /// The project's name: 1–100 characters (trimmed), unique within the workspace.
    pub name: String,
    /// Optional free-text notes on the project, up to 500 characters; blank means none.
    pub description: Option<String>,
    /// When the work is due (RFC 3339); none when absent.
    pub deadline: Option<DateTime<Utc>>,
}

/// What `updateProject` changes; absent fields stay, `null` clears the nullable ones (see
/// each field).
#[derive(InputObject)]
pub struct UpdateProjectInput {
    /// The id of the project to change.
    pub id: ID,
    /// A new name, 1–100 characters, unique within the workspace; absent or `null` keeps
    /// the current one.
    pub name: Option<String>,
    /// A new description of up to 500 characters; `null` or blank clears it.
    pub description: MaybeUndefined<String>,
    /// A new due date-time (RFC 3339); `null` clears it.
    pub deadline: MaybeUndefined<DateTime<Utc>>,
    /// Another client of the same workspace (else `BAD_USER_INPUT`); absent or `null`
    /// keeps the current one.
    pub client_id: Option<ID>,
}

deletion_types!(
    DeleteProjectInput,
    DeleteProjectPayload,
    "deleteProject",
    "project"
);

#[derive(Default)]
pub struct ProjectMutation;

/// Writes to projects.
#[Object]
impl ProjectMutation {
    /// Creates a project for a client of the same workspace, with the viewer as its OWNER:
    /// workspace OWNERs and ADMINs. `BAD_USER_INPUT` on `clientId` for a client of another
    /// workspace; `CONFLICT` on `name` when the workspace has a project so named.
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace, the client and the new project's fields.")]
        input: CreateProjectInput,
    ) -> Result<Project> {
        let id = validate::optional_id("id", input.id.as_ref())?;
        let workspace_id = validate::id("workspaceId", &input.workspace_id)?;
        let client_id = validate::id("clientId", &input.client_id)?;
        let name = validate::required_text("name", &input.name, validate::NAME_CHARS)?;
        let description = validate::description(input.description.as_deref())?;
        // Microseconds: what both backends keep, so a retry compares equal.
        let deadline = input.deadline.map(|at| at.trunc_subsecs(6));
        let viewer = *ctx.require_viewer()?;
        policy::authorize_workspace(ctx, workspace_id, WorkspaceAction::CreateProject).await?;
        let db = ctx.db()?;
        ensure_client_of(db, workspace_id, client_id).await?;
        let find = |id: Uuid| async move { Ok(project::Entity::find_by_id(id).one(db).await?) };
        let same = |existing: &project::Model| {
            existing.workspace_id == workspace_id
                && existing.client_id == client_id
                && existing.name == name
                && existing.description == description
                && existing.deadline == deadline
        };
        let insert = || async {
            ensure_unique_name(db, workspace_id, &name, None).await?;
            let tx = crate::context::begin_write(db).await?;
            let created = project::ActiveModel {
                id: id.map_or(sea_orm::ActiveValue::NotSet, Set),
                workspace_id: Set(workspace_id),
                client_id: Set(client_id),
                name: Set(name.clone()),
                description: Set(description.clone()),
                deadline: Set(deadline),
                ..Default::default()
            }
            .insert(&tx)
            .await
            .on_unique(PROJECT_NAME)?;
            project_user::ActiveModel {
                user_id: Set(viewer.user_id),
                project_id: Set(created.id),
                role: Set(StoredRole::Owner),
                ..Default::default()
            }
            .insert(&tx)
            .await?;
            tx.commit().await?;
            Ok(created)
        };
        let created = retry::create_once(id, find, same, insert).await?;
        Ok(Project(created))
    }

    /// Changes a project: workspace OWNERs and ADMINs, project OWNERs and ADMINs (other
    /// readers get `FORBIDDEN`, anyone else `NOT_FOUND`). `BAD_USER_INPUT` on `clientId`
    /// for a client of another workspace; `CONFLICT` on `name` when taken in the workspace.
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project and the fields to change.")] input: UpdateProjectInput,
    ) -> Result<Project> {
        let id = validate::id("id", &input.id)?;
        let name = validate::name_patch(input.name.as_deref(), validate::NAME_CHARS)?;
        let description = validate::description_patch(&input.description)?;
        let client_id = input
            .client_id
            .as_ref()
            .map(|id| validate::id("clientId", id))
            .transpose()?;
        let (found, _) = policy::authorize_project(ctx, id, ProjectAction::Update).await?;
        let db = ctx.db()?;
        if let Some(client_id) = client_id {
            ensure_client_of(db, found.workspace_id, client_id).await?;
        }
        if let Some(name) = &name {
            ensure_unique_name(db, found.workspace_id, name, Some(id)).await?;
        }
        let mut change: project::ActiveModel = found.into();
        if let Some(name) = name {
            change.name = Set(name);
        }
        if let Some(description) = description {
            change.description = Set(description);
        }
        match input.deadline {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => change.deadline = Set(None),
            MaybeUndefined::Value(deadline) => {
                change.deadline = Set(Some(deadline.trunc_subsecs(6)));
            }
        }
        if let Some(client_id) = client_id {
            change.client_id = Set(client_id);
        }
        Ok(Project(change.update(db).await.on_unique(PROJECT_NAME)?))
    }

    /// Deletes a project with its tasks and time logs: workspace OWNERs and ADMINs, project
    /// OWNERs. Answers its id.
    async fn delete_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project to delete.")] input: DeleteProjectInput,
    ) -> Result<DeleteProjectPayload> {
        let id = validate::id("id", &input.id)?;
        policy::authorize_project(ctx, id, ProjectAction::Delete).await?;
        project::Entity::delete_by_id(id).exec(ctx.db()?).await?;
        Ok(DeleteProjectPayload { id: input.id })
    }
}

/// `BAD_USER_INPUT` on `clientId` unless the client belongs to `workspace_id`.
async fn ensure_client_of(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    client_id: Uuid,
) -> Result<()> {
    let found = client::Entity::find_by_id(client_id).one(db).await?;
    match found {
        Some(client) if client.workspace_id == workspace_id => Ok(()),
        _ => Err(Error::bad_input(
            "clientId",
            "the client must belong to the project's workspace",
        )),
    }
}

async fn ensure_unique_name(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    let mut query = project::Entity::find()
        .filter(project::Column::WorkspaceId.eq(workspace_id))
        .filter(project::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(project::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(PROJECT_NAME.conflict());
    }
    Ok(())
}
