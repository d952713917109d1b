//! Memberships: the keys behind `Workspace.members`, `Project.members` and their
//! `totalCount`, in the order people joined (membership ids are time-ordered).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{project_user, workspace_user};
use sea_orm::DbErr;
use sea_orm::sea_query::Condition;
use uuid::Uuid;

use super::pages::{self, Layout};
use super::{Loaders, per_group};
use crate::connection::{Page, Paged};

fn workspace_layout() -> Layout<workspace_user::Entity> {
    Layout::new(
        workspace_user::Column::WorkspaceId,
        workspace_user::Column::Id,
        None,
    )
}

fn project_layout() -> Layout<project_user::Entity> {
    Layout::new(
        project_user::Column::ProjectId,
        project_user::Column::Id,
        None,
    )
}

/// One page of a workspace's memberships.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceMembersOf {
    pub workspace: Uuid,
    pub page: Page,
}

impl Loader<WorkspaceMembersOf> for Loaders {
    type Value = Paged<workspace_user::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[WorkspaceMembersOf],
    ) -> Result<HashMap<WorkspaceMembersOf, Self::Value>, Self::Error> {
        let split = |key: &WorkspaceMembersOf| (key.page.clone(), key.workspace);
        per_group(keys, split, |page, workspaces| async move {
            let layout = workspace_layout();
            pages::page_per_parent(&self.db, &layout, &workspaces, Condition::all(), &page).await
        })
        .await
    }
}

/// How many members a workspace has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkspaceMemberCountOf(pub Uuid);

impl Loader<WorkspaceMemberCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[WorkspaceMemberCountOf],
    ) -> Result<HashMap<WorkspaceMemberCountOf, u64>, Self::Error> {
        per_group(
            keys,
            |key| ((), key.0),
            |(), workspaces| async move {
                let layout = workspace_layout();
                pages::count_per_parent(&self.db, &layout, &workspaces, Condition::all()).await
            },
        )
        .await
    }
}

/// One page of a project's memberships.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectMembersOf {
    pub project: Uuid,
    pub page: Page,
}

impl Loader<ProjectMembersOf> for Loaders {
    type Value = Paged<project_user::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ProjectMembersOf],
    ) -> Result<HashMap<ProjectMembersOf, Self::Value>, Self::Error> {
        let split = |key: &ProjectMembersOf| (key.page.clone(), key.project);
        per_group(keys, split, |page, projects| async move {
            let layout = project_layout();
            pages::page_per_parent(&self.db, &layout, &projects, Condition::all(), &page).await
        })
        .await
    }
}

/// How many members a project has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProjectMemberCountOf(pub Uuid);

impl Loader<ProjectMemberCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ProjectMemberCountOf],
    ) -> Result<HashMap<ProjectMemberCountOf, u64>, Self::Error> {
        per_group(
            keys,
            |key| ((), key.0),
            |(), projects| async move {
                let layout = project_layout();
                pages::count_per_parent(&self.db, &layout, &projects, Condition::all()).await
            },
        )
        .await
    }
}
