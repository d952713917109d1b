//! Hours logged, summed in the database: the key behind every `totalHours`.
//!
//! One `SUM(hours) … GROUP BY` per kind of scope in a batch, joining `time_logs → tasks →
//! projects` as far as the scope needs; logs themselves are never loaded. Sums above a
//! single project (a workspace, a client, a member's hours in a workspace) count only the
//! projects the viewer may read ([`access::readable_projects`]), so a workspace USER never
//! learns the hours of projects they are not in.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{project, task, time_log};
use sea_orm::sea_query::{
    Alias, ColumnRef, Expr, ExprTrait, IntoColumnRef, Query, SelectStatement,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Value};
use uuid::Uuid;

use super::access;
use super::time_logs::TimeRange;
use super::{Loaders, per_group};

/// Whose hours to sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoursScope {
    Task(Uuid),
    Project(Uuid),
    /// `user`'s logs on `project` (which the viewer may read: the caller checked).
    ProjectMember {
        project: Uuid,
        user: Uuid,
    },
    /// A client's projects that `viewer` may read.
    Client {
        client: Uuid,
        viewer: Uuid,
    },
    /// A workspace's projects that `viewer` may read.
    Workspace {
        workspace: Uuid,
        viewer: Uuid,
    },
    /// `user`'s logs on the projects of `workspace` that `viewer` may read.
    Member {
        workspace: Uuid,
        user: Uuid,
        viewer: Uuid,
    },
}

/// The hours logged within `range` in `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HoursOf {
    pub scope: HoursScope,
    pub range: TimeRange,
}

/// Scopes of one kind (and one viewer) share a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Task,
    Project,
    ProjectMember,
    Client { viewer: Uuid },
    Workspace { viewer: Uuid },
    Member { viewer: Uuid },
}

/// A scope's id within its kind: one id, or a workspace and a user.
type Target = (Uuid, Option<Uuid>);

impl HoursScope {
    fn split(self) -> (Kind, Target) {
        match self {
            Self::Task(id) => (Kind::Task, (id, None)),
            Self::Project(id) => (Kind::Project, (id, None)),
            Self::ProjectMember { project, user } => (Kind::ProjectMember, (project, Some(user))),
            Self::Client { client, viewer } => (Kind::Client { viewer }, (client, None)),
            Self::Workspace { workspace, viewer } => {
                (Kind::Workspace { viewer }, (workspace, None))
            }
            Self::Member {
                workspace,
                user,
                viewer,
            } => (Kind::Member { viewer }, (workspace, Some(user))),
        }
    }
}

impl Loader<HoursOf> for Loaders {
    type Value = i64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[HoursOf]) -> Result<HashMap<HoursOf, i64>, Self::Error> {
        sum(&self.db, keys).await
    }
}

/// The hours of each of `keys`, one statement per kind of scope (and viewer and range):
/// this loader's batch, and the planned read path's ([`crate::plan`]).
pub(crate) async fn sum(
    db: &DatabaseConnection,
    keys: &[HoursOf],
) -> Result<HashMap<HoursOf, i64>, Arc<DbErr>> {
    let split = |key: &HoursOf| {
        let (kind, target) = key.scope.split();
        ((kind, key.range), target)
    };
    per_group(keys, split, |(kind, range), targets| async move {
        sum_hours(db, kind, range, &targets).await
    })
    .await
}

/// Sums the hours of each target of one kind.
async fn sum_hours(
    db: &DatabaseConnection,
    kind: Kind,
    range: TimeRange,
    targets: &[Target],
) -> Result<HashMap<Target, i64>, DbErr> {
    let (query, keys) = sum_statement(kind, range, targets);
    let statement = db.get_database_backend().build(&query);
    let rows = db.query_all_raw(statement).await?;
    let mut sums = HashMap::new();
    for row in rows {
        let first: Uuid = row.try_get_by_index(0)?;
        let second: Option<Uuid> = if keys > 1 {
            Some(row.try_get_by_index(1)?)
        } else {
            None
        };
        let hours: i64 = row.try_get_by_index(keys)?;
        sums.insert((first, second), hours);
    }
    Ok(sums)
}

/// `SELECT keys, SUM(time_logs.hours) FROM time_logs [JOIN tasks [JOIN projects]] WHERE …
/// GROUP BY keys`, and how many key columns lead each row.
fn sum_statement(kind: Kind, range: TimeRange, targets: &[Target]) -> (SelectStatement, usize) {
    let mut query = Query::select();
    query.from(time_log::Entity).cond_where(range.condition());
    let keys: Vec<ColumnRef> = match kind {
        Kind::Task => vec![(time_log::Entity, time_log::Column::TaskId).into_column_ref()],
        Kind::Project => {
            join_tasks(&mut query);
            vec![(task::Entity, task::Column::ProjectId).into_column_ref()]
        }
        Kind::ProjectMember => {
            join_tasks(&mut query);
            vec![
                (task::Entity, task::Column::ProjectId).into_column_ref(),
                (time_log::Entity, time_log::Column::UserId).into_column_ref(),
            ]
        }
        Kind::Client { viewer } | Kind::Workspace { viewer } | Kind::Member { viewer } => {
            join_tasks(&mut query);
            join_projects(&mut query);
            query.cond_where(access::readable_projects(viewer));
            let parent = if matches!(kind, Kind::Client { .. }) {
                (project::Entity, project::Column::ClientId).into_column_ref()
            } else {
                (project::Entity, project::Column::WorkspaceId).into_column_ref()
            };
            if matches!(kind, Kind::Member { .. }) {
                let user = (time_log::Entity, time_log::Column::UserId).into_column_ref();
                vec![parent, user]
            } else {
                vec![parent]
            }
        }
    };
    // A member's pairs are asked as two sets; pairs nobody asked for are dropped by the
    // caller. (SQLite takes row values on the right of IN only from a subquery.)
    for (i, key) in keys.iter().enumerate() {
        let ids: Vec<Value> = targets
            .iter()
            .filter_map(|(first, second)| if i == 0 { Some(*first) } else { *second })
            .map(Value::from)
            .collect();
        query.and_where(Expr::col(key.clone()).is_in(ids));
    }
    for key in &keys {
        query.expr(Expr::col(key.clone()));
        query.add_group_by([Expr::col(key.clone())]);
    }
    query.expr_as(
        Expr::col((time_log::Entity, time_log::Column::Hours)).sum(),
        Alias::new("hours"),
    );
    (query, keys.len())
}

fn join_tasks(query: &mut SelectStatement) {
    query.inner_join(
        task::Entity,
        Expr::col((task::Entity, task::Column::Id))
            .equals((time_log::Entity, time_log::Column::TaskId)),
    );
}

fn join_projects(query: &mut SelectStatement) {
    query.inner_join(
        project::Entity,
        Expr::col((project::Entity, project::Column::Id))
            .equals((task::Entity, task::Column::ProjectId)),
    );
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::PostgresQueryBuilder;

    use super::*;

    #[test]
    fn a_members_hours_join_up_to_projects_the_viewer_may_read() {
        let (workspace, user) = (Uuid::now_v7(), Uuid::now_v7());
        let kind = Kind::Member { viewer: user };
        let range = TimeRange {
            from: None,
            to: Some(chrono::DateTime::UNIX_EPOCH),
        };
        let (query, keys) = sum_statement(kind, range, &[(workspace, Some(user))]);
        let sql = query.to_string(PostgresQueryBuilder);
        assert_eq!(keys, 2);
        for part in [
            r#"SELECT "projects"."workspace_id", "time_logs"."user_id", SUM("time_logs"."hours") AS "hours" FROM "time_logs""#,
            r#"INNER JOIN "tasks" ON "tasks"."id" = "time_logs"."task_id""#,
            r#"INNER JOIN "projects" ON "projects"."id" = "tasks"."project_id""#,
            r#""time_logs"."logged_at" < '1970-01-01"#,
            r#"AND (EXISTS(SELECT 1 FROM "project_users""#,
            r#"GROUP BY "projects"."workspace_id", "time_logs"."user_id""#,
        ] {
            assert!(sql.contains(part), "{part} in {sql}");
        }
    }

    #[test]
    fn scopes_of_one_kind_and_viewer_share_a_group() {
        let viewer = Uuid::now_v7();
        let a = HoursScope::Workspace {
            workspace: Uuid::now_v7(),
            viewer,
        };
        let b = HoursScope::Workspace {
            workspace: Uuid::now_v7(),
            viewer,
        };
        assert_eq!(a.split().0, b.split().0);
        let other_viewer = HoursScope::Workspace {
            workspace: Uuid::now_v7(),
            viewer: Uuid::now_v7(),
        };
        assert_ne!(a.split().0, other_viewer.split().0);
        assert_ne!(HoursScope::Task(viewer).split().0, a.split().0);
    }
}
