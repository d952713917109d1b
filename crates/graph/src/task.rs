//! Tasks: units of work in a project.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::task::{self, TaskStatus as StoredStatus};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::connection::{Count, Cursor, OrderDirection, Scope, SortValue, connection_types};
use crate::context::ContextExt;
use crate::deletion::deletion_types;
use crate::error::{Error, Result};
use crate::loaders::hours::HoursScope;
use crate::loaders::time_logs::TimeLogParent;
use crate::loaders::{self, Loaders, ProjectById, tasks};
use crate::policy::{self, ProjectAction};
use crate::project::Project;
use crate::retry;
use crate::time_log::{self, TimeLogConnection, TimeLogFilterInput, TimeLogOrderInput};
use crate::validate;
use async_graphql::dataloader::DataLoader;

/// Where a task stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Not started: a new task's status unless another is given.
    Pending,
    /// Being worked on.
    InProgress,
    /// Done.
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

pub struct Task(pub task::Model);

connection_types!(TaskConnection, TaskEdge, Task, "tasks");

/// Which tasks a list shows; all conditions must hold.
#[derive(InputObject, Default)]
pub struct TaskFilterInput {
    /// Only tasks with this status.
    pub status: Option<TaskStatus>,
    /// Part of the name, at most 150 characters, ignoring case (ASCII letters only on
    /// SQLite); empty matches every task.
    pub name_contains: Option<String>,
}

/// What a task list is ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOrderField {
    /// When the task was created.
    CreatedAt,
    /// The name, as the database compares text.
    Name,
    /// The status, by its name.
    Status,
}

/// A task list's order; ties fall back to id order (see `Node.id`), in the same direction.
#[derive(InputObject)]
pub struct TaskOrderInput {
    /// The sort key.
    pub field: TaskOrderField,
    /// `ASC` unless given.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// The filter and order `Project.tasks` is asked for, checked: its resolver's reading of
/// them, and the planned read path's ([`crate::plan`]).
pub(crate) fn list_arguments(
    filter: Option<TaskFilterInput>,
    order_by: Option<TaskOrderInput>,
) -> Result<(tasks::TaskFilter, tasks::TaskOrder)> {
    let filter = filter.unwrap_or_default();
    if let Some(needle) = &filter.name_contains {
        validate::max_chars("filter.nameContains", needle, validate::TASK_NAME_CHARS)?;
    }
    let filter = tasks::TaskFilter {
        status: filter.status.map(StoredStatus::from),
        name_contains: filter.name_contains.filter(|needle| !needle.is_empty()),
    };
    let order = order_by.map_or_else(tasks::TaskOrder::default, |order| tasks::TaskOrder {
        field: match order.field {
            TaskOrderField::CreatedAt => tasks::TaskOrderField::CreatedAt,
            TaskOrderField::Name => tasks::TaskOrderField::Name,
            TaskOrderField::Status => tasks::TaskOrderField::Status,
        },
        descending: order.direction == OrderDirection::Desc,
    });
    Ok((filter, order))
}

/// How a task list's cursors name its order (`CreatedAt_ASC`).
pub(crate) fn order_name(order: tasks::TaskOrder) -> String {
    format!(
        "{:?}_{}",
        order.field,
        if order.descending { "DESC" } else { "ASC" }
    )
}

/// A page of `project`'s tasks. The caller has checked that the viewer may read the
/// project.
pub(crate) async fn tasks_of(
    ctx: &Context<'_>,
    project: Uuid,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<TaskFilterInput>,
    order_by: Option<TaskOrderInput>,
) -> Result<TaskConnection> {
    let (filter, order) = list_arguments(filter, order_by)?;
    let order_name = order_name(order);
    let scope = Scope {
        connection: "Project.tasks",
        parent: project,
        order: &order_name,
    };
    let loaded =
        loaders::connection_page(ctx, first, after.as_deref(), scope, |page| tasks::TasksOf {
            project,
            page,
            filter: filter.clone(),
            order,
        })
        .await?;
    let cursor_of = |row: &task::Model| Cursor {
        value: match order.field {
            tasks::TaskOrderField::CreatedAt => SortValue::Time(row.created_at),
            tasks::TaskOrderField::Name => SortValue::Text(row.name.clone()),
            tasks::TaskOrderField::Status => {
                SortValue::Text(sea_orm::ActiveEnum::to_value(&row.status))
            }
        },
        id: row.id,
    };
    Ok(TaskConnection::build(
        loaded,
        scope,
        cursor_of,
        Task,
        Count::later(tasks::TaskCountOf { project, filter }),
    ))
}

/// A unit of work in a project.
#[Object]
impl Task {
    /// The object's id, unique across all types (a UUID): see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The task's name: 1–150 characters (not unique).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Free-text notes on the task, up to 500 characters; `null` when there are none.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Where the task stands; project members change it with `updateTask`.
    async fn status(&self) -> TaskStatus {
        self.0.status.into()
    }

    /// The project the task belongs to.
    async fn project(&self, ctx: &Context<'_>) -> Result<Project> {
        loaders::required(ctx, ProjectById(self.0.project_id))
            .await
            .map(Project)
    }

    /// The time logged on the task, oldest first unless `orderBy` says otherwise. `first`
    /// is at most 100 (default 50).
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn time_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many logs to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
        #[graphql(desc = "Which logs to list.")] filter: Option<TimeLogFilterInput>,
        #[graphql(desc = "The order; `LOGGED_AT` ascending when absent.")] order_by: Option<
            TimeLogOrderInput,
        >,
    ) -> Result<TimeLogConnection> {
        let filter = filter.unwrap_or_default().into_filter()?;
        let parent = TimeLogParent::Task(self.0.id);
        time_log::time_logs_of(ctx, parent, first, after, filter, order_by).await
    }

    /// The hours logged on the task, summed; with `from` and `to`, only logs with
    /// `from <= loggedAt < to`.
    async fn total_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count logs at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant.")] to: Option<DateTime<Utc>>,
    ) -> Result<i32> {
        time_log::total_hours(ctx, HoursScope::Task(self.0.id), from, to).await
    }

    /// When the task was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the task was last updated (RFC 3339, UTC): by any `update…` of it, even one
    /// that changed nothing; equal to `createdAt` until the first.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct TaskQuery;

/// Reads of tasks.
#[Object]
impl TaskQuery {
    /// A task of a project the viewer may read. `NOT_FOUND` for any other id.
    async fn task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The task's id; `BAD_USER_INPUT` when it is not a UUID.")] id: ID,
    ) -> Result<Task> {
        let id = validate::id("id", &id)?;
        authorize(ctx, id, ProjectAction::Read).await.map(Task)
    }
}

/// What `createTask` asks for.
#[derive(InputObject)]
pub struct CreateTaskInput {
    /// Optional client-chosen id (a UUID) for safe retries; see `createWorkspace`.
    pub id: Option<ID>,
    /// The project to add the task to.
    pub project_id: ID,
    /// The task's name: 1–150 characters (trimmed).
    pub name: String,
    /// Optional free-text notes on the task, up to 500 characters; blank means none.
    pub description: Option<String>,
    /// The task's status; `PENDING` when absent.
    pub status: Option<TaskStatus>,
}

/// What `updateTask` changes; absent fields stay, `null` clears the description.
#[derive(InputObject)]
pub struct UpdateTaskInput {
    /// The id of the task to change.
    pub id: ID,
    /// A new name, 1–150 characters; absent or `null` keeps the current one.
    pub name: Option<String>,
    /// A new description of up to 500 characters; `null` or blank clears it.
    pub description: MaybeUndefined<String>,
    /// A new status; absent or `null` keeps the current one.
    pub status: Option<TaskStatus>,
}

deletion_types!(DeleteTaskInput, DeleteTaskPayload, "deleteTask", "task");

#[derive(Default)]
pub struct TaskMutation;

/// Writes to tasks.
#[Object]
impl TaskMutation {
    /// Adds a task to a project: its members, and workspace OWNERs and ADMINs (`NOT_FOUND`
    /// for anyone else). `BAD_USER_INPUT` with the offending `field` for invalid input.
    async fn create_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project and the new task's fields.")] input: CreateTaskInput,
    ) -> Result<Task> {
        let id = validate::optional_id("id", input.id.as_ref())?;
        let project_id = validate::id("projectId", &input.project_id)?;
        let name = validate::required_text("name", &input.name, validate::TASK_NAME_CHARS)?;
        let description = validate::description(input.description.as_deref())?;
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

    /// Changes a task, including its status: project members, workspace OWNERs and ADMINs
    /// (`NOT_FOUND` for anyone else).
    async fn update_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The task and the fields to change.")] input: UpdateTaskInput,
    ) -> Result<Task> {
        let id = validate::id("id", &input.id)?;
        let name = validate::name_patch(input.name.as_deref(), validate::TASK_NAME_CHARS)?;
        let description = validate::description_patch(&input.description)?;
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
    /// ADMINs (other project members get `FORBIDDEN`). Answers its id.
    async fn delete_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The task to delete.")] input: DeleteTaskInput,
    ) -> Result<DeleteTaskPayload> {
        let id = validate::id("id", &input.id)?;
        authorize(ctx, id, ProjectAction::DeleteTasks).await?;
        task::Entity::delete_by_id(id).exec(ctx.db()?).await?;
        Ok(DeleteTaskPayload { id: input.id })
    }
}

/// Loads task `id`, with the viewer's roles in its project and workspace in the same
/// statement, and checks `action` on its project.
pub(crate) async fn authorize(
    ctx: &Context<'_>,
    id: Uuid,
    action: ProjectAction,
) -> Result<task::Model> {
    let viewer = ctx.require_viewer()?;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let key = loaders::TaskWithAccess {
        viewer: viewer.user_id,
        id,
    };
    let (found, access) = loaders::by_id(loader, key).await?.ok_or(Error::NotFound)?;
    policy::project(access, action).check()?;
    Ok(found)
}
