//! DataLoaders: every lookup a nested field or the policy needs, batched.
//!
//! Each key type says what it loads (`ProjectById`, `WorkspaceRoleOf`), so unrelated
//! questions never share a key. One [`Loaders`] serves all requests without a cache: it
//! batches the lookups of concurrent resolvers into one statement per key type, and a
//! mutation never reads a value cached before it wrote.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::role::Role;
use entity::{client, project, project_user, task, time_log, user, workspace, workspace_user};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{Error, Result};

pub mod lists;
pub mod pages;

/// A connection's `totalCount`, loaded only when a client asks for it.
#[derive(Debug, Clone)]
pub enum Count {
    Tasks(lists::TaskCountOf),
}

impl Count {
    /// The count, through the batching loader.
    pub async fn load(&self, ctx: &async_graphql::Context<'_>) -> Result<u64> {
        use crate::context::ContextExt;
        let loader = ctx.service::<DataLoader<Loaders>>()?;
        let count = match self {
            Self::Tasks(key) => loader.load_one(key.clone()).await?,
        };
        Ok(count.unwrap_or(0))
    }
}

/// The batch loader behind every DataLoader key type below.
pub struct Loaders {
    db: DatabaseConnection,
}

impl Loaders {
    /// A shared, cache-less DataLoader over `db`.
    pub fn data_loader(db: DatabaseConnection) -> DataLoader<Self> {
        DataLoader::new(Self { db }, tokio::spawn)
    }
}

impl From<Arc<DbErr>> for Error {
    fn from(err: Arc<DbErr>) -> Self {
        Self::Internal(err)
    }
}

/// Loads one row by primary key through the batching loader.
pub async fn by_id<K, V>(loader: &DataLoader<Loaders>, key: K) -> Result<Option<V>>
where
    Loaders: Loader<K, Value = V, Error = Arc<DbErr>>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    Ok(loader.load_one(key).await?)
}

macro_rules! by_id_loader {
    ($key:ident, $module:ident) => {
        #[doc = concat!("A `", stringify!($module), "` row by id.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Loaders {
            type Value = $module::Model;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids = keys.iter().map(|key| key.0);
                let rows = $module::Entity::find()
                    .filter($module::Column::Id.is_in(ids))
                    .all(&self.db)
                    .await?;
                Ok(rows.into_iter().map(|row| ($key(row.id), row)).collect())
            }
        }
    };
}

by_id_loader!(UserById, user);
by_id_loader!(WorkspaceById, workspace);
by_id_loader!(ClientById, client);
by_id_loader!(ProjectById, project);
by_id_loader!(TaskById, task);
by_id_loader!(TimeLogById, time_log);

/// The role `user` holds in `workspace`; absent when not a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkspaceRoleOf {
    pub user: Uuid,
    pub workspace: Uuid,
}

impl Loader<WorkspaceRoleOf> for Loaders {
    type Value = Role;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[WorkspaceRoleOf],
    ) -> Result<HashMap<WorkspaceRoleOf, Role>, Self::Error> {
        // Usually one viewer and a handful of workspaces: filter by both sets, then keep the
        // pairs that were asked for.
        let users: HashSet<Uuid> = keys.iter().map(|key| key.user).collect();
        let workspaces: HashSet<Uuid> = keys.iter().map(|key| key.workspace).collect();
        let wanted: HashSet<&WorkspaceRoleOf> = keys.iter().collect();
        let rows = workspace_user::Entity::find()
            .filter(workspace_user::Column::UserId.is_in(users))
            .filter(workspace_user::Column::WorkspaceId.is_in(workspaces))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let key = WorkspaceRoleOf {
                    user: row.user_id,
                    workspace: row.workspace_id,
                };
                (key, row.role)
            })
            .filter(|(key, _)| wanted.contains(key))
            .collect())
    }
}

/// The role `user` holds in `project`; absent when not a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProjectRoleOf {
    pub user: Uuid,
    pub project: Uuid,
}

impl Loader<ProjectRoleOf> for Loaders {
    type Value = Role;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ProjectRoleOf],
    ) -> Result<HashMap<ProjectRoleOf, Role>, Self::Error> {
        let users: HashSet<Uuid> = keys.iter().map(|key| key.user).collect();
        let projects: HashSet<Uuid> = keys.iter().map(|key| key.project).collect();
        let wanted: HashSet<&ProjectRoleOf> = keys.iter().collect();
        let rows = project_user::Entity::find()
            .filter(project_user::Column::UserId.is_in(users))
            .filter(project_user::Column::ProjectId.is_in(projects))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let key = ProjectRoleOf {
                    user: row.user_id,
                    project: row.project_id,
                };
                (key, row.role)
            })
            .filter(|(key, _)| wanted.contains(key))
            .collect())
    }
}

/// Whether `viewer` and `other` are members of at least one common workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharesWorkspace {
    pub viewer: Uuid,
    pub other: Uuid,
}

impl Loader<SharesWorkspace> for Loaders {
    type Value = bool;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[SharesWorkspace],
    ) -> Result<HashMap<SharesWorkspace, bool>, Self::Error> {
        let viewers: HashSet<Uuid> = keys.iter().map(|key| key.viewer).collect();
        let mine = workspace_user::Entity::find()
            .filter(workspace_user::Column::UserId.is_in(viewers))
            .all(&self.db)
            .await?;
        let workspaces: HashSet<Uuid> = mine.iter().map(|row| row.workspace_id).collect();
        let others: HashSet<Uuid> = keys.iter().map(|key| key.other).collect();
        let theirs = workspace_user::Entity::find()
            .filter(workspace_user::Column::UserId.is_in(others))
            .filter(workspace_user::Column::WorkspaceId.is_in(workspaces))
            .all(&self.db)
            .await?;
        let mut workspaces_of: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
        for row in mine.iter().chain(theirs.iter()) {
            workspaces_of
                .entry(row.user_id)
                .or_default()
                .insert(row.workspace_id);
        }
        let empty = HashSet::new();
        Ok(keys
            .iter()
            .map(|key| {
                let a = workspaces_of.get(&key.viewer).unwrap_or(&empty);
                let b = workspaces_of.get(&key.other).unwrap_or(&empty);
                (*key, !a.is_disjoint(b))
            })
            .collect())
    }
}
