//! A task's time logs: the keys behind `Task.timeLogs` and its `totalCount`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use entity::time_log;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, DbErr};
use uuid::Uuid;

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

/// Which of a task's time logs a list shows.
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

/// One page of a task's time logs, by `logged_at` then id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeLogsOf {
    pub task: Uuid,
    pub page: Page,
    pub filter: TimeLogFilter,
    pub descending: bool,
}

fn layout(descending: bool) -> Layout<time_log::Entity> {
    Layout::new(
        time_log::Column::TaskId,
        time_log::Column::Id,
        Some((time_log::Column::LoggedAt, descending)),
    )
}

impl Loader<TimeLogsOf> for Loaders {
    type Value = Paged<time_log::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TimeLogsOf],
    ) -> Result<HashMap<TimeLogsOf, Self::Value>, Self::Error> {
        let split = |key: &TimeLogsOf| ((key.page.clone(), key.filter, key.descending), key.task);
        per_group(
            keys,
            split,
            |(page, filter, descending), tasks| async move {
                let layout = layout(descending);
                pages::page_per_parent(&self.db, &layout, &tasks, filter.condition(), &page).await
            },
        )
        .await
    }
}

/// How many of a task's time logs match a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeLogCountOf {
    pub task: Uuid,
    pub filter: TimeLogFilter,
}

impl Loader<TimeLogCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TimeLogCountOf],
    ) -> Result<HashMap<TimeLogCountOf, u64>, Self::Error> {
        let split = |key: &TimeLogCountOf| (key.filter, key.task);
        per_group(keys, split, |filter, tasks| async move {
            let layout = layout(false);
            pages::count_per_parent(&self.db, &layout, &tasks, filter.condition()).await
        })
        .await
    }
}
