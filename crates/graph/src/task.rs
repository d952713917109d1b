//! Tasks: units of work in a project.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::task::{self, TaskStatus as StoredStatus};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::context::ContextExt;
use crate::error::{Error, Result};
use crate::loaders::{self, Loaders, ProjectById, TaskById};
use crate::policy::{self, ProjectAction};
use crate::project::Project;
use crate::retry;
use crate::validate;

/// Where a task stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    InProgress,
    Completed,
}

impl From<StoredStatus> for TaskStatus {
    fn from(status: StoredStatus) -> Self {
        match status {
            StoredStatus::Pending => Self::Pending,
            StoredStatus::InProgress => Self::InProgress,
            StoredStatus::Completed => Self::Completed,
        }
    }
}

impl From<TaskStatus> for StoredStatus {
    fn from(status: TaskStatus) -> Self {
        match status {
            TaskStatus::Pending => Self::Pending,
            TaskStatus::InProgress => Self::InProgress,
            TaskStatus::Completed => Self::Completed,
        }
    }
}

/// A unit of work in a project.
pub struct Task(pub task::Model);

/// A unit of work in a project.
#[Object]
impl Task {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// 1–150 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Up to 500 characters.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn status(&self) -> TaskStatus {
        self.0.status.into()
    }

    /// The project the task belongs to.
    async fn project(&self, ctx: &Context<'_>) -> Result<Project> {
        let loader = ctx.service::<DataLoader<Loaders>>()?;
        loaders::by_id(loader, ProjectById(self.0.project_id))
            .await?
            .map(Project)
            .ok_or(Error::NotFound)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Reads of tasks.
#[derive(Default)]
pub struct TaskQuery;

/// Reads of tasks.
#[Object]
impl TaskQuery {
    /// A task of a project the viewer may read. `NOT_FOUND` for any other id.
    async fn task(&self, ctx: &Context<'_>, id: ID) -> Result<Task> {
        let id = validate::id("id", &id)?;
        authorize(ctx, id, ProjectAction::Read).await.map(Task)
    }
}

/// What `createTask` asks for.
#[derive(InputObject)]
pub struct CreateTaskInput {
    /// Optional client-chosen id (a UUID) for safe retries; see `createWorkspace`.
    pub id: Option<ID>,
    pub project_id: ID,
    /// 1–150 characters.
    pub name: String,
    /// Up to 500 characters.
    pub description: Option<String>,
    /// `PENDING` when absent.
    pub status: Option<TaskStatus>,
}

/// What `updateTask` changes; absent fields stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateTaskInput {
    pub id: ID,
    pub name: Option<String>,
    pub description: MaybeUndefined<String>,
    pub status: Option<TaskStatus>,
}

/// Names a task.
#[derive(InputObject)]
pub struct TaskIdInput {
    pub id: ID,
}

/// Writes to tasks.
#[derive(Default)]
pub struct TaskMutation;

/// Writes to tasks.
#[Object]
impl TaskMutation {
    /// Adds a task to a project: its members, and workspace OWNERs and ADMINs.
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> Result<Task> {
        let id = input
            .id
            .as_ref()
            .map(|id| validate::id("id", id))
            .transpose()?;
        let project_id = validate::id("projectId", &input.project_id)?;
        let name = validate::required_text("name", &input.name, 150)?;
        let description =
            validate::optional_text("description", input.description.as_deref(), 500)?;
        let status = StoredStatus::from(input.status.unwrap_or(TaskStatus::Pending));
        policy::authorize_project(ctx, project_id, ProjectAction::WriteTasks).await?;
        let db = ctx.db()?;
        let find = |id: Uuid| async move { Ok(task::Entity::find_by_id(id).one(db).await?) };
        let same = |existing: &task::Model| {
            existing.project_id == project_id
                && existing.name == name
                && existing.description == description
                && existing.status == status
        };
        let insert = || async {
            Ok(task::ActiveModel {
                id: id.map_or(sea_orm::ActiveValue::NotSet, Set),
                project_id: Set(project_id),
                name: Set(name.clone()),
                description: Set(description.clone()),
                status: Set(status),
                ..Default::default()
            }
            .insert(db)
            .await?)
        };
        let created = retry::create_once(id, find, same, insert).await?;
        Ok(Task(created))
    }

    /// Changes a task, including its status: project members, workspace OWNERs and ADMINs.
    async fn update_task(&self, ctx: &Context<'_>, input: UpdateTaskInput) -> Result<Task> {
        let id = validate::id("id", &input.id)?;
        let name = input
            .name
            .as_deref()
            .map(|name| validate::required_text("name", name, 150))
            .transpose()?;
        let description = match &input.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(text) => {
                Some(validate::optional_text("description", Some(text), 500)?)
            }
        };
        let found = authorize(ctx, id, ProjectAction::WriteTasks).await?;
        let mut change: task::ActiveModel = found.into();
        if let Some(name) = name {
            change.name = Set(name);
        }
        if let Some(description) = description {
            change.description = Set(description);
        }
        if let Some(status) = input.status {
            change.status = Set(status.into());
        }
        Ok(Task(change.update(ctx.db()?).await?))
    }

    /// Deletes a task with its time logs: project OWNERs and ADMINs, workspace OWNERs and
    /// ADMINs. Returns its id.
    async fn delete_task(&self, ctx: &Context<'_>, input: TaskIdInput) -> Result<ID> {
        let id = validate::id("id", &input.id)?;
        authorize(ctx, id, ProjectAction::DeleteTasks).await?;
        task::Entity::delete_by_id(id).exec(ctx.db()?).await?;
        Ok(input.id)
    }
}

/// Loads task `id` and checks `action` on its project.
pub(crate) async fn authorize(
    ctx: &Context<'_>,
    id: Uuid,
    action: ProjectAction,
) -> Result<task::Model> {
    ctx.require_viewer()?;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let found = loaders::by_id(loader, TaskById(id))
        .await?
        .ok_or(Error::NotFound)?;
    policy::authorize_project(ctx, found.project_id, action).await?;
    Ok(found)
}
