//! The pages of a level's connection fields: the fields asking the same of the same list
//! are one [`Batch`], answered by one page statement (and one count) for all their parents.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use entity::{client, project, task, time_log, workspace};
use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, IdenStatic, Iterable, QueryResult,
};
use uuid::Uuid;

use super::items;
use super::json::{Result, Stop};
use super::rows::Columns;
use super::tree::{Connection, List, ListArguments, Object};
use crate::connection::{Cursor, Page, Paged, Scope, SortValue};
use crate::loaders::tasks::TaskOrderField;
use crate::loaders::{pages, projects, tasks, time_logs, workspaces};

/// The connection fields of one level that ask the same of the same list: one page
/// statement (and count) for all their parents, as the loaders batch them.
pub(super) struct Batch<'a> {
    pub(super) list: List,
    pub(super) arguments: ListArguments,
    pub(super) first: Option<i32>,
    pub(super) after: Option<String>,
    pub(super) rows: bool,
    pub(super) total: bool,
    pub(super) parents: Vec<Uuid>,
    pub(super) seen: HashSet<Uuid>,
    pub(super) columns: Vec<&'static str>,
    /// The one item selection of every field of the batch when its pages can come as
    /// arrays ([`items::flat_items`]).
    pub(super) items: Option<&'a Object>,
}

impl<'a> Batch<'a> {
    /// A batch for fields asking what `connection` asks, without parents yet.
    pub(super) fn of(connection: &'a Connection) -> Self {
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
    pub(super) fn add(&mut self, connection: &'a Connection, parents: &[Uuid]) {
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

    pub(super) fn takes(&self, connection: &Connection) -> bool {
        self.list == connection.list
            && self.arguments == connection.arguments
            && self.first == connection.first
            && self.after == connection.after
            && self.rows == connection.rows
            && self.total == connection.total
    }
}

/// One batch's pages by parent, their counts, and their items' JSON by parent where the
/// pages came as arrays ([`items`]).
#[derive(Clone, Default)]
pub(super) struct Pages {
    pub(super) pages: Arc<HashMap<Uuid, Paged<QueryResult>>>,
    pub(super) counts: Arc<HashMap<Uuid, u64>>,
    pub(super) items: Option<Arc<HashMap<Uuid, String>>>,
}

/// The statements of one batch: the page of each parent when rows are asked for, and the
/// count of those whose page did not come with it when `totalCount` is.
pub(super) async fn load_batch(
    db: &DatabaseConnection,
    viewer: Uuid,
    batch: &Batch<'_>,
) -> Result<Pages> {
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
pub(super) fn scope_names(arguments: &ListArguments) -> (&'static str, Cow<'static, str>) {
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
pub(super) fn cursor_of(
    arguments: &ListArguments,
    row: &QueryResult,
    columns: &Columns,
) -> Result<Cursor> {
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
pub(super) fn columns_of<E: EntityTrait>(names: &[&str]) -> Vec<E::Column> {
    E::Column::iter()
        .filter(|column| names.contains(&column.as_str()))
        .collect()
}

/// The statement of one page of a list per parent: the one its loader runs, of fewer
/// columns.
pub(super) fn page_select(
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
pub(super) async fn count(
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
