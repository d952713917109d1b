//! Keys for the per-parent lists behind connections, and their batched loads.
//!
//! A batch may mix keys that ask for different pages, filters or orders (the same field
//! with different arguments in one query); keys are grouped by those and each group is one
//! statement for all its parents.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::task::{self, TaskStatus};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, DbErr};
use uuid::Uuid;

use super::Loaders;
use super::pages::{self, Layout};
use crate::connection::{Page, Paged};

/// Which tasks of a project a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

impl TaskFilter {
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(status) = self.status {
            condition = condition.add(task::Column::Status.eq(status));
        }
        if let Some(needle) = &self.name_contains {
            let pattern = format!("%{}%", escape_like(&needle.to_lowercase()));
            condition = condition.add(
                Expr::expr(Func::lower(Expr::col(task::Column::Name)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
            );
        }
        condition
    }
}

/// `%`, `_` and the escape character itself match literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The columns a task list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskOrderField {
    CreatedAt,
    Name,
    Status,
}

/// A task list's order; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskOrder {
    pub field: TaskOrderField,
    pub descending: bool,
}

impl Default for TaskOrder {
    fn default() -> Self {
        Self {
            field: TaskOrderField::CreatedAt,
            descending: false,
        }
    }
}

impl TaskOrder {
    fn column(self) -> task::Column {
        match self.field {
            TaskOrderField::CreatedAt => task::Column::CreatedAt,
            TaskOrderField::Name => task::Column::Name,
            TaskOrderField::Status => task::Column::Status,
        }
    }
}

/// One page of a project's tasks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TasksOf {
    pub project: Uuid,
    pub page: Page,
    pub filter: TaskFilter,
    pub order: TaskOrder,
}

impl Loader<TasksOf> for Loaders {
    type Value = Paged<task::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[TasksOf]) -> Result<HashMap<TasksOf, Self::Value>, Self::Error> {
        let mut groups: HashMap<(&Page, &TaskFilter, TaskOrder), Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((&key.page, &key.filter, key.order))
                .or_default()
                .push(key.project);
        }
        let mut loaded = HashMap::new();
        for ((page, filter, order), projects) in groups {
            let layout = Layout {
                parent: task::Column::ProjectId,
                id: task::Column::Id,
                sort: Some((order.column(), order.descending)),
            };
            let mut pages = pages::page_per_parent::<task::Entity>(
                &self.db,
                layout,
                projects.iter().copied(),
                filter.condition(),
                page,
                |row| row.project_id,
            )
            .await?;
            for project in projects {
                let key = TasksOf {
                    project,
                    page: page.clone(),
                    filter: filter.clone(),
                    order,
                };
                loaded.insert(key, pages.remove(&project).unwrap_or_default());
            }
        }
        Ok(loaded)
    }
}

/// How many of a project's tasks match a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskCountOf {
    pub project: Uuid,
    pub filter: TaskFilter,
}

impl Loader<TaskCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[TaskCountOf]) -> Result<HashMap<TaskCountOf, u64>, Self::Error> {
        let mut groups: HashMap<&TaskFilter, Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups.entry(&key.filter).or_default().push(key.project);
        }
        let mut loaded = HashMap::new();
        for (filter, projects) in groups {
            let counts = pages::count_per_parent::<task::Entity>(
                &self.db,
                task::Column::ProjectId,
                projects.iter().copied(),
                filter.condition(),
            )
            .await?;
            for project in projects {
                let key = TaskCountOf {
                    project,
                    filter: filter.clone(),
                };
                loaded.insert(key, counts.get(&project).copied().unwrap_or(0));
            }
        }
        Ok(loaded)
    }
}
