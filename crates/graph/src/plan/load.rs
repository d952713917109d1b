//! Loading a plan's levels: for each object selection, the pages of its connections
//! ([`super::lists`]), the objects it references, its sums of hours and the viewer's roles,
//! then the same for the next level, one statement per batch per level.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::futures_util::future::{BoxFuture, try_join_all};
use entity::role::Role as StoredRole;
use entity::{client, project, task, time_log, user, workspace};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IdenStatic, Iterable, QueryResult,
};
use uuid::Uuid;

use super::json::{Result, Stop};
use super::lists::{Batch, Pages, load_batch};
use super::rows::Columns;
use super::tree::{Connection, Kind, Object, Out};
use crate::connection::Paged;
use crate::loaders::hours::{self, HoursOf, HoursScope};
use crate::loaders::time_logs::TimeRange;
use crate::loaders::{Loaders, ProjectRoleOf, SharesWorkspace, WorkspaceRoleOf};
use crate::policy;

/// What was loaded for one [`Object`] selection over all its rows: its connections and
/// the objects it belongs to.
pub(super) struct LoadedObject {
    pub(super) lists: Vec<LoadedList>,
    pub(super) references: Vec<LoadedReference>,
    /// The level's sums of hours, by object id and range (for every object of the level
    /// that asked; ids are unique across types).
    pub(super) hours: Arc<HashMap<(Uuid, TimeRange), i64>>,
    /// The viewer's roles in the level's workspaces and projects that asked, by id.
    pub(super) roles: Arc<HashMap<Uuid, StoredRole>>,
    /// Whether the viewer may see the email and phone of the level's users that asked, by
    /// id.
    pub(super) shares: Arc<HashMap<Uuid, bool>>,
}

/// One connection field's pages, for every parent row (shared with the other fields of
/// the level that asked the same of the same list).
pub(super) struct LoadedList {
    pub(super) pages: Arc<HashMap<Uuid, Paged<QueryResult>>>,
    /// `totalCount` of the parents whose page did not come with it.
    pub(super) counts: Arc<HashMap<Uuid, u64>>,
    /// The items' JSON by parent, when the pages came as arrays ([`items`]): the pages
    /// then hold no rows.
    pub(super) items: Option<Arc<HashMap<Uuid, String>>>,
    /// What was loaded for each of [`Connection::nodes`], over all the pages' rows.
    pub(super) nodes: Vec<LoadedObject>,
}

/// One reference field's objects, by id (shared with the level's other references to the
/// same type).
pub(super) struct LoadedReference {
    pub(super) rows: Arc<HashMap<Uuid, QueryResult>>,
    /// Where the columns sit in `rows` (all of one statement).
    pub(super) columns: Columns,
    pub(super) object: LoadedObject,
}

/// The rows of a reference batch, by id.
pub(super) type Objects = Arc<HashMap<Uuid, QueryResult>>;

/// The references of one level to one type: one statement for all their keys.
pub(super) struct ReferenceBatch {
    pub(super) kind: Kind,
    pub(super) ids: Vec<Uuid>,
    pub(super) seen: HashSet<Uuid>,
}

/// Loads the connections and references of every object selection of one level (each
/// with its rows), then those of the next level, and so on: one statement per batch per
/// level.
pub(super) fn load_level<'a>(
    db: &'a DatabaseConnection,
    viewer: Uuid,
    level: Vec<(&'a Object, Vec<&'a QueryResult>)>,
) -> BoxFuture<'a, Result<Vec<LoadedObject>>> {
    Box::pin(async move {
        let mut batches: Vec<Batch<'a>> = Vec::new();
        let mut batch_of: Vec<Vec<usize>> = Vec::with_capacity(level.len());
        let mut references: Vec<ReferenceBatch> = Vec::new();
        let mut reference_of: Vec<Vec<usize>> = Vec::with_capacity(level.len());
        let mut contacts: Vec<SharesWorkspace> = Vec::new();
        let mut workspace_roles: Vec<WorkspaceRoleOf> = Vec::new();
        let mut project_roles: Vec<ProjectRoleOf> = Vec::new();
        let mut sums: Vec<(Uuid, HoursOf)> = Vec::new();
        let mut summed: HashSet<HoursOf> = HashSet::new();
        // Each entry's column positions and the ids of its rows (when its lists or hours
        // need them), found once for both passes below.
        let mut columns_of: Vec<Columns> = Vec::with_capacity(level.len());
        let mut parents_of: Vec<Vec<Uuid>> = Vec::with_capacity(level.len());
        for (object, rows) in &level {
            let columns = Columns::of_first(rows.iter().copied());
            if object.has_contact() {
                for row in rows {
                    let other: Uuid = columns.read(row, "id")?;
                    contacts.push(SharesWorkspace { viewer, other });
                }
            }
            if object.has_role() {
                for row in rows {
                    let id: Uuid = columns.read(row, "id")?;
                    match object.kind {
                        Kind::Workspace => workspace_roles.push(WorkspaceRoleOf {
                            user: viewer,
                            workspace: id,
                        }),
                        Kind::Project => project_roles.push(ProjectRoleOf {
                            user: viewer,
                            project: id,
                        }),
                        _ => return Err(Stop::Fallback("a role on another type")),
                    }
                }
            }
            let parents = if object.lists.is_empty() && !object.has_hours() {
                Vec::new()
            } else {
                ids(rows, &columns, "id")?
            };
            for (_, out) in &object.fields {
                if let Out::Hours(range) = out {
                    for id in &parents {
                        let key = hours_key(object.kind, *id, viewer, *range)?;
                        if summed.insert(key) {
                            sums.push((*id, key));
                        }
                    }
                }
            }
            let mut indexes = Vec::with_capacity(object.lists.len());
            for connection in &object.lists {
                let index = match batches.iter().position(|batch| batch.takes(connection)) {
                    Some(index) => index,
                    None => {
                        batches.push(Batch::of(connection));
                        batches.len() - 1
                    }
                };
                batches[index].add(connection, &parents);
                indexes.push(index);
            }
            batch_of.push(indexes);
            let mut indexes = Vec::with_capacity(object.references.len());
            for reference in &object.references {
                let kind = reference.object.kind;
                let index = match references.iter().position(|batch| batch.kind == kind) {
                    Some(index) => index,
                    None => {
                        references.push(ReferenceBatch {
                            kind,
                            ids: Vec::new(),
                            seen: HashSet::new(),
                        });
                        references.len() - 1
                    }
                };
                let batch = &mut references[index];
                for id in ids(rows, &columns, reference.key)? {
                    if batch.seen.insert(id) {
                        batch.ids.push(id);
                    }
                }
                indexes.push(index);
            }
            reference_of.push(indexes);
            columns_of.push(columns);
            parents_of.push(parents);
        }
        let (pages, objects, hours, roles, shares): (Vec<Pages>, Vec<Objects>, _, _, _) = async_graphql::futures_util::try_join!(
            try_join_all(batches.iter().map(|batch| load_batch(db, viewer, batch))),
            try_join_all(
                references
                    .iter()
                    .map(|batch| objects_by_id(db, batch.kind, &batch.ids))
            ),
            sum_hours(db, &sums),
            roles(db, &workspace_roles, &project_roles),
            shared(db, &contacts),
        )?;

        // The next level: each connection's items and each reference's objects, with
        // their rows.
        let mut next: Vec<(&Object, Vec<&QueryResult>)> = Vec::new();
        let entries = level
            .iter()
            .zip(&batch_of)
            .zip(&reference_of)
            .zip(columns_of.iter().zip(&parents_of));
        for ((((object, rows), lists), refs), (columns, parents)) in entries {
            for (connection, index) in object.lists.iter().zip(lists) {
                let pages = &pages[*index].pages;
                for node in &connection.nodes {
                    let rows = if !node.needs_rows() {
                        Vec::new()
                    } else {
                        parents
                            .iter()
                            .filter_map(|parent| pages.get(parent))
                            .flat_map(|paged| &paged.rows)
                            .collect()
                    };
                    next.push((node, rows));
                }
            }
            for (reference, index) in object.references.iter().zip(refs) {
                let found = &objects[*index];
                let node = &reference.object;
                let rows = if !node.needs_rows() {
                    Vec::new()
                } else {
                    let mut seen = HashSet::new();
                    ids(rows, columns, reference.key)?
                        .into_iter()
                        .filter(|id| seen.insert(*id))
                        .filter_map(|id| found.get(&id))
                        .collect()
                };
                next.push((node, rows));
            }
        }
        let mut below = if next.is_empty() {
            Vec::new()
        } else {
            load_level(db, viewer, next).await?
        }
        .into_iter();
        let mut lost = || Stop::Fallback("a level lost its objects");

        let mut loaded = Vec::with_capacity(level.len());
        for (((object, _), lists), refs) in level.iter().zip(&batch_of).zip(&reference_of) {
            let mut loaded_lists = Vec::with_capacity(object.lists.len());
            for (connection, index) in object.lists.iter().zip(lists) {
                let Pages {
                    pages,
                    counts,
                    items,
                } = pages[*index].clone();
                let nodes = connection
                    .nodes
                    .iter()
                    .map(|_| below.next().ok_or_else(&mut lost))
                    .collect::<Result<Vec<_>>>()?;
                loaded_lists.push(LoadedList {
                    pages,
                    counts,
                    items,
                    nodes,
                });
            }
            let mut loaded_references = Vec::with_capacity(object.references.len());
            for index in refs {
                loaded_references.push(LoadedReference {
                    rows: Arc::clone(&objects[*index]),
                    columns: Columns::of_first(objects[*index].values()),
                    object: below.next().ok_or_else(&mut lost)?,
                });
            }
            loaded.push(LoadedObject {
                lists: loaded_lists,
                references: loaded_references,
                hours: Arc::clone(&hours),
                roles: Arc::clone(&roles),
                shares: Arc::clone(&shares),
            });
        }
        Ok(loaded)
    })
}

/// The `totalHours` scope of the object of `kind` with `id`, as its resolver names it.
pub(super) fn hours_key(kind: Kind, id: Uuid, viewer: Uuid, range: TimeRange) -> Result<HoursOf> {
    let scope = match kind {
        Kind::Workspace => HoursScope::Workspace {
            workspace: id,
            viewer,
        },
        Kind::Client => HoursScope::Client { client: id, viewer },
        Kind::Project => HoursScope::Project(id),
        Kind::Task => HoursScope::Task(id),
        Kind::TimeLog | Kind::User => return Err(Stop::Fallback("hours of a log or a user")),
    };
    Ok(HoursOf { scope, range })
}

/// The sums of hours of one level, as the hours loader batches them, by object id and
/// range.
pub(super) async fn sum_hours(
    db: &DatabaseConnection,
    keys: &[(Uuid, HoursOf)],
) -> Result<Arc<HashMap<(Uuid, TimeRange), i64>>> {
    if keys.is_empty() {
        return Ok(Arc::default());
    }
    let scopes: Vec<HoursOf> = keys.iter().map(|(_, key)| *key).collect();
    let sums = hours::sum(db, &scopes)
        .await
        .map_err(|err| Stop::Database(DbErr::Custom(err.to_string())))?;
    Ok(Arc::new(
        keys.iter()
            .map(|(id, key)| ((*id, key.range), sums.get(key).copied().unwrap_or(0)))
            .collect(),
    ))
}

/// The viewer's roles in these workspaces and projects, by the role loaders' statements.
pub(super) async fn roles(
    db: &DatabaseConnection,
    workspaces: &[WorkspaceRoleOf],
    projects: &[ProjectRoleOf],
) -> Result<Arc<HashMap<Uuid, StoredRole>>> {
    let loaders = Loaders::direct(db.clone());
    let failed = |err: Arc<DbErr>| Stop::Database(DbErr::Custom(err.to_string()));
    let mut found = HashMap::new();
    if !workspaces.is_empty() {
        let roles = Loader::<WorkspaceRoleOf>::load(&loaders, workspaces)
            .await
            .map_err(failed)?;
        found.extend(roles.into_iter().map(|(key, role)| (key.workspace, role)));
    }
    if !projects.is_empty() {
        let roles = Loader::<ProjectRoleOf>::load(&loaders, projects)
            .await
            .map_err(failed)?;
        found.extend(roles.into_iter().map(|(key, role)| (key.project, role)));
    }
    Ok(Arc::new(found))
}

/// Whether the viewer may see each of these users' email and phone: the policy's rule, on
/// the answer of the loader behind `User.email`.
pub(super) async fn shared(
    db: &DatabaseConnection,
    keys: &[SharesWorkspace],
) -> Result<Arc<HashMap<Uuid, bool>>> {
    if keys.is_empty() {
        return Ok(Arc::default());
    }
    let loaders = Loaders::direct(db.clone());
    let shares = Loader::<SharesWorkspace>::load(&loaders, keys)
        .await
        .map_err(|err| Stop::Database(DbErr::Custom(err.to_string())))?;
    Ok(Arc::new(
        shares
            .into_iter()
            .map(|(key, shares)| {
                let visible = policy::user(key.other == key.viewer, shares).is_allowed();
                (key.other, visible)
            })
            .collect(),
    ))
}

/// The uuids in column `column` of `rows` (all of one statement, its columns where
/// `columns` says).
pub(super) fn ids(rows: &[&QueryResult], columns: &Columns, column: &str) -> Result<Vec<Uuid>> {
    Ok(rows
        .iter()
        .map(|row| columns.read::<Uuid>(row, column))
        .collect::<std::result::Result<Vec<_>, DbErr>>()?)
}

/// The rows of `kind` with these ids, every column: what a reference leads to. Like the
/// resolvers' `…ById` loaders, without a policy question.
pub(super) async fn objects_by_id(
    db: &DatabaseConnection,
    kind: Kind,
    ids: &[Uuid],
) -> Result<Arc<HashMap<Uuid, QueryResult>>> {
    fn select<E: EntityTrait>(ids: &[Uuid]) -> sea_orm::sea_query::SelectStatement
    where
        E::Column: sea_orm::ColumnTrait,
    {
        let mut query = Query::select();
        let id = E::Column::iter()
            .find(|column| column.as_str() == "id")
            .map(|column| (E::default(), column));
        query
            .columns(E::Column::iter().map(|column| (E::default(), column)))
            .from(E::default());
        if let Some(id) = id {
            query.and_where(Expr::col(id).is_in(ids.iter().copied()));
        }
        query
    }
    if ids.is_empty() {
        return Ok(Arc::default());
    }
    let query = match kind {
        Kind::Workspace => select::<workspace::Entity>(ids),
        Kind::Client => select::<client::Entity>(ids),
        Kind::Project => select::<project::Entity>(ids),
        Kind::Task => select::<task::Entity>(ids),
        Kind::TimeLog => select::<time_log::Entity>(ids),
        Kind::User => select::<user::Entity>(ids),
    };
    let statement = db.get_database_backend().build(&query);
    let rows = db.query_all_raw(statement).await?;
    let columns = Columns::of_first(&rows);
    let mut found = HashMap::with_capacity(ids.len());
    for row in rows {
        let id: Uuid = columns.read(&row, "id")?;
        found.insert(id, row);
    }
    Ok(Arc::new(found))
}

/// A list at the root (the viewer's workspaces): its page under the viewer, then its
/// items' lists and references level by level.
pub(super) async fn load_root_list(
    db: &DatabaseConnection,
    viewer: Uuid,
    connection: &Connection,
) -> Result<LoadedList> {
    let mut batch = Batch::of(connection);
    batch.add(connection, &[viewer]);
    let Pages {
        pages,
        counts,
        items,
    } = load_batch(db, viewer, &batch).await?;
    let rows: Vec<&QueryResult> = pages
        .get(&viewer)
        .map(|paged| paged.rows.iter().collect())
        .unwrap_or_default();
    let level = connection
        .nodes
        .iter()
        .map(|node| (node, rows.clone()))
        .collect();
    let nodes = load_level(db, viewer, level).await?;
    Ok(LoadedList {
        pages,
        counts,
        items,
        nodes,
    })
}
