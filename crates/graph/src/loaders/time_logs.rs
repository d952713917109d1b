//! Time logs under a task or a user: the keys behind `Task.timeLogs`, `User.timeLogs` and
//! their `totalCount`.
//!
//! A task's logs are all readable once its project is (the caller checks); a user's logs
//! span projects, so their statement keeps only the projects the viewer may read
//! ([`access::readable_projects`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use entity::{project, task, time_log};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, DbErr};
use uuid::Uuid;

use super::access;
use super::pages::{self, Layout};
use super::{Loaders, per_group};
use crate::connection::{Page, Paged};

/// A span of time: `from` included, `to` excluded, either end open when absent. Half-open,
/// so adjacent spans (one week, the next) never count a log twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// `logged_at` within the span.
    pub fn condition(self) -> Condition {
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(time_log::Column::LoggedAt.gte(from));
        }
        if let Some(to) = self.to {
            condition = condition.add(time_log::Column::LoggedAt.lt(to));
        }
        condition
    }
}

/// Which time logs of a task or user a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TimeLogFilter {
    pub logged: TimeRange,
    /// Only this user's logs.
    pub user: Option<Uuid>,
}

impl TimeLogFilter {
    fn condition(self) -> Condition {
        let mut condition = self.logged.condition();
        if let Some(user) = self.user {
            condition = condition.add(time_log::Column::UserId.eq(user));
        }
        condition
    }
}

/// What a time-log list belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeLogParent {
    /// A task's logs; the caller has checked that the viewer may read its project.
    Task(Uuid),
    /// `user`'s logs on the projects `viewer` may read: for the user themself too, since
    /// a log leads on to its task and project, and a project they left is no longer theirs
    /// to read.
    User { user: Uuid, viewer: Uuid },
}

/// Parents of one kind (and one viewer) share a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ParentKind {
    Task,
    User { viewer: Uuid },
}

impl TimeLogParent {
    fn split(self) -> (ParentKind, Uuid) {
        match self {
            Self::Task(id) => (ParentKind::Task, id),
            Self::User { user, viewer } => (ParentKind::User { viewer }, user),
        }
    }
}

impl ParentKind {
    /// Logs by `logged_at` then id, under their task or user.
    fn layout(self, descending: bool) -> Layout<time_log::Entity> {
        let parent = match self {
            Self::Task => time_log::Column::TaskId,
            Self::User { .. } => time_log::Column::UserId,
        };
        Layout::new(
            parent,
            time_log::Column::Id,
            Some((time_log::Column::LoggedAt, descending)),
        )
    }

    /// `filter`, and for a user's logs: `task_id IN (SELECT tasks.id FROM tasks JOIN
    /// projects … WHERE <readable by viewer>)`.
    fn condition(self, filter: TimeLogFilter) -> Condition {
        let condition = filter.condition();
        match self {
            Self::Task => condition,
            Self::User { viewer } => {
                let readable_tasks = Query::select()
                    .column((task::Entity, task::Column::Id))
                    .from(task::Entity)
                    .inner_join(
                        project::Entity,
                        Expr::col((project::Entity, project::Column::Id))
                            .equals((task::Entity, task::Column::ProjectId)),
                    )
                    .cond_where(access::readable_projects(viewer))
                    .to_owned();
                condition.add(
                    Expr::col((time_log::Entity, time_log::Column::TaskId))
                        .in_subquery(readable_tasks),
                )
            }
        }
    }
}

/// `Task.timeLogs` with `filter`, newest first when `descending`: the layout and the
/// condition the planned read path ([`crate::plan`]) pages with, the same as this loader's.
pub(crate) fn of_tasks(
    filter: TimeLogFilter,
    descending: bool,
) -> (Layout<time_log::Entity>, Condition) {
    (
        ParentKind::Task.layout(descending),
        ParentKind::Task.condition(filter),
    )
}

/// One page of the time logs under `parent`, by `logged_at` then id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeLogsOf {
    pub parent: TimeLogParent,
    pub page: Page,
    pub filter: TimeLogFilter,
    pub descending: bool,
}

impl Loader<TimeLogsOf> for Loaders {
    type Value = Paged<time_log::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TimeLogsOf],
    ) -> Result<HashMap<TimeLogsOf, Self::Value>, Self::Error> {
        let split = |key: &TimeLogsOf| {
            let (kind, parent) = key.parent.split();
            ((kind, key.page.clone(), key.filter, key.descending), parent)
        };
        per_group(
            keys,
            split,
            |(kind, page, filter, descending), parents| async move {
                let layout = kind.layout(descending);
                let condition = kind.condition(filter);
                pages::page_per_parent(&self.db, &layout, &parents, condition, &page).await
            },
        )
        .await
    }
}

/// How many of the time logs under `parent` match a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeLogCountOf {
    pub parent: TimeLogParent,
    pub filter: TimeLogFilter,
}

impl Loader<TimeLogCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TimeLogCountOf],
    ) -> Result<HashMap<TimeLogCountOf, u64>, Self::Error> {
        let split = |key: &TimeLogCountOf| {
            let (kind, parent) = key.parent.split();
            ((kind, key.filter), parent)
        };
        per_group(keys, split, |(kind, filter), parents| async move {
            let layout = kind.layout(false);
            let condition = kind.condition(filter);
            pages::count_per_parent(&self.db, &layout, &parents, condition).await
        })
        .await
    }
}
