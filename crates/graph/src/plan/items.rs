//! Pages whose items the database writes as JSON: a connection whose items select only
//! scalars (the leaves of a tree, e.g. each task's time logs) comes back as one row per
//! parent holding its page's items as the response's JSON text, instead of one row per item.
//! Most of a planned read's cost is in rows handed over by the driver; a tree's leaves are
//! most of its rows.
//!
//! The text must be what [`super::run`] would write from the rows, value for value: ids as
//! lowercase hyphenated text, instants as the `DateTime` scalar writes them (UTC as
//! `+00:00`, a fraction of 3 or 6 digits only when not whole), enums by their GraphQL
//! name. A stored value the statement cannot write that way (a SQLite instant stored in
//! another form, a uuid stored as text, a status it does not know) makes its item `NULL`,
//! the page reports fewer items than rows, and the plan leaves the operation to the
//! resolvers, which read any form the driver reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveEnum as _, ConnectionTrait, DatabaseConnection, DbBackend, Iterable, Statement,
};
use uuid::Uuid;

use super::run::{self, Result, Stop};
use super::shape::{Connection, ConnectionOut, Object, Out, PageInfoOut, Scalar};
use crate::connection::{Page, Paged};
use crate::loaders::pages;

/// The one item selection of `connection` if the database can write its page: the
/// connection reads only `nodes` (no edge, no cursor) and the items only scalars the
/// database can write (not a user's contact, which the policy decides per row).
pub(super) fn written_by_database(connection: &Connection) -> Option<&Object> {
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

/// One parent's page as the database wrote it: the items' JSON joined by commas (without
/// the brackets; `None` for an empty page) and what the connection reports of it.
pub(super) struct ItemsPage {
    pub(super) json: Option<String>,
    pub(super) paged: Paged<()>,
}

/// The pages of `statement` (a page statement of [`pages::page_select`], `first + 1` rows
/// per parent numbered in order) with their items written as `object` selects them, one row
/// per parent. Every parent in `parents` has an entry, as in [`pages::page_rows`].
pub(super) async fn page_items(
    db: &DatabaseConnection,
    statement: Statement,
    object: &Object,
    parents: &[Uuid],
    page: &Page,
) -> Result<HashMap<Uuid, ItemsPage>> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        return page_arrays(db, statement, object, parents, page).await;
    }
    let item = item_sql(backend, object);
    let first = page.first;
    let total = if page.with_total {
        r#", MAX("page_total")"#
    } else {
        ""
    };
    let sql = format!(
        r#"SELECT "page_parent", COUNT(*), COUNT("page_item") FILTER (WHERE "page_rn" <= {first}), string_agg("page_item", ',' ORDER BY "page_rn") FILTER (WHERE "page_rn" <= {first}){total} FROM (SELECT *, {item} AS "page_item" FROM ({inner}) AS "paged") AS "items" GROUP BY "page_parent""#,
        inner = statement.sql,
    );
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        statement.values.map(|values| values.0).unwrap_or_default(),
    );
    let rows = db.query_all_raw(statement).await?;

    let mut found = empty_pages(parents, page);
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    for row in rows {
        let parent: Uuid = pages::read(&row, 0)?;
        let count: i64 = pages::read(&row, 1)?;
        let made: i64 = pages::read(&row, 2)?;
        let count = usize::try_from(count).unwrap_or(0);
        if usize::try_from(made).ok() != Some(count.min(first)) {
            return Err(Stop::Fallback(
                "a stored value the database does not write as the scalar does",
            ));
        }
        let json = pages::with_text(&row, 3, |text| text.map(str::to_owned))?;
        let total = if page.with_total {
            let total: i64 = pages::read(&row, 4)?;
            Some(u64::try_from(total).unwrap_or(0))
        } else {
            None
        };
        let entry = found.entry(parent).or_insert_with(|| ItemsPage {
            json: None,
            paged: Paged::default(),
        });
        entry.json = json;
        entry.paged.has_next = count > first;
        if total.is_some() {
            entry.paged.total = total;
        }
    }
    Ok(found)
}

/// [`page_items`] on PostgreSQL: each selected column of a parent's page comes as one
/// array (`array_agg` costs the database little; building text there costs it more than
/// the rows saved), and the items' JSON is written here from the arrays.
async fn page_arrays(
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
        run::write_key(out, index, key);
        let scalar = match field {
            Out::Typename => {
                run::write_str(out, object.kind.type_name())?;
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
                run::write_status(out, stored.as_deref().unwrap_or(""))?;
            }
            (Values::Texts(texts), _) => {
                run::write_optional_str(out, texts.get(item).ok_or_else(lost)?.as_deref())?;
            }
            (Values::Times(times), _) => match times.get(item).ok_or_else(lost)? {
                Some(at) => run::write_time(out, *at)?,
                None => out.extend_from_slice(b"null"),
            },
            (Values::Numbers(numbers), _) => {
                run::write_number(out, *numbers.get(item).ok_or_else(lost)?)?;
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// The SQL expression of one item's JSON over a page statement's columns: `NULL` when one
/// of its values is stored in a form the expression does not write as the scalar would.
fn item_sql(backend: DbBackend, object: &Object) -> String {
    if object.fields.is_empty() {
        // Every field skipped: the object is `null`, as async-graphql answers it.
        return literal("null");
    }
    let mut parts: Vec<String> = Vec::new();
    let mut text = String::from("{");
    for (index, (key, out)) in object.fields.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        // A response key is a GraphQL name: nothing to escape in JSON or in SQL.
        text.push('"');
        text.push_str(key);
        text.push_str("\":");
        match out {
            Out::Typename => {
                text.push('"');
                text.push_str(object.kind.type_name());
                text.push('"');
            }
            Out::Scalar(scalar) => {
                parts.push(literal(&std::mem::take(&mut text)));
                parts.push(scalar_sql(backend, *scalar));
            }
            // Not written by the database: see `written_by_database`.
            _ => parts.push("NULL".to_owned()),
        }
    }
    text.push('}');
    parts.push(literal(&text));
    parts.retain(|part| part != "''");
    parts.join(" || ")
}

/// A SQL string literal of `text`.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The JSON of one scalar of the row, as [`super::run`] writes it, or `NULL`.
fn scalar_sql(backend: DbBackend, scalar: Scalar) -> String {
    let column = format!("\"{}\"", scalar.column());
    let postgres = backend == DbBackend::Postgres;
    match scalar {
        Scalar::Id if postgres => format!(r#"'"' || {column}::text || '"'"#),
        Scalar::Id => {
            // sqlx stores a uuid in SQLite as its 16 bytes.
            let hex = format!("hex({column})");
            let piece = |from: u32, length: u32| format!("substr({hex}, {from}, {length})");
            format!(
                r#"CASE WHEN typeof({column}) = 'blob' AND length({column}) = 16 THEN '"' || lower({} || '-' || {} || '-' || {} || '-' || {} || '-' || {}) || '"' END"#,
                piece(1, 8),
                piece(9, 4),
                piece(13, 4),
                piece(17, 4),
                piece(21, 12),
            )
        }
        Scalar::Name
        | Scalar::Description
        | Scalar::ContactEmail
        | Scalar::ContactPhone
        | Scalar::Email
        | Scalar::Phone => {
            if postgres {
                format!("COALESCE(to_json({column})::text, 'null')")
            } else {
                format!(
                    "CASE WHEN typeof({column}) IN ('text', 'null') THEN json_quote({column}) END"
                )
            }
        }
        Scalar::CreatedAt | Scalar::UpdatedAt | Scalar::LoggedAt => time_sql(backend, &column),
        Scalar::Deadline => format!(
            "CASE WHEN {column} IS NULL THEN 'null' ELSE {} END",
            time_sql(backend, &column)
        ),
        Scalar::Status => {
            let mut sql = format!("CASE {column}");
            for status in entity::task::TaskStatus::iter() {
                let stored = status.to_value();
                let name = match async_graphql::resolver_utils::enum_value(
                    crate::task::TaskStatus::from(status),
                ) {
                    async_graphql::Value::Enum(name) => name.to_string(),
                    other => other.to_string(),
                };
                sql.push_str(&format!(
                    " WHEN {} THEN {}",
                    literal(&stored),
                    literal(&format!("\"{name}\""))
                ));
            }
            sql.push_str(" END");
            sql
        }
        Scalar::Hours if postgres => format!("{column}::text"),
        Scalar::Hours => {
            format!("CASE WHEN typeof({column}) = 'integer' THEN CAST({column} AS TEXT) END")
        }
    }
}

/// The JSON of an instant column as the `DateTime` scalar writes it, or `NULL`.
fn time_sql(backend: DbBackend, column: &str) -> String {
    if backend == DbBackend::Postgres {
        let utc = format!("({column} AT TIME ZONE 'UTC')");
        let micros = format!("(EXTRACT(MICROSECONDS FROM {utc})::bigint % 1000000)");
        return format!(
            r#"CASE WHEN EXTRACT(YEAR FROM {utc}) BETWEEN 1 AND 9999 THEN '"' || to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN {micros} = 0 THEN '' WHEN {micros} % 1000 = 0 THEN '.' || lpad(({micros} / 1000)::text, 3, '0') ELSE '.' || lpad({micros}::text, 6, '0') END || '+00:00"' END"#
        );
    }
    // sqlx stores an instant in SQLite as `DateTime::to_rfc3339` text, which is the scalar's
    // form: the text is written as it is once it is seen to be in that form (a fraction of
    // 3, 6 or 9 digits, never ending in 000).
    let digits = |n: usize| "[0-9]".repeat(n);
    let whole = format!(
        "{}-{}-{}T{}:{}:{}",
        digits(4),
        digits(2),
        digits(2),
        digits(2),
        digits(2),
        digits(2)
    );
    let forms = [0, 3, 6, 9]
        .iter()
        .map(|fraction| sqlite_form(column, &whole, *fraction))
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(r#"CASE WHEN typeof({column}) = 'text' AND ({forms}) THEN '"' || {column} || '"' END"#)
}

/// Whether SQLite text `column` is an instant in `to_rfc3339`'s form with `fraction`
/// digits after the seconds.
fn sqlite_form(column: &str, whole: &str, fraction: usize) -> String {
    // `2026-01-02T03:04:05` is 19 characters, `+00:00` 6.
    if fraction == 0 {
        return format!("(length({column}) = 25 AND {column} GLOB '{whole}+00:00')");
    }
    let length = 19 + 1 + fraction + 6;
    // The fraction's last three digits start here (1-based).
    let last = 19 + 1 + fraction - 2;
    format!(
        "(length({column}) = {length} AND {column} GLOB '{whole}.{}+00:00' AND substr({column}, {last}, 3) <> '000')",
        "[0-9]".repeat(fraction)
    )
}
