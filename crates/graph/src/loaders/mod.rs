//! DataLoaders: every lookup a nested field or the policy needs, batched.
//!
//! Each key type says what it loads (`ProjectById`, `WorkspaceRoleOf`), so unrelated
//! questions never share a key. One [`Loaders`] serves all requests without a cache: it
//! batches the lookups of concurrent resolvers into one statement per key type, and a
//! mutation never reads a value cached before it wrote.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::futures_util::future::BoxFuture;
use entity::role::Role;
use entity::{
    chat_message, client, project, project_user, task, time_log, user, workspace, workspace_user,
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::connection::{LaterCount, Page, Paged, Scope, Selection};
use crate::context::ContextExt;
use crate::error::{Error, Result};

pub mod access;
pub mod hours;
pub mod members;
pub mod pages;
pub mod projects;
pub mod report;
pub mod tasks;
pub mod time_logs;
pub mod workspaces;

/// A connection's `totalCount` not known with its page: every count key (`TaskCountOf`,
/// …) counts through the batching loader, when a client asks for it.
impl<K> LaterCount for K
where
    Loaders: Loader<K, Value = u64, Error = Arc<DbErr>>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    fn load<'a>(&'a self, ctx: &'a Context<'_>) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let loader = ctx.service::<DataLoader<Loaders>>()?;
            Ok(loader.load_one(self.clone()).await?.unwrap_or(0))
        })
    }
}

/// One page of the connection field `ctx` resolves: the page `first`/`after` ask for
/// within `scope` (counted in the same statement when `totalCount` is selected too), loaded
/// through the batching loader by the key `key_of` makes of it; no rows are read when only
/// `totalCount` is selected. Answers the rows and the page, for `XConnection::build`.
pub async fn connection_page<K, M>(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<&str>,
    scope: Scope<'_>,
    key_of: impl FnOnce(Page) -> K,
) -> Result<(Paged<M>, Page)>
where
    Loaders: Loader<K, Value = Paged<M>, Error = Arc<DbErr>>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
    M: Send + Sync + Clone + 'static,
{
    let selection = Selection::of(ctx);
    let page = Page::forward(first, after, scope)?.counting(selection.total);
    let paged = self::page(ctx, selection.rows, key_of(page.clone())).await?;
    Ok((paged, page))
}

/// A connection's rows through the batching loader, or none when `wanted` is false (the
/// client asked for `totalCount` alone).
pub async fn page<K, M>(ctx: &Context<'_>, wanted: bool, key: K) -> Result<Paged<M>>
where
    Loaders: Loader<K, Value = Paged<M>, Error = Arc<DbErr>>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
    M: Send + Sync + Clone + 'static,
{
    if !wanted {
        return Ok(Paged::default());
    }
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    Ok(loader.load_one(key).await?.unwrap_or_default())
}

/// Answers a batch of `keys` group by group. A batch may mix keys that ask different
/// questions of different parents (the same field with other arguments elsewhere in the
/// query); `split` takes a key apart into its question (page, filter, order, viewer) and
/// its parent, and `load` answers one question for all its parents in one statement. A
/// parent `load` leaves out gets the default value (an empty page, zero).
pub(crate) async fn per_group<K, G, P, V, F, Fut>(
    keys: &[K],
    split: impl Fn(&K) -> (G, P),
    load: F,
) -> Result<HashMap<K, V>, Arc<DbErr>>
where
    K: Clone + Eq + Hash,
    G: Eq + Hash,
    P: Clone + Eq + Hash,
    V: Default,
    F: Fn(G, Vec<P>) -> Fut,
    Fut: Future<Output = Result<HashMap<P, V>, DbErr>>,
{
    let mut groups: HashMap<G, Vec<(&K, P)>> = HashMap::new();
    for key in keys {
        let (group, parent) = split(key);
        groups.entry(group).or_default().push((key, parent));
    }
    let mut loaded = HashMap::with_capacity(keys.len());
    for (group, members) in groups {
        let parents = members.iter().map(|(_, parent)| parent.clone()).collect();
        let mut values = load(group, parents).await.map_err(Arc::new)?;
        for (key, parent) in members {
            loaded.insert(key.clone(), values.remove(&parent).unwrap_or_default());
        }
    }
    Ok(loaded)
}

/// How long a batch waits for more keys after its first. async-graphql's default, 1 ms, is
/// paid once per loader level of a request: most of a by-id query's latency. Sibling
/// fields queue their keys within microseconds of each other, so 100 µs still gathers a
/// level into one batch (the benchmark's and the tests' statement counts are unchanged),
/// and a by-id read on the resolvers no longer waits a millisecond per level.
const BATCH_DELAY: std::time::Duration = std::time::Duration::from_micros(100);

/// A hand-written statement whose `$n` placeholders are written as the backend wants them
/// (SQLite: `?n`), for the few queries sea-query can't express readably.
pub(crate) fn raw_statement(
    backend: sea_orm::DbBackend,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    let sql = match backend {
        sea_orm::DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// The batch loader behind every DataLoader key type below.
pub struct Loaders {
    db: DatabaseConnection,
}

impl Loaders {
    /// A shared, cache-less DataLoader over `db`.
    pub fn data_loader(db: DatabaseConnection) -> DataLoader<Self> {
        DataLoader::new(Self { db }, tokio::spawn).delay(BATCH_DELAY)
    }

    /// The loaders over `db` without the DataLoader around them, for a caller that batches
    /// its keys itself (the planned read path, [`crate::plan`]) and runs the same
    /// statements.
    pub(crate) fn direct(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// Loads the row `key` names along a foreign key (a back reference such as
/// `Project.client`): it exists unless deleted mid-request, which reads as `NOT_FOUND`.
pub async fn required<K, V>(ctx: &async_graphql::Context<'_>, key: K) -> Result<V>
where
    Loaders: Loader<K, Value = V, Error = Arc<DbErr>>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    use crate::context::ContextExt;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    by_id(loader, key).await?.ok_or(Error::NotFound)
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

/// Loads `ids` through one loader in one batch, the result keyed by id: for a resolver
/// that knows all its keys up front, so that the batch does not depend on timing.
pub async fn by_ids<K, V>(
    loader: &DataLoader<Loaders>,
    ids: &HashSet<Uuid>,
    key: impl Fn(Uuid) -> K,
) -> Result<HashMap<Uuid, V>, Arc<DbErr>>
where
    Loaders: Loader<K, Value = V, Error = Arc<DbErr>>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    let keys: Vec<(Uuid, K)> = ids.iter().map(|id| (*id, key(*id))).collect();
    let mut loaded = loader
        .load_many(keys.iter().map(|(_, key)| key.clone()))
        .await?;
    Ok(keys
        .into_iter()
        .filter_map(|(id, key)| loaded.remove(&key).map(|value| (id, value)))
        .collect())
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
by_id_loader!(WorkspaceMemberById, workspace_user);
by_id_loader!(ProjectMemberById, project_user);
by_id_loader!(MessageById, chat_message);

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

/// The account with this (lower-case) address: chat counterparts are addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserByEmail(pub String);

impl Loader<UserByEmail> for Loaders {
    type Value = user::Model;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[UserByEmail],
    ) -> Result<HashMap<UserByEmail, user::Model>, Self::Error> {
        let emails = keys.iter().map(|key| key.0.clone());
        let rows = user::Entity::find()
            .filter(user::Column::Email.is_in(emails))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (UserByEmail(row.email.clone()), row))
            .collect())
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
