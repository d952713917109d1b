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
mod standing;
pub mod tasks;
pub mod time_logs;
pub mod workspaces;

pub use self::standing::{
    ProjectRoleOf, ProjectWithAccess, SharesWorkspace, TaskWithAccess, WorkspaceRoleOf,
};

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
