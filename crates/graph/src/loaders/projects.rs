//! The projects of a workspace or of a client, as one viewer may see them: the keys behind
//! `Workspace.projects`, `Client.projects` and their `totalCount`.
//!
//! Visibility is part of each statement ([`access::readable_projects`]), so a project the
//! viewer may not read is neither loaded nor counted.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use entity::project;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, DbErr};
use uuid::Uuid;

use super::access;
use super::pages::{self, Layout};
use super::{Loaders, per_group};
use crate::connection::{Page, Paged};

/// What a project list belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectParent {
    Workspace(Uuid),
    Client(Uuid),
}

/// Parents of one kind share a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ParentKind {
    Workspace,
    Client,
}

impl ProjectParent {
    fn split(self) -> (ParentKind, Uuid) {
        match self {
            Self::Workspace(id) => (ParentKind::Workspace, id),
            Self::Client(id) => (ParentKind::Client, id),
        }
    }
}

/// Projects by creation (their ids are time-ordered), under a parent of `kind`.
fn layout(kind: ParentKind) -> Layout<project::Entity> {
    let parent = match kind {
        ParentKind::Workspace => project::Column::WorkspaceId,
        ParentKind::Client => project::Column::ClientId,
    };
    Layout::new(parent, project::Column::Id, None)
}

/// `Workspace.projects` with `filter`, as `viewer` may read it: the layout and the
/// condition the planned read path ([`crate::plan`]) pages with, the same as this loader's.
pub(crate) fn of_workspaces(
    viewer: Uuid,
    filter: ProjectFilter,
) -> (Layout<project::Entity>, Condition) {
    (layout(ParentKind::Workspace), filter.condition(viewer))
}

/// `Client.projects` with `filter`, as `viewer` may read it, for the planned read path.
pub(crate) fn of_clients(
    viewer: Uuid,
    filter: ProjectFilter,
) -> (Layout<project::Entity>, Condition) {
    (layout(ParentKind::Client), filter.condition(viewer))
}

/// Which projects a list shows; all conditions must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProjectFilter {
    pub client: Option<Uuid>,
    /// Projects due strictly before this instant (so never those without a deadline).
    pub deadline_before: Option<DateTime<Utc>>,
}

impl ProjectFilter {
    fn condition(self, viewer: Uuid) -> Condition {
        let mut condition = Condition::all().add(access::readable_projects(viewer));
        if let Some(client) = self.client {
            condition = condition.add(project::Column::ClientId.eq(client));
        }
        if let Some(before) = self.deadline_before {
            condition = condition.add(project::Column::Deadline.lt(before));
        }
        condition
    }
}

/// One page of the projects under `parent` that `viewer` may read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectsOf {
    pub parent: ProjectParent,
    pub viewer: Uuid,
    pub page: Page,
    pub filter: ProjectFilter,
}

impl Loader<ProjectsOf> for Loaders {
    type Value = Paged<project::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ProjectsOf],
    ) -> Result<HashMap<ProjectsOf, Self::Value>, Self::Error> {
        let split = |key: &ProjectsOf| {
            let (kind, parent) = key.parent.split();
            ((kind, key.viewer, key.page.clone(), key.filter), parent)
        };
        per_group(
            keys,
            split,
            |(kind, viewer, page, filter), parents| async move {
                let filter = filter.condition(viewer);
                pages::page_per_parent(&self.db, &layout(kind), &parents, filter, &page).await
            },
        )
        .await
    }
}

/// How many of the projects under `parent` that `viewer` may read match a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectCountOf {
    pub parent: ProjectParent,
    pub viewer: Uuid,
    pub filter: ProjectFilter,
}

impl Loader<ProjectCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ProjectCountOf],
    ) -> Result<HashMap<ProjectCountOf, u64>, Self::Error> {
        let split = |key: &ProjectCountOf| {
            let (kind, parent) = key.parent.split();
            ((kind, key.viewer, key.filter), parent)
        };
        per_group(keys, split, |(kind, viewer, filter), parents| async move {
            let filter = filter.condition(viewer);
            pages::count_per_parent(&self.db, &layout(kind), &parents, filter).await
        })
        .await
    }
}
