//! A user's workspaces and a workspace's clients: the keys behind `Query.workspaces`,
//! `Workspace.clients` and their `totalCount`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{client, workspace, workspace_user};
use sea_orm::DbErr;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef, IntoTableRef};
use uuid::Uuid;

use super::pages::{self, Layout};
use super::{Loaders, per_group};
use crate::connection::{Page, Paged};

/// Workspaces by creation, each row under every member: `workspaces JOIN workspace_users`,
/// the user being the parent.
fn workspaces_layout() -> Layout<workspace::Entity> {
    let on = Expr::col((workspace_user::Entity, workspace_user::Column::WorkspaceId))
        .equals((workspace::Entity, workspace::Column::Id));
    Layout {
        parent: (workspace_user::Entity, workspace_user::Column::UserId).into_column_ref(),
        join: Some((
            workspace_user::Entity.into_table_ref(),
            Condition::all().add(on),
        )),
        id: workspace::Column::Id,
        sort: None,
    }
}

/// One page of the workspaces `user` is a member of.
/// `Query.workspaces`: the layout and condition the planned read path ([`crate::plan`])
/// pages with, the same as this loader's.
pub(crate) fn of_users() -> (Layout<workspace::Entity>, Condition) {
    (workspaces_layout(), Condition::all())
}

/// `Workspace.clients`, as [`of_users`] for `Query.workspaces`.
pub(crate) fn clients_of_workspaces() -> (Layout<client::Entity>, Condition) {
    (clients_layout(), Condition::all())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspacesOf {
    pub user: Uuid,
    pub page: Page,
}

impl Loader<WorkspacesOf> for Loaders {
    type Value = Paged<workspace::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[WorkspacesOf],
    ) -> Result<HashMap<WorkspacesOf, Self::Value>, Self::Error> {
        let split = |key: &WorkspacesOf| (key.page.clone(), key.user);
        per_group(keys, split, |page, users| async move {
            let layout = workspaces_layout();
            pages::page_per_parent(&self.db, &layout, &users, Condition::all(), &page).await
        })
        .await
    }
}

/// How many workspaces a user is a member of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkspaceCountOf(pub Uuid);

impl Loader<WorkspaceCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[WorkspaceCountOf],
    ) -> Result<HashMap<WorkspaceCountOf, u64>, Self::Error> {
        per_group(
            keys,
            |key| ((), key.0),
            |(), users| async move {
                let layout = workspaces_layout();
                pages::count_per_parent(&self.db, &layout, &users, Condition::all()).await
            },
        )
        .await
    }
}

/// A workspace's clients by name, then id.
fn clients_layout() -> Layout<client::Entity> {
    Layout::new(
        client::Column::WorkspaceId,
        client::Column::Id,
        Some((client::Column::Name, false)),
    )
}

/// One page of a workspace's clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientsOf {
    pub workspace: Uuid,
    pub page: Page,
}

impl Loader<ClientsOf> for Loaders {
    type Value = Paged<client::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ClientsOf],
    ) -> Result<HashMap<ClientsOf, Self::Value>, Self::Error> {
        let split = |key: &ClientsOf| (key.page.clone(), key.workspace);
        per_group(keys, split, |page, workspaces| async move {
            let layout = clients_layout();
            pages::page_per_parent(&self.db, &layout, &workspaces, Condition::all(), &page).await
        })
        .await
    }
}

/// How many clients a workspace has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientCountOf(pub Uuid);

impl Loader<ClientCountOf> for Loaders {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ClientCountOf],
    ) -> Result<HashMap<ClientCountOf, u64>, Self::Error> {
        per_group(
            keys,
            |key| ((), key.0),
            |(), workspaces| async move {
                let layout = clients_layout();
                pages::count_per_parent(&self.db, &layout, &workspaces, Condition::all()).await
            },
        )
        .await
    }
}
