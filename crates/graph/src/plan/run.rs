//! Running a [`Plan`]: one statement per root type and per connection field, selecting
//! the columns the selection reads, then the response's `data` written from the rows into
//! one buffer.
//!
//! What the resolvers would answer with an error (an id the viewer may not read, a bad
//! `first` or cursor) stops the plan ([`Stop::Fallback`]): the resolvers then run the
//! operation and give the error its path.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::futures_util::future::{BoxFuture, try_join_all};
use chrono::{DateTime, Utc};
use entity::{client, project, task, time_log, user, workspace};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SelectStatement};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IdenStatic, Iterable,
    QueryResult,
};
use uuid::Uuid;

use super::shape::{
    Connection, ConnectionOut, EdgeOut, Kind, List, ListArguments, Object, Out, PageInfoOut, Plan,
    Root, Scalar,
};
use crate::connection::{self, Cursor, Page, Paged, Scope, SortValue};
use async_graphql::dataloader::Loader;
use entity::role::Role as StoredRole;

use super::items;
use super::rows::Columns;
use crate::loaders::hours::{self, HoursOf, HoursScope};
use crate::loaders::pages::read;
use crate::loaders::tasks::TaskOrderField;
use crate::loaders::time_logs::TimeRange;
use crate::loaders::{Loaders, ProjectRoleOf, SharesWorkspace, WorkspaceRoleOf};
use crate::loaders::{pages, projects, tasks, time_logs, workspaces};
use crate::policy::{self, ProjectAction, WorkspaceAction};

/// Why a plan did not answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum Stop {
    /// The resolvers answer this one, with the error a plan does not write.
    #[error("left to the resolvers: {0}")]
    Fallback(&'static str),
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error("the response could not be written: {0}")]
    Write(#[from] serde_json::Error),
}

pub(super) type Result<T> = std::result::Result<T, Stop>;

/// The start of the response body, `{"data":` and the `data` of `plan` for `viewer` as
/// JSON: the transport appends the rest (`,"extensions":…}`) to the same buffer.
pub(super) async fn run(plan: &Plan, db: &DatabaseConnection, viewer: Uuid) -> Result<Vec<u8>> {
    let found = root_rows(plan, db, viewer).await?;
    let mut level = Vec::new();
    let mut rows = Vec::new();
    for (_, root) in &plan.roots {
        if let Root::Object { id, object } = root {
            let row = found.get(&(object.kind, *id)).ok_or(Stop::Fallback(
                "an object by id the viewer may not read, or none",
            ))?;
            level.push((object, vec![row]));
            rows.push(row);
        }
    }
    let mut loaded = load_level(db, viewer, level).await?.into_iter().zip(rows);
    let mut lists = Vec::new();
    for (_, root) in &plan.roots {
        if let Root::List(connection) = root {
            lists.push(load_root_list(db, viewer, connection).await?);
        }
    }
    let mut lists = lists.into_iter();
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(BODY_START);
    if plan.roots.is_empty() {
        // Every field skipped: async-graphql answers an object without fields as `null`.
        out.extend_from_slice(b"null");
        return Ok(out);
    }
    out.push(b'{');
    for (index, (key, root)) in plan.roots.iter().enumerate() {
        write_key(&mut out, index, key);
        match root {
            Root::Object { object, .. } => {
                let (loaded, row) = loaded
                    .next()
                    .ok_or(Stop::Fallback("a root lost its rows"))?;
                write_object(&mut out, object, &loaded, row, &Columns::of(row))?;
            }
            Root::List(connection) => {
                let loaded = lists.next().ok_or(Stop::Fallback("a root lost its list"))?;
                write_connection(&mut out, connection, &loaded, viewer)?;
            }
            Root::Typename => write_str(&mut out, "Query")?,
        }
    }
    out.push(b'}');
    Ok(out)
}

/// The rows of the objects the plan reads by id that the viewer may read, one statement per
/// type, each with the viewer's roles beside it, decided on by the policy's rules.
async fn root_rows(
    plan: &Plan,
    db: &DatabaseConnection,
    viewer: Uuid,
) -> Result<HashMap<(Kind, Uuid), QueryResult>> {
    let mut found = HashMap::new();
    for kind in [Kind::Workspace, Kind::Project, Kind::Task] {
        let ids: Vec<Uuid> = plan
            .roots
            .iter()
            .filter_map(|(_, root)| match root {
                Root::Object { id, object } if object.kind == kind => Some(*id),
                _ => None,
            })
            .collect();
        if ids.is_empty() {
            continue;
        }
        let rows = match kind {
            Kind::Workspace => {
                let mut query = Query::select();
                query
                    .columns(workspace::Column::iter().map(|column| (workspace::Entity, column)))
                    .from(workspace::Entity)
                    .and_where(Expr::col((workspace::Entity, workspace::Column::Id)).is_in(ids));
                let rows = policy::raw_rows_with_access(
                    db,
                    query,
                    viewer,
                    (workspace::Entity, workspace::Column::Id),
                    None,
                )
                .await?;
                rows.into_iter()
                    .filter(|(_, access)| {
                        policy::workspace(access.workspace_role, WorkspaceAction::Read).is_allowed()
                    })
                    .map(|(row, _)| row)
                    .collect::<Vec<_>>()
            }
            Kind::Project => {
                let mut query = Query::select();
                query
                    .columns(project::Column::iter().map(|column| (project::Entity, column)))
                    .from(project::Entity)
                    .and_where(Expr::col((project::Entity, project::Column::Id)).is_in(ids));
                readable(
                    policy::raw_rows_with_access(
                        db,
                        query,
                        viewer,
                        (project::Entity, project::Column::WorkspaceId),
                        Some((project::Entity, project::Column::Id).into_column_ref()),
                    )
                    .await?,
                )
            }
            Kind::Task => {
                let mut query = Query::select();
                query
                    .columns(task::Column::iter().map(|column| (task::Entity, column)))
                    .from(task::Entity)
                    .inner_join(
                        project::Entity,
                        Expr::col((project::Entity, project::Column::Id))
                            .equals((task::Entity, task::Column::ProjectId)),
                    )
                    .and_where(Expr::col((task::Entity, task::Column::Id)).is_in(ids));
                readable(
                    policy::raw_rows_with_access(
                        db,
                        query,
                        viewer,
                        (project::Entity, project::Column::WorkspaceId),
                        Some((task::Entity, task::Column::ProjectId).into_column_ref()),
                    )
                    .await?,
                )
            }
            Kind::Client | Kind::TimeLog | Kind::User => Vec::new(),
        };
        for row in rows {
            let id: Uuid = read(&row, "id")?;
            found.insert((kind, id), row);
        }
    }
    Ok(found)
}

/// The rows whose project the viewer may read.
fn readable(rows: Vec<(QueryResult, policy::ProjectAccess)>) -> Vec<QueryResult> {
    rows.into_iter()
        .filter(|(_, access)| policy::project(*access, ProjectAction::Read).is_allowed())
        .map(|(row, _)| row)
        .collect()
}

/// What was loaded for one [`Object`] selection over all its rows: its connections and
/// the objects it belongs to.
struct LoadedObject {
    lists: Vec<LoadedList>,
    references: Vec<LoadedReference>,
    /// The level's sums of hours, by object id and range (for every object of the level
    /// that asked; ids are unique across types).
    hours: Arc<HashMap<(Uuid, TimeRange), i64>>,
    /// The viewer's roles in the level's workspaces and projects that asked, by id.
    roles: Arc<HashMap<Uuid, StoredRole>>,
    /// Whether the viewer may see the email and phone of the level's users that asked, by
    /// id.
    shares: Arc<HashMap<Uuid, bool>>,
}

/// One connection field's pages, for every parent row (shared with the other fields of
/// the level that asked the same of the same list).
struct LoadedList {
    pages: Arc<HashMap<Uuid, Paged<QueryResult>>>,
    /// `totalCount` of the parents whose page did not come with it.
    counts: Arc<HashMap<Uuid, u64>>,
    /// The items' JSON by parent, when the pages came as arrays ([`items`]): the pages
    /// then hold no rows.
    items: Option<Arc<HashMap<Uuid, String>>>,
    /// What was loaded for each of [`Connection::nodes`], over all the pages' rows.
    nodes: Vec<LoadedObject>,
}

/// One reference field's objects, by id (shared with the level's other references to the
/// same type).
struct LoadedReference {
    rows: Arc<HashMap<Uuid, QueryResult>>,
    /// Where the columns sit in `rows` (all of one statement).
    columns: Columns,
    object: LoadedObject,
}

/// The connection fields of one level that ask the same of the same list: one page
/// statement (and count) for all their parents, as the loaders batch them.
struct Batch<'a> {
    list: List,
    arguments: ListArguments,
    first: Option<i32>,
    after: Option<String>,
    rows: bool,
    total: bool,
    parents: Vec<Uuid>,
    seen: HashSet<Uuid>,
    columns: Vec<&'static str>,
    /// The one item selection of every field of the batch when its pages can come as
    /// arrays ([`items::flat_items`]).
    items: Option<&'a Object>,
}

impl<'a> Batch<'a> {
    /// A batch for fields asking what `connection` asks, without parents yet.
    fn of(connection: &'a Connection) -> Self {
        Self {
            list: connection.list,
            arguments: connection.arguments.clone(),
            first: connection.first,
            after: connection.after.clone(),
            rows: connection.rows,
            total: connection.total,
            parents: Vec::new(),
            seen: HashSet::new(),
            columns: vec!["id"],
            items: items::flat_items(connection),
        }
    }

    /// Adds `connection`'s parents and the columns its items read.
    fn add(&mut self, connection: &'a Connection, parents: &[Uuid]) {
        if let Some(object) = self.items {
            // One item selection per batch of arrays.
            let same = items::flat_items(connection)
                .is_some_and(|other| other.kind == object.kind && other.fields == object.fields);
            if !same {
                self.items = None;
            }
        }
        for parent in parents {
            if self.seen.insert(*parent) {
                self.parents.push(*parent);
            }
        }
        for column in connection.nodes.iter().flat_map(Object::columns) {
            if !self.columns.contains(&column) {
                self.columns.push(column);
            }
        }
    }

    fn takes(&self, connection: &Connection) -> bool {
        self.list == connection.list
            && self.arguments == connection.arguments
            && self.first == connection.first
            && self.after == connection.after
            && self.rows == connection.rows
            && self.total == connection.total
    }
}

/// The rows of a reference batch, by id.
type Objects = Arc<HashMap<Uuid, QueryResult>>;

/// One batch's pages by parent, their counts, and their items' JSON by parent where the
/// pages came as arrays ([`items`]).
#[derive(Clone, Default)]
struct Pages {
    pages: Arc<HashMap<Uuid, Paged<QueryResult>>>,
    counts: Arc<HashMap<Uuid, u64>>,
    items: Option<Arc<HashMap<Uuid, String>>>,
}

/// The references of one level to one type: one statement for all their keys.
struct ReferenceBatch {
    kind: Kind,
    ids: Vec<Uuid>,
    seen: HashSet<Uuid>,
}

/// Loads the connections and references of every object selection of one level (each
/// with its rows), then those of the next level, and so on: one statement per batch per
/// level.
fn load_level<'a>(
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
fn hours_key(kind: Kind, id: Uuid, viewer: Uuid, range: TimeRange) -> Result<HoursOf> {
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
async fn sum_hours(
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
async fn roles(
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
async fn shared(
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
fn ids(rows: &[&QueryResult], columns: &Columns, column: &str) -> Result<Vec<Uuid>> {
    Ok(rows
        .iter()
        .map(|row| columns.read::<Uuid>(row, column))
        .collect::<std::result::Result<Vec<_>, DbErr>>()?)
}

/// The rows of `kind` with these ids, every column: what a reference leads to. Like the
/// resolvers' `…ById` loaders, without a policy question.
async fn objects_by_id(
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
async fn load_root_list(
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

/// The statements of one batch: the page of each parent when rows are asked for, and the
/// count of those whose page did not come with it when `totalCount` is.
async fn load_batch(db: &DatabaseConnection, viewer: Uuid, batch: &Batch<'_>) -> Result<Pages> {
    let Some(first_parent) = batch.parents.first() else {
        return Ok(Pages::default());
    };
    // A cursor belongs to one parent: under more, the resolvers report it on the others.
    if batch.after.is_some() && batch.parents.len() > 1 {
        return Err(Stop::Fallback("a cursor under more than one parent"));
    }
    let (connection, order) = scope_names(&batch.arguments);
    let scope = Scope {
        connection,
        parent: *first_parent,
        order: &order,
    };
    let page = Page::forward(batch.first, batch.after.as_deref(), scope)
        .map_err(|_| Stop::Fallback("a page argument the resolvers refuse"))?
        .counting(batch.total);
    let mut items = None;
    // Arrays on PostgreSQL only (see `items`).
    let arrays = batch
        .items
        .filter(|_| db.get_database_backend() == sea_orm::DbBackend::Postgres);
    let pages = if batch.rows {
        let select = page_select(
            viewer,
            &batch.arguments,
            &batch.columns,
            &batch.parents,
            &page,
            arrays.is_none(),
        );
        let statement = db.get_database_backend().build(&select);
        match arrays {
            Some(object) => {
                let written =
                    items::page_items(db, statement, object, &batch.parents, &page).await?;
                let mut pages = HashMap::with_capacity(written.len());
                let mut json = HashMap::with_capacity(written.len());
                for (parent, page) in written {
                    let paged = Paged {
                        rows: Vec::new(),
                        has_next: page.paged.has_next,
                        total: page.paged.total,
                    };
                    pages.insert(parent, paged);
                    if let Some(text) = page.json {
                        json.insert(parent, text);
                    }
                }
                items = Some(Arc::new(json));
                pages
            }
            None => {
                let rows = db.query_all_raw(statement).await?;
                pages::collect_pages(rows, &batch.parents, &page)?
            }
        }
    } else {
        HashMap::new()
    };
    let mut counts = HashMap::new();
    if batch.total {
        let uncounted: Vec<Uuid> = batch
            .parents
            .iter()
            .filter(|parent| pages.get(parent).is_none_or(|paged| paged.total.is_none()))
            .copied()
            .collect();
        if !uncounted.is_empty() {
            counts = count(db, viewer, &batch.arguments, &uncounted).await?;
        }
    }
    Ok(Pages {
        pages: Arc::new(pages),
        counts: Arc::new(counts),
        items,
    })
}

/// The connection and order names of a list's cursors, as its resolver names them.
fn scope_names(arguments: &ListArguments) -> (&'static str, Cow<'static, str>) {
    match arguments {
        ListArguments::ViewerWorkspaces => ("Query.workspaces", Cow::Borrowed("ID_ASC")),
        ListArguments::WorkspaceClients => ("Workspace.clients", Cow::Borrowed("NAME_ASC")),
        ListArguments::ClientProjects(_) => ("Client.projects", Cow::Borrowed("ID_ASC")),
        ListArguments::Projects(_) => ("Workspace.projects", Cow::Borrowed("ID_ASC")),
        ListArguments::Tasks(_, order) => {
            ("Project.tasks", Cow::Owned(crate::task::order_name(*order)))
        }
        ListArguments::TimeLogs(_, descending) => (
            "Task.timeLogs",
            Cow::Borrowed(if *descending {
                "LOGGED_AT_DESC"
            } else {
                "LOGGED_AT_ASC"
            }),
        ),
    }
}

/// The position of `row` in a list read with `arguments`.
fn cursor_of(arguments: &ListArguments, row: &QueryResult, columns: &Columns) -> Result<Cursor> {
    let value = match arguments {
        ListArguments::ViewerWorkspaces
        | ListArguments::ClientProjects(_)
        | ListArguments::Projects(_) => SortValue::Id,
        ListArguments::WorkspaceClients => SortValue::Text(columns.read(row, "name")?),
        ListArguments::Tasks(_, order) => match order.field {
            TaskOrderField::CreatedAt => SortValue::Time(columns.read(row, "created_at")?),
            TaskOrderField::Name => SortValue::Text(columns.read(row, "name")?),
            TaskOrderField::Status => SortValue::Text(columns.read(row, "status")?),
        },
        ListArguments::TimeLogs(..) => SortValue::Time(columns.read(row, "logged_at")?),
    };
    Ok(Cursor {
        value,
        id: columns.read(row, "id")?,
    })
}

/// `E`'s columns named in `names`.
fn columns_of<E: EntityTrait>(names: &[&str]) -> Vec<E::Column> {
    E::Column::iter()
        .filter(|column| names.contains(&column.as_str()))
        .collect()
}

/// The statement of one page of a list per parent: the one its loader runs, of fewer
/// columns.
fn page_select(
    viewer: Uuid,
    arguments: &ListArguments,
    columns: &[&str],
    parents: &[Uuid],
    page: &Page,
    ordered: bool,
) -> SelectStatement {
    let select = match arguments {
        ListArguments::ViewerWorkspaces => {
            let (layout, condition) = workspaces::of_users();
            let columns = columns_of::<workspace::Entity>(columns);
            pages::numbered_statement(&layout, &columns, parents, condition, page)
        }
        ListArguments::WorkspaceClients => {
            let (layout, condition) = workspaces::clients_of_workspaces();
            let columns = columns_of::<client::Entity>(columns);
            pages::numbered_statement(&layout, &columns, parents, condition, page)
        }
        ListArguments::ClientProjects(filter) => {
            let (layout, condition) = projects::of_clients(viewer, *filter);
            let columns = columns_of::<project::Entity>(columns);
            pages::numbered_statement(&layout, &columns, parents, condition, page)
        }
        ListArguments::Projects(filter) => {
            let (layout, condition) = projects::of_workspaces(viewer, *filter);
            let columns = columns_of::<project::Entity>(columns);
            pages::numbered_statement(&layout, &columns, parents, condition, page)
        }
        ListArguments::Tasks(filter, order) => {
            let (layout, condition) = tasks::of_projects(filter, *order);
            let columns = columns_of::<task::Entity>(columns);
            pages::numbered_statement(&layout, &columns, parents, condition, page)
        }
        ListArguments::TimeLogs(filter, descending) => {
            let (layout, condition) = time_logs::of_tasks(*filter, *descending);
            let columns = columns_of::<time_log::Entity>(columns);
            pages::numbered_statement(&layout, &columns, parents, condition, page)
        }
    };
    if ordered {
        pages::in_page_order(select)
    } else {
        select
    }
}

/// `totalCount` of a list per parent: the statement its count loader runs.
async fn count(
    db: &DatabaseConnection,
    viewer: Uuid,
    arguments: &ListArguments,
    parents: &[Uuid],
) -> Result<HashMap<Uuid, u64>> {
    let counts = match arguments {
        ListArguments::ViewerWorkspaces => {
            let (layout, condition) = workspaces::of_users();
            pages::count_per_parent(db, &layout, parents, condition).await
        }
        ListArguments::WorkspaceClients => {
            let (layout, condition) = workspaces::clients_of_workspaces();
            pages::count_per_parent(db, &layout, parents, condition).await
        }
        ListArguments::ClientProjects(filter) => {
            let (layout, condition) = projects::of_clients(viewer, *filter);
            pages::count_per_parent(db, &layout, parents, condition).await
        }
        ListArguments::Projects(filter) => {
            let (layout, condition) = projects::of_workspaces(viewer, *filter);
            pages::count_per_parent(db, &layout, parents, condition).await
        }
        ListArguments::Tasks(filter, order) => {
            let (layout, condition) = tasks::of_projects(filter, *order);
            pages::count_per_parent(db, &layout, parents, condition).await
        }
        ListArguments::TimeLogs(filter, descending) => {
            let (layout, condition) = time_logs::of_tasks(*filter, *descending);
            pages::count_per_parent(db, &layout, parents, condition).await
        }
    };
    Ok(counts?)
}

/// How a response body starts: the planned `data` follows.
const BODY_START: &[u8] = b"{\"data\":";

/// An object whose fields were all skipped: async-graphql answers it as `null`.
const EMPTY_OBJECT: &[u8] = b"null";

/// The `index`-th key of an object: a comma before all but the first.
pub(super) fn write_key(out: &mut Vec<u8>, index: usize, key: &str) {
    if index > 0 {
        out.push(b',');
    }
    // A response key is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`): nothing to escape.
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

pub(super) fn write_str(out: &mut Vec<u8>, text: &str) -> Result<()> {
    serde_json::to_writer(&mut *out, text)?;
    Ok(())
}

/// A task's status, stored as `stored`, by its GraphQL name.
pub(super) fn write_status(out: &mut Vec<u8>, stored: &str) -> Result<()> {
    let status = task::TaskStatus::try_from_value(&stored.to_owned())?;
    let value = async_graphql::resolver_utils::enum_value(crate::task::TaskStatus::from(status));
    serde_json::to_writer(&mut *out, &value)?;
    Ok(())
}

pub(super) fn write_optional_str(out: &mut Vec<u8>, text: Option<&str>) -> Result<()> {
    match text {
        Some(text) => write_str(out, text),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// An instant as the `DateTime` scalar writes it (`DateTime::to_rfc3339`: UTC as `+00:00`,
/// fractional seconds in 3, 6 or 9 digits and only when not whole), without the string.
pub(super) fn write_time(out: &mut Vec<u8>, at: DateTime<Utc>) -> Result<()> {
    use chrono::{Datelike as _, Timelike as _};
    // The fields of the instant in UTC, computed once (each of `DateTime`'s own would
    // convert it again).
    let at = at.naive_utc();
    let year = at.year();
    let Ok(year) = u32::try_from(year) else {
        return write_str(out, &at.and_utc().to_rfc3339());
    };
    if year > 9999 {
        return write_str(out, &at.and_utc().to_rfc3339());
    }
    let digits = |out: &mut Vec<u8>, value: u32, width: u32| {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            out.push(b'0' + u8::try_from(digit).unwrap_or(0));
        }
    };
    let mut second = at.second();
    let mut nano = at.nanosecond();
    if nano >= 1_000_000_000 {
        // A leap second, written as chrono does.
        second += 1;
        nano -= 1_000_000_000;
    }
    out.push(b'"');
    digits(out, year, 4);
    out.push(b'-');
    digits(out, at.month(), 2);
    out.push(b'-');
    digits(out, at.day(), 2);
    out.push(b'T');
    digits(out, at.hour(), 2);
    out.push(b':');
    digits(out, at.minute(), 2);
    out.push(b':');
    digits(out, second, 2);
    if nano != 0 {
        out.push(b'.');
        if nano.is_multiple_of(1_000_000) {
            digits(out, nano / 1_000_000, 3);
        } else if nano.is_multiple_of(1_000) {
            digits(out, nano / 1_000, 6);
        } else {
            digits(out, nano, 9);
        }
    }
    out.extend_from_slice(b"+00:00\"");
    Ok(())
}

/// A number as JSON writes it, without a string in between.
pub(super) fn write_number(out: &mut Vec<u8>, number: impl Into<serde_json::Number>) -> Result<()> {
    serde_json::to_writer(&mut *out, &number.into())?;
    Ok(())
}

fn write_bool(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

fn write_object(
    out: &mut Vec<u8>,
    object: &Object,
    loaded: &LoadedObject,
    row: &QueryResult,
    columns: &Columns,
) -> Result<()> {
    if object.fields.is_empty() {
        out.extend_from_slice(EMPTY_OBJECT);
        return Ok(());
    }
    out.push(b'{');
    for (index, (key, field)) in object.fields.iter().enumerate() {
        write_key(out, index, key);
        match field {
            Out::Typename => write_str(out, object.kind.type_name())?,
            Out::Scalar(scalar @ (Scalar::Email | Scalar::Phone)) => {
                let id: Uuid = columns.read(row, "id")?;
                if loaded.shares.get(&id).copied().unwrap_or(false) {
                    write_scalar(out, row, columns, *scalar)?;
                } else {
                    out.extend_from_slice(b"null");
                }
            }
            Out::Scalar(scalar) => write_scalar(out, row, columns, *scalar)?,
            Out::List(list) => {
                let parent: Uuid = columns.read(row, "id")?;
                let (Some(connection), Some(loaded)) =
                    (object.lists.get(*list), loaded.lists.get(*list))
                else {
                    return Err(Stop::Fallback("a plan without its connection"));
                };
                write_connection(out, connection, loaded, parent)?;
            }
            Out::ViewerRole => {
                let id: Uuid = columns.read(row, "id")?;
                match (loaded.roles.get(&id), object.kind) {
                    (Some(role), _) => serde_json::to_writer(
                        &mut *out,
                        &async_graphql::resolver_utils::enum_value(crate::role::Role::from(*role)),
                    )?,
                    // Not a member of a project seen as a workspace manager.
                    (None, Kind::Project) => out.extend_from_slice(b"null"),
                    // Not a member of the workspace: the resolver's NOT_FOUND.
                    (None, _) => return Err(Stop::Fallback("a workspace role the viewer lacks")),
                }
            }
            Out::Hours(range) => {
                let id: Uuid = columns.read(row, "id")?;
                let hours = loaded.hours.get(&(id, *range)).copied().unwrap_or(0);
                write_number(out, crate::time_log::hours_value(hours))?;
            }
            Out::Reference(index) => {
                let (Some(reference), Some(loaded)) =
                    (object.references.get(*index), loaded.references.get(*index))
                else {
                    return Err(Stop::Fallback("a plan without its reference"));
                };
                let key: Uuid = columns.read(row, reference.key)?;
                let target = loaded
                    .rows
                    .get(&key)
                    .ok_or(Stop::Fallback("a reference to a row that is gone"))?;
                write_object(
                    out,
                    &reference.object,
                    &loaded.object,
                    target,
                    &loaded.columns,
                )?;
            }
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_scalar(
    out: &mut Vec<u8>,
    row: &QueryResult,
    columns: &Columns,
    scalar: Scalar,
) -> Result<()> {
    let column = scalar.column();
    match scalar {
        Scalar::Id => {
            let id: Uuid = columns.read(row, column)?;
            out.push(b'"');
            let mut buffer = Uuid::encode_buffer();
            out.extend_from_slice(id.hyphenated().encode_lower(&mut buffer).as_bytes());
            out.push(b'"');
        }
        Scalar::Name
        | Scalar::Email
        | Scalar::Description
        | Scalar::ContactEmail
        | Scalar::ContactPhone
        | Scalar::Phone => {
            columns.with_text(row, column, |text| write_optional_str(out, text))??;
        }
        Scalar::CreatedAt | Scalar::UpdatedAt | Scalar::LoggedAt => {
            write_time(out, columns.read(row, column)?)?;
        }
        Scalar::Deadline => match columns.read::<Option<DateTime<Utc>>>(row, column)? {
            Some(at) => write_time(out, at)?,
            None => out.extend_from_slice(b"null"),
        },
        Scalar::Status => {
            columns.with_text(row, column, |stored| {
                write_status(out, stored.unwrap_or(""))
            })??;
        }
        Scalar::Hours => {
            let hours: i32 = columns.read(row, column)?;
            write_number(out, hours)?;
        }
    }
    Ok(())
}

fn write_connection(
    out: &mut Vec<u8>,
    connection: &Connection,
    loaded: &LoadedList,
    parent: Uuid,
) -> Result<()> {
    let empty = Paged::default();
    let paged = loaded.pages.get(&parent).unwrap_or(&empty);
    let child = connection.list.child();
    let (name, order) = scope_names(&connection.arguments);
    let scope = Scope {
        connection: name,
        parent,
        order: &order,
    };
    let columns = Columns::of_first(&paged.rows);
    let cursor = |row: &QueryResult| -> Result<String> {
        Ok(connection::encode(
            &cursor_of(&connection.arguments, row, &columns)?,
            scope,
        ))
    };
    if connection.fields.is_empty() {
        out.extend_from_slice(EMPTY_OBJECT);
        return Ok(());
    }
    out.push(b'{');
    for (index, (key, field)) in connection.fields.iter().enumerate() {
        write_key(out, index, key);
        match field {
            ConnectionOut::Typename => {
                write_str(out, &format!("{}Connection", child.type_name()))?;
            }
            ConnectionOut::TotalCount => {
                let total = paged
                    .total
                    .or_else(|| loaded.counts.get(&parent).copied())
                    .unwrap_or(0);
                write_number(out, total)?;
            }
            ConnectionOut::Nodes(node) => {
                let (Some(object), Some(loaded_node)) =
                    (connection.nodes.get(*node), loaded.nodes.get(*node))
                else {
                    return Err(Stop::Fallback("a plan without its nodes"));
                };
                out.push(b'[');
                match &loaded.items {
                    Some(items) => {
                        if let Some(json) = items.get(&parent) {
                            out.extend_from_slice(json.as_bytes());
                        }
                    }
                    None => {
                        for (index, row) in paged.rows.iter().enumerate() {
                            if index > 0 {
                                out.push(b',');
                            }
                            write_object(out, object, loaded_node, row, &columns)?;
                        }
                    }
                }
                out.push(b']');
            }
            ConnectionOut::Edges(fields) => {
                out.push(b'[');
                for (index, row) in paged.rows.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    if fields.is_empty() {
                        out.extend_from_slice(EMPTY_OBJECT);
                        continue;
                    }
                    out.push(b'{');
                    for (index, (key, field)) in fields.iter().enumerate() {
                        write_key(out, index, key);
                        match field {
                            EdgeOut::Typename => {
                                write_str(out, &format!("{}Edge", child.type_name()))?;
                            }
                            EdgeOut::Cursor => write_str(out, &cursor(row)?)?,
                            EdgeOut::Node(node) => {
                                let (Some(object), Some(loaded)) =
                                    (connection.nodes.get(*node), loaded.nodes.get(*node))
                                else {
                                    return Err(Stop::Fallback("a plan without its nodes"));
                                };
                                write_object(out, object, loaded, row, &columns)?;
                            }
                        }
                    }
                    out.push(b'}');
                }
                out.push(b']');
            }
            ConnectionOut::PageInfo(fields) if fields.is_empty() => {
                out.extend_from_slice(EMPTY_OBJECT);
            }
            ConnectionOut::PageInfo(fields) => {
                out.push(b'{');
                for (index, (key, field)) in fields.iter().enumerate() {
                    write_key(out, index, key);
                    match field {
                        PageInfoOut::Typename => write_str(out, "PageInfo")?,
                        PageInfoOut::HasNextPage => write_bool(out, paged.has_next),
                        PageInfoOut::HasPreviousPage => {
                            write_bool(out, connection.after.is_some());
                        }
                        PageInfoOut::StartCursor | PageInfoOut::EndCursor => {
                            let row = match field {
                                PageInfoOut::StartCursor => paged.rows.first(),
                                _ => paged.rows.last(),
                            };
                            match row {
                                Some(row) => write_str(out, &cursor(row)?)?,
                                None => out.extend_from_slice(b"null"),
                            }
                        }
                    }
                }
                out.push(b'}');
            }
        }
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone as _};

    use super::*;

    #[test]
    fn instants_are_written_as_the_date_time_scalar_writes_them() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date");
        let leap = day
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .expect("a leap second")
            .and_utc();
        let mut instants = vec![leap, Utc.timestamp_opt(0, 0).unwrap()];
        for nanos in [0, 7_000_000, 120_000, 123_456_000, 1, 999_999_999] {
            instants.push(
                day.and_hms_nano_opt(9, 5, 7, nanos)
                    .expect("an instant")
                    .and_utc(),
            );
        }
        instants.push(
            NaiveDate::from_ymd_opt(1, 1, 1)
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .expect("year 1")
                .and_utc(),
        );
        for at in instants {
            let mut written = Vec::new();
            write_time(&mut written, at).expect("written");
            let expected = serde_json::to_string(&at.to_rfc3339()).expect("a string");
            assert_eq!(String::from_utf8(written).expect("text"), expected);
        }
    }
}
