//! A project's tasks: the keys behind `Project.tasks` and its `totalCount`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::task::{self, TaskStatus};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, DbErr};
use uuid::Uuid;

use super::pages::{self, Layout};
use super::{Loaders, per_group};
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

fn layout(order: TaskOrder) -> Layout<task::Entity> {
    Layout::new(
        task::Column::ProjectId,
        task::Column::Id,
        Some((order.column(), order.descending)),
    )
}

/// `Project.tasks` with `filter`, in `order`: the layout and the condition the planned read
/// path ([`crate::plan`]) pages with, the same as this loader's.
pub(crate) fn of_projects(
    filter: &TaskFilter,
    order: TaskOrder,
) -> (Layout<task::Entity>, Condition) {
    (layout(order), filter.condition())
}

impl Loader<TasksOf> for Loaders {
    type Value = Paged<task::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[TasksOf]) -> Result<HashMap<TasksOf, Self::Value>, Self::Error> {
        let split = |key: &TasksOf| {
            (
                (key.page.clone(), key.filter.clone(), key.order),
                key.project,
            )
        };
        per_group(keys, split, |(page, filter, order), projects| async move {
            let layout = layout(order);
            pages::page_per_parent(&self.db, &layout, &projects, filter.condition(), &page).await
        })
        .await
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
        let split = |key: &TaskCountOf| (key.filter.clone(), key.project);
        per_group(keys, split, |filter, projects| async move {
            let layout = layout(TaskOrder::default());
            pages::count_per_parent(&self.db, &layout, &projects, filter.condition()).await
        })
        .await
    }
}
