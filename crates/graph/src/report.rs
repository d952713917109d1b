//! Time reports: a workspace's hours, summed by the database along the keys a client
//! picks (people, clients, projects, tasks, days, weeks).

use std::collections::{HashMap, HashSet};

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::client::Client;
use crate::context::ContextExt;
use crate::error::{Error, Result};
use crate::loaders::report::{ReportGroup, ReportRow, TimeReportOf};
use crate::loaders::{self, ClientById, Loaders, ProjectById, TaskById, UserById};
use crate::policy::{self, WorkspaceAction};
use crate::project::Project;
use crate::task::Task;
use crate::time_log;
use crate::user::User;
use crate::validate;

/// A key a time report's rows are grouped by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeReportGroup {
    /// Who logged the time.
    User,
    /// The client of the project the time was logged on.
    Client,
    /// The project the time was logged on.
    Project,
    /// The task the time was logged on.
    Task,
    /// The day (UTC) the work was done.
    Day,
    /// The ISO week (Monday to Sunday, UTC) the work was done in.
    Week,
}

impl From<TimeReportGroup> for ReportGroup {
    fn from(group: TimeReportGroup) -> Self {
        match group {
            TimeReportGroup::User => Self::User,
            TimeReportGroup::Client => Self::Client,
            TimeReportGroup::Project => Self::Project,
            TimeReportGroup::Task => Self::Task,
            TimeReportGroup::Day => Self::Day,
            TimeReportGroup::Week => Self::Week,
        }
    }
}

/// One row of a time report: the hours logged for one combination of the grouped-by keys.
/// A key the report is not grouped by is `null`.
pub struct TimeReportRow {
    row: ReportRow,
    user: Option<User>,
    client: Option<Client>,
    project: Option<Project>,
    task: Option<Task>,
}

/// One row of a time report: the hours logged for one combination of the grouped-by keys.
/// A key the report is not grouped by is `null`.
#[Object]
impl TimeReportRow {
    /// Who logged the time, when grouped by `USER`.
    async fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    /// The client, when grouped by `CLIENT`.
    async fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// The project, when grouped by `PROJECT`.
    async fn project(&self) -> Option<&Project> {
        self.project.as_ref()
    }

    /// The task, when grouped by `TASK`.
    async fn task(&self) -> Option<&Task> {
        self.task.as_ref()
    }

    /// The day (UTC) as `YYYY-MM-DD`, when grouped by `DAY`.
    async fn day(&self) -> Option<&str> {
        self.row.day.as_deref()
    }

    /// The first day (a Monday, UTC) of the ISO week as `YYYY-MM-DD`, when grouped by
    /// `WEEK`.
    async fn week(&self) -> Option<&str> {
        self.row.week.as_deref()
    }

    /// The hours logged.
    async fn hours(&self) -> i32 {
        // At most 24 hours a log: an i32 overflows after 89 million logs in one row.
        i32::try_from(self.row.hours).unwrap_or(i32::MAX)
    }
}

/// Reports over time logs.
#[derive(Default)]
pub struct ReportQuery;

/// Reports over time logs.
#[Object]
impl ReportQuery {
    /// The hours logged in a workspace with `from <= loggedAt < to`, summed per combination
    /// of the `groupBy` keys and ordered by them (in the order given; people, clients,
    /// projects and tasks by id, days and weeks by date). An empty `groupBy` gives one row,
    /// the total. Workspace OWNERs and ADMINs see everyone's hours; other members see their
    /// own, on the projects they may read. `NOT_FOUND` for a workspace the viewer is not a
    /// member of; `BAD_USER_INPUT` on `groupBy` when a key repeats, on `to` when it is
    /// before `from`.
    async fn time_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace to report on.")] workspace_id: ID,
        #[graphql(desc = "Count logs at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant.")] to: Option<DateTime<Utc>>,
        #[graphql(
            desc = "The keys to group by, each at most once; rows sort by them in this order."
        )]
        group_by: Vec<TimeReportGroup>,
    ) -> Result<Vec<TimeReportRow>> {
        let workspace = validate::id("workspaceId", &workspace_id)?;
        let range = time_log::time_range("to", from, to)?;
        let mut seen = HashSet::new();
        if !group_by.iter().all(|group| seen.insert(*group)) {
            return Err(Error::bad_input(
                "groupBy",
                "groupBy must not name a key more than once",
            ));
        }
        let viewer = ctx.require_viewer()?.user_id;
        let (_, role) = policy::authorize_workspace(ctx, workspace, WorkspaceAction::Read).await?;
        let key = TimeReportOf {
            workspace,
            viewer,
            only_user: (!policy::reports_everyone(role)).then_some(viewer),
            range,
            groups: group_by.into_iter().map(ReportGroup::from).collect(),
        };
        let loader = ctx.service::<DataLoader<Loaders>>()?;
        let rows = loader.load_one(key).await?.unwrap_or_default();
        with_objects(ctx, loader, rows).await
    }
}

/// The report's rows with the objects they name, each kind loaded in one batch (and only
/// when the client selected it), whatever the number of rows.
async fn with_objects(
    ctx: &Context<'_>,
    loader: &DataLoader<Loaders>,
    rows: Vec<ReportRow>,
) -> Result<Vec<TimeReportRow>> {
    let look = ctx.look_ahead();
    let ids = |field: &str, id: fn(&ReportRow) -> Option<Uuid>| -> HashSet<Uuid> {
        if look.field(field).exists() {
            rows.iter().filter_map(id).collect()
        } else {
            HashSet::new()
        }
    };
    let (users, clients, projects, tasks) = (
        ids("user", |row| row.user),
        ids("client", |row| row.client),
        ids("project", |row| row.project),
        ids("task", |row| row.task),
    );
    let (users, clients, projects, tasks) = tokio::try_join!(
        loaders::by_ids(loader, &users, UserById),
        loaders::by_ids(loader, &clients, ClientById),
        loaders::by_ids(loader, &projects, ProjectById),
        loaders::by_ids(loader, &tasks, TaskById),
    )?;
    Ok(rows
        .into_iter()
        .map(|row| TimeReportRow {
            user: pick(row.user, &users).map(User::new),
            client: pick(row.client, &clients).map(Client),
            project: pick(row.project, &projects).map(Project),
            task: pick(row.task, &tasks).map(Task),
            row,
        })
        .collect())
}

/// The object `id` names, if it was loaded.
fn pick<M: Clone>(id: Option<Uuid>, loaded: &HashMap<Uuid, M>) -> Option<M> {
    id.and_then(|id| loaded.get(&id).cloned())
}
