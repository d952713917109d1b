//! The viewer's standing, batched: objects with the viewer's access to their project, the
//! viewer's role in a workspace or a project, and whether two users share a workspace.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::role::Role;
use entity::{project, project_user, task, workspace_user};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::Result;

use super::{Loaders, access};

/// Loads the rows `query_of` selects for each viewer's ids, with that viewer's standing in
/// each row's project ([`access::rows_with_access`]): one statement per viewer (a
/// request has one), keyed back by `key`.
async fn with_access<E, K>(
    db: &DatabaseConnection,
    keys: impl Iterator<Item = (Uuid, Uuid)>,
    query_of: impl Fn(Vec<Uuid>) -> sea_orm::Select<E>,
    columns: (sea_orm::sea_query::ColumnRef, sea_orm::sea_query::ColumnRef),
    key: impl Fn(Uuid, &E::Model) -> K,
) -> Result<HashMap<K, (E::Model, access::ProjectAccess)>, Arc<DbErr>>
where
    E: EntityTrait,
    K: Eq + Hash,
{
    let mut per_viewer: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (viewer, id) in keys {
        per_viewer.entry(viewer).or_default().push(id);
    }
    let mut loaded = HashMap::new();
    for (viewer, ids) in per_viewer {
        let (workspace, project) = columns.clone();
        let rows = access::rows_with_access(db, query_of(ids), viewer, workspace, project).await?;
        for row in rows {
            loaded.insert(key(viewer, &row.0), row);
        }
    }
    Ok(loaded)
}

/// A project by id with the viewer's standing in it, in one statement per viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProjectWithAccess {
    pub viewer: Uuid,
    pub id: Uuid,
}

impl Loader<ProjectWithAccess> for Loaders {
    type Value = (project::Model, access::ProjectAccess);
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ProjectWithAccess],
    ) -> Result<HashMap<ProjectWithAccess, Self::Value>, Self::Error> {
        use sea_orm::sea_query::IntoColumnRef;
        with_access(
            &self.db,
            keys.iter().map(|key| (key.viewer, key.id)),
            |ids| project::Entity::find().filter(project::Column::Id.is_in(ids)),
            (
                (project::Entity, project::Column::WorkspaceId).into_column_ref(),
                (project::Entity, project::Column::Id).into_column_ref(),
            ),
            |viewer, row| ProjectWithAccess { viewer, id: row.id },
        )
        .await
    }
}

/// A task by id with the viewer's standing in its project, in one statement per viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskWithAccess {
    pub viewer: Uuid,
    pub id: Uuid,
}

impl Loader<TaskWithAccess> for Loaders {
    type Value = (task::Model, access::ProjectAccess);
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TaskWithAccess],
    ) -> Result<HashMap<TaskWithAccess, Self::Value>, Self::Error> {
        use sea_orm::sea_query::IntoColumnRef;
        use sea_orm::{JoinType, QuerySelect, RelationTrait};
        with_access(
            &self.db,
            keys.iter().map(|key| (key.viewer, key.id)),
            |ids| {
                task::Entity::find()
                    .join(JoinType::InnerJoin, task::Relation::Project.def())
                    .filter(task::Column::Id.is_in(ids))
            },
            (
                (project::Entity, project::Column::WorkspaceId).into_column_ref(),
                (task::Entity, task::Column::ProjectId).into_column_ref(),
            ),
            |viewer, row| TaskWithAccess { viewer, id: row.id },
        )
        .await
    }
}

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
