//! Running a [`Plan`]: one statement per root type and per connection field, selecting
//! the columns the selection reads, then the response's `data` written from the rows into
//! one buffer.
//!
//! What the resolvers would answer with an error (an id the viewer may not read, a bad
//! `first` or cursor) stops the plan ([`Stop::Fallback`]): the resolvers then run the
//! operation and give the error its path.

use std::collections::HashMap;

use entity::{project, task, workspace};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SelectStatement};
use sea_orm::{DatabaseConnection, Iterable, QueryResult};
use uuid::Uuid;

use super::json::{Result, Stop, write_key, write_str};
use super::load::{load_level, load_root_list};
use super::rows::Columns;
use super::tree::{Kind, Plan, Root};
use super::write::{BODY_START, write_connection, write_object};
use crate::loaders::pages::read;
use crate::policy::{self, ProjectAction, WorkspaceAction};

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
                readable(db, query, viewer, (project::Entity, project::Column::Id)).await?
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
                readable(db, query, viewer, (task::Entity, task::Column::ProjectId)).await?
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

/// The rows of `query` (over projects, or joined to them) whose project the viewer may
/// read; `project` is the column holding the row's project id.
async fn readable(
    db: &DatabaseConnection,
    query: SelectStatement,
    viewer: Uuid,
    project: impl IntoColumnRef,
) -> Result<Vec<QueryResult>> {
    let rows = policy::raw_rows_with_access(
        db,
        query,
        viewer,
        (project::Entity, project::Column::WorkspaceId),
        Some(project.into_column_ref()),
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, access)| policy::project(*access, ProjectAction::Read).is_allowed())
        .map(|(row, _)| row)
        .collect())
}
