//! Time logs: hours a user spent on a task.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, SubsecRound, Utc};
use entity::time_log;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::connection::{Count, Cursor, OrderDirection, Scope, SortValue, connection_types};
use crate::context::ContextExt;
use crate::deletion::deletion_types;
use crate::error::{Error, Result};
use crate::loaders::hours::{HoursOf, HoursScope};
use crate::loaders::time_logs::{
    TimeLogCountOf, TimeLogFilter, TimeLogParent, TimeLogsOf, TimeRange,
};
use crate::loaders::{self, Loaders, TaskById, TimeLogById, UserById};
use crate::policy::{self, ProjectAction};
use crate::retry;
use crate::task::{self as tasks, Task};
use crate::user::User;
use crate::validate;

/// The most hours one log may hold: a day.
pub const MAX_HOURS: i32 = 24;

pub struct TimeLog(pub time_log::Model);

/// Hours a user spent on a task.
#[Object]
impl TimeLog {
    /// The object's id, unique across all types (a UUID): see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Whole hours, 1–24.
    async fn hours(&self) -> i32 {
        self.0.hours
    }

    /// What the work was, up to 500 characters; `null` when not said.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// When the work was done (RFC 3339).
    async fn logged_at(&self) -> DateTime<Utc> {
        self.0.logged_at
    }

    /// Who did the work.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        loaders::required(ctx, UserById(self.0.user_id))
            .await
            .map(User::new)
    }

    /// The task the time was spent on.
    async fn task(&self, ctx: &Context<'_>) -> Result<Task> {
        loaders::required(ctx, TaskById(self.0.task_id))
            .await
            .map(Task)
    }

    /// When the log was recorded (RFC 3339, UTC); `loggedAt` is when the work was done.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the log was last updated (RFC 3339, UTC): by any `update…` of it, even one
    /// that changed nothing; equal to `createdAt` until the first.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

connection_types!(TimeLogConnection, TimeLogEdge, TimeLog, "time logs");

/// Which time logs a list shows; all conditions must hold.
#[derive(InputObject, Default)]
pub struct TimeLogFilterInput {
    /// Logged at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Logged before this instant (so `from`/`to` spans that meet never share a log).
    pub to: Option<DateTime<Utc>>,
    /// Only this user's logs.
    pub user_id: Option<ID>,
}

/// What a time-log list is ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLogOrderField {
    /// When the work was done.
    LoggedAt,
}

/// A time-log list's order; ties fall back to id order (see `Node.id`), in the same direction.
#[derive(InputObject)]
pub struct TimeLogOrderInput {
    /// The sort key.
    pub field: TimeLogOrderField,
    /// `ASC` unless given.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// `from`–`to` as a range; `BAD_USER_INPUT` on `to_field` when it ends before it starts.
pub(crate) fn time_range(
    to_field: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<TimeRange> {
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(Error::bad_input(to_field, "to must not be before from"));
    }
    Ok(TimeRange { from, to })
}

/// Whether a time-log list runs newest first: its resolver's reading of `orderBy`, and the
/// planned read path's ([`crate::plan`]).
pub(crate) fn descending(order_by: Option<&TimeLogOrderInput>) -> bool {
    order_by.is_some_and(|order| order.direction == OrderDirection::Desc)
}

/// A page of the time logs under `parent`, by `loggedAt` (descending when asked). For a
/// task, the caller has checked that the viewer may read its project, and with it every log
/// on it; a user's logs are narrowed to readable projects by the loader.
pub(crate) async fn time_logs_of(
    ctx: &Context<'_>,
    parent: TimeLogParent,
    first: Option<i32>,
    after: Option<String>,
    filter: TimeLogFilter,
    order_by: Option<TimeLogOrderInput>,
) -> Result<TimeLogConnection> {
    let descending = descending(order_by.as_ref());
    let (connection, parent_id) = match parent {
        TimeLogParent::Task(id) => ("Task.timeLogs", id),
        TimeLogParent::User { user, .. } => ("User.timeLogs", user),
    };
    let scope = Scope {
        connection,
        parent: parent_id,
        order: if descending {
            "LOGGED_AT_DESC"
        } else {
            "LOGGED_AT_ASC"
        },
    };
    let loaded = loaders::connection_page(ctx, first, after.as_deref(), scope, |page| TimeLogsOf {
        parent,
        page,
        filter,
        descending,
    })
    .await?;
    let cursor_of = |row: &time_log::Model| Cursor {
        value: SortValue::Time(row.logged_at),
        id: row.id,
    };
    Ok(TimeLogConnection::build(
        loaded,
        scope,
        cursor_of,
        TimeLog,
        Count::later(TimeLogCountOf { parent, filter }),
    ))
}

impl TimeLogFilterInput {
    /// The loader's filter; `BAD_USER_INPUT` on `filter.to` or `filter.userId`.
    pub(crate) fn into_filter(self) -> Result<TimeLogFilter> {
        Ok(TimeLogFilter {
            logged: time_range("filter.to", self.from, self.to)?,
            user: self
                .user_id
                .as_ref()
                .map(|id| validate::id("filter.userId", id))
                .transpose()?,
        })
    }
}

/// The hours logged in `scope` with `from <= logged_at < to`, summed by the database.
pub(crate) async fn total_hours(
    ctx: &Context<'_>,
    scope: HoursScope,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<i32> {
    let range = time_range("to", from, to)?;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let hours = loader
        .load_one(HoursOf { scope, range })
        .await?
        .unwrap_or(0);
    Ok(hours_value(hours))
}

/// A sum of hours as `totalHours` answers it. At most 24 hours a log: an i32 overflows
/// after 89 million logs in one scope, and is then held at its maximum.
pub(crate) fn hours_value(hours: i64) -> i32 {
    i32::try_from(hours).unwrap_or(i32::MAX)
}

/// What `logTime` asks for.
#[derive(InputObject)]
pub struct LogTimeInput {
    /// Optional client-chosen id (a UUID) for safe retries; see `createWorkspace`.
    pub id: Option<ID>,
    /// The task the time was spent on.
    pub task_id: ID,
    /// Whole hours, 1–24.
    pub hours: i32,
    /// Optional note on what the work was, up to 500 characters; blank means none.
    pub description: Option<String>,
    /// When the work was done (RFC 3339); now when absent.
    pub logged_at: Option<DateTime<Utc>>,
}

/// What `updateTimeLog` changes; absent fields stay, `null` clears the description.
#[derive(InputObject)]
pub struct UpdateTimeLogInput {
    /// The id of the time log to change.
    pub id: ID,
    /// New whole hours, 1–24; absent or `null` keeps them.
    pub hours: Option<i32>,
    /// A new description of up to 500 characters; `null` or blank clears it.
    pub description: MaybeUndefined<String>,
    /// When the work was done (RFC 3339); absent or `null` keeps it.
    pub logged_at: Option<DateTime<Utc>>,
}

deletion_types!(
    DeleteTimeLogInput,
    DeleteTimeLogPayload,
    "deleteTimeLog",
    "time log"
);

#[derive(Default)]
pub struct TimeLogMutation;

/// Writes to time logs.
#[Object]
impl TimeLogMutation {
    /// Logs the viewer's own time on a task of a project they are a member of (or whose
    /// workspace they administer); `NOT_FOUND` for a task of a project the viewer may not
    /// read, `BAD_USER_INPUT` on `hours` outside 1–24.
    async fn log_time(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The task, the hours and when the work was done.")] input: LogTimeInput,
    ) -> Result<TimeLog> {
        let id = validate::optional_id("id", input.id.as_ref())?;
        let task_id = validate::id("taskId", &input.task_id)?;
        let hours = hours(input.hours)?;
        let description = validate::description(input.description.as_deref())?;
        let viewer = *ctx.require_viewer()?;
        tasks::authorize(ctx, task_id, ProjectAction::LogTime).await?;
        let db = ctx.db()?;
        // Microseconds: what both backends keep, so a retry compares equal.
        let logged_at = input.logged_at.map(|at| at.trunc_subsecs(6));
        let find = |id: Uuid| async move { Ok(time_log::Entity::find_by_id(id).one(db).await?) };
        let same = |existing: &time_log::Model| {
            existing.user_id == viewer.user_id
                && existing.task_id == task_id
                && existing.hours == hours
                && existing.description == description
                && logged_at.is_none_or(|at| at == existing.logged_at)
        };
        let insert = || async {
            Ok(time_log::ActiveModel {
                id: id.map_or(sea_orm::ActiveValue::NotSet, Set),
                user_id: Set(viewer.user_id),
                task_id: Set(task_id),
                hours: Set(hours),
                description: Set(description.clone()),
                logged_at: Set(logged_at.unwrap_or_else(|| Utc::now().trunc_subsecs(6))),
                ..Default::default()
            }
            .insert(db)
            .await?)
        };
        let created = retry::create_once(id, find, same, insert).await?;
        Ok(TimeLog(created))
    }

    /// Changes a time log: its author while they may still read the project, project OWNERs
    /// and ADMINs, workspace OWNERs and ADMINs (other readers of the project get
    /// `FORBIDDEN`, anyone else `NOT_FOUND`).
    async fn update_time_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The time log and the fields to change.")] input: UpdateTimeLogInput,
    ) -> Result<TimeLog> {
        let id = validate::id("id", &input.id)?;
        let hours = input.hours.map(hours).transpose()?;
        let description = validate::description_patch(&input.description)?;
        let found = authorize_edit(ctx, id).await?;
        let mut change: time_log::ActiveModel = found.into();
        if let Some(hours) = hours {
            change.hours = Set(hours);
        }
        if let Some(description) = description {
            change.description = Set(description);
        }
        if let Some(logged_at) = input.logged_at {
            change.logged_at = Set(logged_at.trunc_subsecs(6));
        }
        Ok(TimeLog(change.update(ctx.db()?).await?))
    }

    /// Deletes a time log, by the same rule as updating it. Answers its id.
    async fn delete_time_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The time log to delete.")] input: DeleteTimeLogInput,
    ) -> Result<DeleteTimeLogPayload> {
        let id = validate::id("id", &input.id)?;
        authorize_edit(ctx, id).await?;
        time_log::Entity::delete_by_id(id).exec(ctx.db()?).await?;
        Ok(DeleteTimeLogPayload { id: input.id })
    }
}

/// `BAD_USER_INPUT` on `hours` outside 1–24: the seed requires more than zero, and more
/// than a day in one log is a typo.
fn hours(hours: i32) -> Result<i32> {
    if (1..=MAX_HOURS).contains(&hours) {
        Ok(hours)
    } else {
        Err(Error::bad_input(
            "hours",
            format!("hours must be a whole number from 1 to {MAX_HOURS}"),
        ))
    }
}

/// Loads time log `id` and checks that the viewer may change it.
async fn authorize_edit(ctx: &Context<'_>, id: Uuid) -> Result<time_log::Model> {
    let viewer = *ctx.require_viewer()?;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let found = loaders::by_id(loader, TimeLogById(id))
        .await?
        .ok_or(Error::NotFound)?;
    let task = loaders::by_id(loader, TaskById(found.task_id))
        .await?
        .ok_or(Error::NotFound)?;
    let project = loaders::by_id(loader, loaders::ProjectById(task.project_id))
        .await?
        .ok_or(Error::NotFound)?;
    let access = policy::project_access(ctx, &viewer, &project).await?;
    policy::edit_time_log(access, found.user_id == viewer.user_id).check()?;
    Ok(found)
}
