//! Time reports: a workspace's hours summed by any combination of user, client, project,
//! task, day and week, in one `GROUP BY` statement. The key behind `Query.timeReport`.
//!
//! Days and ISO weeks are bucketed in UTC by the database, which is the one place whose
//! SQL differs by backend: SQLite keeps timestamps as RFC 3339 text and has `date(…)`,
//! PostgreSQL keeps `timestamptz` and has `date_trunc`. Both give `YYYY-MM-DD` text, so the
//! rows and their order are the same on either.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{project, task, time_log};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, QueryResult};
use uuid::Uuid;

use super::Loaders;
use super::access;
use super::time_logs::TimeRange;

/// The most rows a time report may have; past it, `BAD_USER_INPUT` on `groupBy`.
pub const MAX_ROWS: usize = 10_000;

/// What a report row can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportGroup {
    User,
    Client,
    Project,
    Task,
    /// The UTC date a log was logged on.
    Day,
    /// The Monday (UTC) starting the ISO week a log was logged in.
    Week,
}

/// One workspace's report as one viewer may see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeReportOf {
    pub workspace: Uuid,
    /// Only logs on projects this viewer may read are summed.
    pub viewer: Uuid,
    /// Only this user's logs (a workspace member who does not manage it sees their own).
    pub only_user: Option<Uuid>,
    pub range: TimeRange,
    /// The keys, in the order the rows are sorted by; distinct.
    pub groups: Vec<ReportGroup>,
}

/// A row of a report: the value of each group key asked for, and the hours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRow {
    pub user: Option<Uuid>,
    pub client: Option<Uuid>,
    pub project: Option<Uuid>,
    pub task: Option<Uuid>,
    /// `YYYY-MM-DD`.
    pub day: Option<String>,
    /// `YYYY-MM-DD`, a Monday.
    pub week: Option<String>,
    pub hours: i64,
}

impl Loader<TimeReportOf> for Loaders {
    type Value = Vec<ReportRow>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TimeReportOf],
    ) -> Result<HashMap<TimeReportOf, Vec<ReportRow>>, Self::Error> {
        // Each key is its own question (one per `timeReport` field of a request).
        let backend = self.db.get_database_backend();
        let mut reports = HashMap::with_capacity(keys.len());
        for key in keys {
            let statement = backend.build(&report_statement(key, backend));
            let rows = self.db.query_all_raw(statement).await?;
            let rows = rows
                .iter()
                .map(|row| read_row(row, &key.groups))
                .collect::<Result<Vec<_>, DbErr>>()?;
            reports.insert(key.clone(), rows);
        }
        Ok(reports)
    }
}

/// The column alias of the group key at `index`.
fn alias(index: usize) -> Alias {
    Alias::new(format!("group_{index}"))
}

/// The SQL of one group key.
fn group_expr(group: ReportGroup, backend: DatabaseBackend) -> Expr {
    let logged_at = || Expr::col((time_log::Entity, time_log::Column::LoggedAt));
    let postgres = backend == DatabaseBackend::Postgres;
    match group {
        ReportGroup::User => Expr::col((time_log::Entity, time_log::Column::UserId)),
        ReportGroup::Task => Expr::col((time_log::Entity, time_log::Column::TaskId)),
        ReportGroup::Project => Expr::col((task::Entity, task::Column::ProjectId)),
        ReportGroup::Client => Expr::col((project::Entity, project::Column::ClientId)),
        // The templates hold no values, only the column, so the same text can stand in the
        // select list, `GROUP BY` and `ORDER BY` on PostgreSQL.
        ReportGroup::Day if postgres => {
            Expr::cust_with_expr("to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD')", logged_at())
        }
        ReportGroup::Week if postgres => Expr::cust_with_expr(
            "to_char(date_trunc('week', $1 AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
            logged_at(),
        ),
        // SQLite's `date` reads the stored RFC 3339 text, offset included, and answers in
        // UTC. 'weekday 0' moves forward to the next Sunday (or stays on one); six days
        // back from it is the Monday of the ISO week.
        ReportGroup::Day => Expr::cust_with_expr("date(?)", logged_at()),
        ReportGroup::Week => Expr::cust_with_expr("date(?, 'weekday 0', '-6 days')", logged_at()),
    }
}

/// `SELECT keys, SUM(hours) FROM time_logs JOIN tasks JOIN projects WHERE workspace, range,
/// visibility GROUP BY keys ORDER BY keys`. Without keys: one row, the total.
fn report_statement(key: &TimeReportOf, backend: DatabaseBackend) -> SelectStatement {
    let mut query = Query::select();
    query
        .from(time_log::Entity)
        .inner_join(
            task::Entity,
            Expr::col((task::Entity, task::Column::Id))
                .equals((time_log::Entity, time_log::Column::TaskId)),
        )
        .inner_join(
            project::Entity,
            Expr::col((project::Entity, project::Column::Id))
                .equals((task::Entity, task::Column::ProjectId)),
        )
        .and_where(project::Column::WorkspaceId.eq(key.workspace))
        .cond_where(key.range.condition())
        .cond_where(access::readable_projects(key.viewer));
    if let Some(user) = key.only_user {
        query.and_where(time_log::Column::UserId.eq(user));
    }
    for (index, group) in key.groups.iter().enumerate() {
        let expr = group_expr(*group, backend);
        query.expr_as(expr.clone(), alias(index));
        query.add_group_by([expr.clone()]);
        query.order_by_expr(expr, Order::Asc);
    }
    query.expr_as(
        Expr::col((time_log::Entity, time_log::Column::Hours)).sum(),
        Alias::new("hours"),
    );
    // One row past the cap is enough to know the report is over it.
    query.limit(u64::try_from(MAX_ROWS).unwrap_or(u64::MAX) + 1);
    query
}

/// Reads a row of [`report_statement`]: the keys in `groups`' order, then the sum.
fn read_row(row: &QueryResult, groups: &[ReportGroup]) -> Result<ReportRow, DbErr> {
    let mut read = ReportRow::default();
    for (index, group) in groups.iter().enumerate() {
        let column = format!("group_{index}");
        match group {
            ReportGroup::User => read.user = Some(row.try_get("", &column)?),
            ReportGroup::Client => read.client = Some(row.try_get("", &column)?),
            ReportGroup::Project => read.project = Some(row.try_get("", &column)?),
            ReportGroup::Task => read.task = Some(row.try_get("", &column)?),
            ReportGroup::Day => read.day = Some(row.try_get("", &column)?),
            ReportGroup::Week => read.week = Some(row.try_get("", &column)?),
        }
    }
    // `SUM` over no rows (the total of an empty report) is NULL.
    let hours: Option<i64> = row.try_get("", "hours")?;
    read.hours = hours.unwrap_or(0);
    Ok(read)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;

    fn key(groups: Vec<ReportGroup>, only_user: Option<Uuid>) -> TimeReportOf {
        TimeReportOf {
            workspace: Uuid::nil(),
            viewer: Uuid::nil(),
            only_user,
            range: TimeRange::default(),
            groups,
        }
    }

    #[test]
    fn weeks_and_days_are_bucketed_per_backend() {
        let groups = vec![ReportGroup::Project, ReportGroup::Week, ReportGroup::Day];
        let report = key(groups, None);
        let sql =
            report_statement(&report, DatabaseBackend::Postgres).to_string(PostgresQueryBuilder);
        for part in [
            r#"SELECT "tasks"."project_id" AS "group_0", to_char(date_trunc('week', "time_logs"."logged_at" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS "group_1", to_char("time_logs"."logged_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS "group_2", SUM("time_logs"."hours") AS "hours""#,
            r#"INNER JOIN "projects" ON "projects"."id" = "tasks"."project_id""#,
            r#"GROUP BY "tasks"."project_id", to_char(date_trunc('week', "time_logs"."logged_at" AT TIME ZONE 'UTC'), 'YYYY-MM-DD'), to_char("#,
            r#"ORDER BY "tasks"."project_id" ASC, to_char(date_trunc('week'"#,
        ] {
            assert!(sql.contains(part), "{part} in {sql}");
        }
        let sql = report_statement(&report, DatabaseBackend::Sqlite).to_string(SqliteQueryBuilder);
        for part in [
            r#"date("time_logs"."logged_at", 'weekday 0', '-6 days') AS "group_1""#,
            r#"date("time_logs"."logged_at") AS "group_2""#,
            r#"GROUP BY "tasks"."project_id", date("time_logs"."logged_at", 'weekday 0', '-6 days'), date("time_logs"."logged_at")"#,
        ] {
            assert!(sql.contains(part), "{part} in {sql}");
        }
    }

    #[test]
    fn a_report_without_groups_is_one_total_and_a_members_is_their_own() {
        let viewer = Uuid::now_v7();
        let sql = report_statement(&key(Vec::new(), Some(viewer)), DatabaseBackend::Postgres)
            .to_string(PostgresQueryBuilder);
        assert!(
            sql.starts_with(r#"SELECT SUM("time_logs"."hours") AS "hours" FROM "time_logs""#),
            "{sql}"
        );
        assert!(!sql.contains("GROUP BY"), "{sql}");
        assert!(
            sql.contains(&format!(r#""time_logs"."user_id" = '{viewer}'"#)),
            "{sql}"
        );
        assert!(
            sql.contains(r#"EXISTS(SELECT 1 FROM "project_users""#),
            "{sql}"
        );
    }
}
