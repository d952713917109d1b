//! Writing the loaded rows of a plan as the response's `data`, in the selection's order.

use chrono::{DateTime, Utc};
use sea_orm::QueryResult;
use uuid::Uuid;

use super::json::{
    Result, Stop, write_bool, write_key, write_number, write_optional_str, write_status, write_str,
    write_time,
};
use super::lists::{cursor_of, scope_names};
use super::load::{LoadedList, LoadedObject};
use super::rows::Columns;
use super::tree::{Connection, ConnectionOut, EdgeOut, Kind, Object, Out, PageInfoOut, Scalar};
use crate::connection::{self, Paged, Scope};

/// How a response body starts: the planned `data` follows.
pub(super) const BODY_START: &[u8] = b"{\"data\":";

/// An object whose fields were all skipped: async-graphql answers it as `null`.
pub(super) const EMPTY_OBJECT: &[u8] = b"null";

pub(super) fn write_object(
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

pub(super) fn write_scalar(
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

pub(super) fn write_connection(
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
