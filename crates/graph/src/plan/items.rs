//! Pages whose items PostgreSQL hands over as arrays: a connection whose items select only
//! scalars (the leaves of a tree, e.g. each task's time logs) comes back as one row per
//! parent holding each selected column of its page as an array, instead of one row per
//! item. Most of a planned read's cost in the server is per row handed over by the driver,
//! and a tree's leaves are most of its rows. `array_agg` costs the database little;
//! building the JSON text there (`to_char`, concatenation) cost it more than the rows it
//! saved, so the items' JSON is written here, by the same writers as rows'.
//!
//! SQLite keeps one row per item: it has no arrays, and its JSON functions cost more
//! in-process than its rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use super::json::{self, Result, Stop};
use super::tree::{Connection, ConnectionOut, Object, Out, PageInfoOut, Scalar};
use crate::connection::{Page, Paged};

/// The one item selection of `connection` if its page can come as arrays: the connection
/// reads only `nodes` (no edge, no cursor) and the items only scalars (not a user's
/// contact, which the policy decides per row).
pub(super) fn flat_items(connection: &Connection) -> Option<&Object> {
    let [node] = connection.nodes.as_slice() else {
        return None;
    };
    let flat = node.lists.is_empty()
        && node.references.is_empty()
        && node.fields.iter().all(|(_, out)| match out {
            Out::Typename => true,
            Out::Scalar(scalar) => !matches!(scalar, Scalar::Email | Scalar::Phone),
            _ => false,
        });
    let plain = connection.fields.iter().all(|(_, field)| match field {
        ConnectionOut::Typename | ConnectionOut::TotalCount | ConnectionOut::Nodes(_) => true,
        ConnectionOut::PageInfo(fields) => fields.iter().all(|field| {
            matches!(
                field.1,
                PageInfoOut::Typename | PageInfoOut::HasNextPage | PageInfoOut::HasPreviousPage
            )
        }),
        ConnectionOut::Edges(_) => false,
    });
    (flat && plain && connection.rows).then_some(node)
}

/// One parent's page, its items written: their JSON joined by commas (without
/// the brackets; `None` for an empty page) and what the connection reports of it.
pub(super) struct ItemsPage {
    pub(super) json: Option<String>,
    pub(super) paged: Paged<()>,
}

/// The pages of `statement` (a [`pages::numbered_statement`]: `first + 1` rows per parent,
/// numbered) with their items written as `object` selects them, from one row per parent
/// holding each selected column's values as an array. Every parent in `parents` has an
/// entry, as in [`pages::page_rows`]. PostgreSQL only.
pub(super) async fn page_items(
    db: &DatabaseConnection,
    statement: Statement,
    object: &Object,
    parents: &[Uuid],
    page: &Page,
) -> Result<HashMap<Uuid, ItemsPage>> {
    use sea_orm::sqlx::Row as _;
    let first = page.first;
    let mut scalars: Vec<Scalar> = Vec::new();
    for (_, out) in &object.fields {
        if let Out::Scalar(scalar) = out
            && !scalars
                .iter()
                .any(|known| known.column() == scalar.column())
        {
            scalars.push(*scalar);
        }
    }
    // The items come in any order (no sort in the aggregate: it would cost the database
    // a sort per parent); their numbers say where each goes.
    let mut sql = format!(
        r#"SELECT "page_parent", COUNT(*), array_agg("page_rn") FILTER (WHERE "page_rn" <= {first})"#
    );
    for scalar in &scalars {
        sql.push_str(&format!(
            r#", array_agg("{}") FILTER (WHERE "page_rn" <= {first})"#,
            scalar.column()
        ));
    }
    if page.with_total {
        sql.push_str(r#", MAX("page_total")"#);
    }
    sql.push_str(&format!(
        r#" FROM ({}) AS "paged" GROUP BY "page_parent""#,
        statement.sql
    ));
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        statement.values.map(|values| values.0).unwrap_or_default(),
    );
    let rows = db.query_all_raw(statement).await?;

    let mut found = empty_pages(parents, page);
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    let failed = |err: sea_orm::sqlx::Error| Stop::Database(sea_orm::DbErr::Type(err.to_string()));
    for row in rows {
        let Some(row) = row.try_as_pg_row() else {
            return Err(Stop::Fallback("a PostgreSQL page without its row"));
        };
        let parent: Uuid = row.try_get_unchecked(0).map_err(failed)?;
        let count: i64 = row.try_get_unchecked(1).map_err(failed)?;
        let numbers: Vec<i64> = row
            .try_get_unchecked::<Option<Vec<i64>>, _>(2)
            .map_err(failed)?
            .unwrap_or_default();
        let items = numbers.len();
        let mut order: Vec<usize> = (0..items).collect();
        if !numbers.is_sorted() {
            order.sort_by_key(|item| numbers[*item]);
        }
        let mut columns = Vec::with_capacity(scalars.len());
        for (index, scalar) in scalars.iter().enumerate() {
            columns.push(Values::read(row, 3 + index, *scalar, items).map_err(failed)?);
        }
        let mut json = Vec::with_capacity(items * 64);
        for (index, item) in order.into_iter().enumerate() {
            if index > 0 {
                json.push(b',');
            }
            write_item(&mut json, object, &scalars, &columns, item)?;
        }
        let entry = found.entry(parent).or_insert_with(|| ItemsPage {
            json: None,
            paged: Paged::default(),
        });
        entry.json = (items > 0)
            .then(|| String::from_utf8(json))
            .transpose()
            .map_err(|_| Stop::Fallback("an item written as something other than text"))?;
        entry.paged.has_next = usize::try_from(count).unwrap_or(0) > first;
        if page.with_total {
            let total: i64 = row.try_get_unchecked(3 + scalars.len()).map_err(failed)?;
            entry.paged.total = Some(u64::try_from(total).unwrap_or(0));
        }
    }
    Ok(found)
}

/// Every parent's page, empty (counted as 0 when the count is known without a cursor).
fn empty_pages(parents: &[Uuid], page: &Page) -> HashMap<Uuid, ItemsPage> {
    let known_total = page.with_total && page.after.is_none();
    parents
        .iter()
        .map(|parent| {
            let paged = Paged {
                total: known_total.then_some(0),
                ..Paged::default()
            };
            (*parent, ItemsPage { json: None, paged })
        })
        .collect()
}

/// One selected column of a page's items, in page order, as PostgreSQL's array of it.
enum Values {
    Ids(Vec<Uuid>),
    Texts(Vec<Option<String>>),
    Times(Vec<Option<DateTime<Utc>>>),
    Numbers(Vec<i32>),
}

impl Values {
    /// Column `index` of `row`: the array of `scalar`'s column, of `items` values.
    fn read(
        row: &sea_orm::sqlx::postgres::PgRow,
        index: usize,
        scalar: Scalar,
        items: usize,
    ) -> std::result::Result<Self, sea_orm::sqlx::Error> {
        use sea_orm::sqlx::Row as _;
        let values = match scalar {
            Scalar::Id => Self::Ids(
                row.try_get_unchecked::<Option<Vec<Uuid>>, _>(index)?
                    .unwrap_or_default(),
            ),
            Scalar::CreatedAt | Scalar::UpdatedAt | Scalar::LoggedAt | Scalar::Deadline => {
                Self::Times(
                    row.try_get_unchecked::<Option<Vec<Option<DateTime<Utc>>>>, _>(index)?
                        .unwrap_or_default(),
                )
            }
            Scalar::Hours => Self::Numbers(
                row.try_get_unchecked::<Option<Vec<i32>>, _>(index)?
                    .unwrap_or_default(),
            ),
            Scalar::Name
            | Scalar::Description
            | Scalar::Status
            | Scalar::ContactEmail
            | Scalar::ContactPhone
            | Scalar::Email
            | Scalar::Phone => Self::Texts(
                row.try_get_unchecked::<Option<Vec<Option<String>>>, _>(index)?
                    .unwrap_or_default(),
            ),
        };
        let length = match &values {
            Self::Ids(values) => values.len(),
            Self::Texts(values) => values.len(),
            Self::Times(values) => values.len(),
            Self::Numbers(values) => values.len(),
        };
        if length != items {
            return Err(sea_orm::sqlx::Error::Decode(
                format!("an array of {length} values for {items} items").into(),
            ));
        }
        Ok(values)
    }
}

/// Item `item` of a page as `object` selects it, from its columns' arrays (`columns[i]` of
/// `scalars[i]`), as [`super::run`] writes an object from its row.
fn write_item(
    out: &mut Vec<u8>,
    object: &Object,
    scalars: &[Scalar],
    columns: &[Values],
    item: usize,
) -> Result<()> {
    if object.fields.is_empty() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let lost = || Stop::Fallback("an item without its value");
    out.push(b'{');
    for (index, (key, field)) in object.fields.iter().enumerate() {
        json::write_key(out, index, key);
        let scalar = match field {
            Out::Typename => {
                json::write_str(out, object.kind.type_name())?;
                continue;
            }
            Out::Scalar(scalar) => *scalar,
            _ => return Err(Stop::Fallback("a field the database does not write")),
        };
        let at = scalars
            .iter()
            .position(|known| known.column() == scalar.column())
            .ok_or_else(lost)?;
        match (&columns[at], scalar) {
            (Values::Ids(ids), _) => {
                let id = ids.get(item).ok_or_else(lost)?;
                let mut buffer = Uuid::encode_buffer();
                out.push(b'"');
                out.extend_from_slice(id.hyphenated().encode_lower(&mut buffer).as_bytes());
                out.push(b'"');
            }
            (Values::Texts(texts), Scalar::Status) => {
                let stored = texts.get(item).ok_or_else(lost)?;
                json::write_status(out, stored.as_deref().unwrap_or(""))?;
            }
            (Values::Texts(texts), _) => {
                json::write_optional_str(out, texts.get(item).ok_or_else(lost)?.as_deref())?;
            }
            (Values::Times(times), _) => match times.get(item).ok_or_else(lost)? {
                Some(at) => json::write_time(out, *at)?,
                None => out.extend_from_slice(b"null"),
            },
            (Values::Numbers(numbers), _) => {
                json::write_number(out, *numbers.get(item).ok_or_else(lost)?)?;
            }
        }
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_graphql::Variables;
    use async_graphql::parser::parse_query;

    use super::super::shape;
    use super::super::tree::Root;
    use super::*;

    /// Whether the tasks' `timeLogs` of `query` (a project's tasks, `selection` on their
    /// logs) come as arrays, and whether the tasks do.
    fn flat(selection: &str) -> (bool, bool) {
        let query = format!(
            r#"{{ project(id: "0193f2a4-1c1e-7a3b-9c4d-5e6f708192a3") {{ tasks(first: 5) {{ nodes {{ id timeLogs(first: 8) {{ {selection} }} }} }} }} }}"#
        );
        let document = parse_query(&query).expect("a document");
        let plan = shape::plan(&document, None, &Variables::default()).expect("a plan");
        let Some((_, Root::Object { object, .. })) = plan.roots.first() else {
            panic!("a project by id");
        };
        let tasks = &object.lists[0];
        let logs = &tasks.nodes[0].lists[0];
        (flat_items(logs).is_some(), flat_items(tasks).is_some())
    }

    #[test]
    fn only_pages_of_scalar_items_without_cursors_come_as_arrays() {
        let leaf = "totalCount pageInfo { __typename hasNextPage hasPreviousPage }
            nodes { __typename id hours loggedAt description createdAt updatedAt }";
        assert_eq!(flat(leaf), (true, false), "the tasks hold a list");
        for selection in [
            "edges { node { id } }",
            "pageInfo { endCursor } nodes { id }",
            "nodes { id user { name } }",
            "nodes { id task { id } }",
            "totalCount",
            "a: nodes { id } b: nodes { hours }",
        ] {
            assert!(!flat(selection).0, "{selection}");
        }
    }
}
