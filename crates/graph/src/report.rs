//! Time reports: a workspace's hours, summed by the database along the keys a client
//! picks (people, clients, projects, tasks, days, weeks).

use std::collections::{HashMap, HashSet};

use async_graphql::dataloader::DataLoader;
use async_graphql::{
    Context, Enum, ID, InputValueError, InputValueResult, Object, Scalar, ScalarType, Value,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::client::Client;
use crate::context::ContextExt;
use crate::error::{Error, Result};
pub use crate::loaders::report::MAX_ROWS;
use crate::loaders::report::{ReportGroup, ReportRow, TimeReportOf};
use crate::loaders::time_logs::TimeRange;
use crate::loaders::{self, ClientById, Loaders, ProjectById, TaskById, UserById};
use crate::policy::{self, WorkspaceAction};
use crate::project::Project;
use crate::task::Task;
use crate::time_log;
use crate::user::User;
use crate::validate;

/// The longest span a time report may cover, in days (a leap year).
pub const MAX_RANGE_DAYS: i64 = 366;

/// A calendar day, `YYYY-MM-DD`: RFC 3339's `full-date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar day, `YYYY-MM-DD` (RFC 3339 `full-date`), without a time or an offset.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("a Date is YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl Date {
    /// The day a report row's `YYYY-MM-DD` text names.
    fn of_row(text: Option<&str>) -> Result<Option<Self>> {
        text.map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(Error::internal)
        })
        .transpose()
    }
}

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

    /// The day (UTC), when grouped by `DAY`.
    async fn day(&self) -> Result<Option<Date>> {
        Date::of_row(self.row.day.as_deref())
    }

    /// The first day (a Monday, UTC) of the ISO week, when grouped by `WEEK`.
    async fn week(&self) -> Result<Option<Date>> {
        Date::of_row(self.row.week.as_deref())
    }

    /// The hours logged.
    async fn hours(&self) -> i32 {
        // At most 24 hours a log: an i32 overflows after 89 million logs in one row.
        i32::try_from(self.row.hours).unwrap_or(i32::MAX)
    }
}

#[derive(Default)]
pub struct ReportQuery;

/// Reports over time logs.
#[Object]
impl ReportQuery {
    /// The hours logged in a workspace with `from <= loggedAt < to`, summed per combination
    /// of the `groupBy` keys and ordered by them (in the order given; people, clients,
    /// projects and tasks by id, days and weeks by date). An empty `groupBy` gives one row,
    /// the total. Workspace OWNERs and ADMINs see everyone's hours; other members see their
    /// own, on the projects they may read. A report spans at most 366 days and has at most
    /// 10,000 rows. `NOT_FOUND` for a workspace the viewer is not a member of;
    /// `BAD_USER_INPUT` on `groupBy` when a key repeats or the report would have more rows
    /// than that (narrow the range or group by fewer keys), on `to` when it is before
    /// `from`, on `from` when it is more than 366 days before `to`.
    async fn time_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace to report on.")] workspace_id: ID,
        #[graphql(desc = "Count logs at or after this instant; by default 366 days before `to`.")]
        from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant; by default now.")] to: Option<
            DateTime<Utc>,
        >,
        #[graphql(
            desc = "The keys to group by, each at most once; rows sort by them in this order."
        )]
        group_by: Vec<TimeReportGroup>,
    ) -> Result<Vec<TimeReportRow>> {
        let workspace = validate::id("workspaceId", &workspace_id)?;
        let range = time_log::time_range("to", from, to)?;
        let longest = Duration::days(MAX_RANGE_DAYS);
        let to = range.to.unwrap_or_else(Utc::now);
        let from = range.from.unwrap_or(to - longest);
        if to - from > longest {
            return Err(Error::bad_input(
                "from",
                format!("a report spans at most {MAX_RANGE_DAYS} days: move from closer to to"),
            ));
        }
        let range = TimeRange {
            from: Some(from),
            to: Some(to),
        };
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
        if rows.len() > MAX_ROWS {
            return Err(Error::bad_input(
                "groupBy",
                format!(
                    "the report has more than {MAX_ROWS} rows: narrow from and to, or group by fewer keys"
                ),
            ));
        }
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
