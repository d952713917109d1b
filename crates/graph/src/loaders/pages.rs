//! Per-parent pages in one statement: `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY …)`.
//!
//! `project.tasks(first: 20)` for 200 projects is one query, not 200: each row is numbered
//! within its parent in the requested order, the cursor condition applies before
//! numbering, and the outer query keeps `first + 1` rows per parent (the extra row says
//! whether a next page exists). Both SQLite (3.25+) and PostgreSQL run it; row-value
//! comparison `(sort, id) > (?, ?)` needs SQLite 3.15+.
//!
//! When the client also asks for `totalCount`, the same statement carries it as
//! `COUNT(*) OVER (PARTITION BY parent)`, computed before the cursor condition, so a
//! connection with its count is one statement rather than two.

// Over ~450 lines with its unit tests (the tests pinning each page statement's SQL on both
// backends), which stay beside the code they pin.

use std::collections::HashMap;

use sea_orm::sea_query::{
    Alias, Asterisk, ColumnRef, ColumnType, Condition, Expr, ExprTrait, IntoColumnRef, Order,
    Query, SelectStatement, TableRef, WindowStatement,
};
use sea_orm::{
    ColIdx, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, QueryResult, Value,
};
use uuid::Uuid;

use crate::connection::{Page, Paged, SortValue};

/// The aliases of the columns a page statement adds to the entity's own.
const PARENT: &str = "page_parent";
const ROW_NUMBER: &str = "page_rn";
const TOTAL: &str = "page_total";

/// How a child list is laid out in its table.
pub struct Layout<E: EntityTrait> {
    /// The column naming each row's parent: one of `E`'s own, or of the joined table.
    pub parent: ColumnRef,
    /// A table joined to `E` to reach the parent column (`workspace_users` for the viewer's
    /// workspaces).
    pub join: Option<(TableRef, Condition)>,
    /// `E`'s primary key: the last sort key, so the order is total.
    pub id: E::Column,
    /// The sort column and whether it runs descending; `None` sorts by id alone.
    pub sort: Option<(E::Column, bool)>,
}

impl<E: EntityTrait> Layout<E>
where
    E::Column: Copy,
{
    /// A list whose parent is one of `E`'s columns, sorted by `sort` then `id`.
    pub fn new(parent: E::Column, id: E::Column, sort: Option<(E::Column, bool)>) -> Self {
        Self {
            parent: (E::default(), parent).into_column_ref(),
            join: None,
            id,
            sort,
        }
    }

    fn descending(&self) -> bool {
        self.sort.is_some_and(|(_, desc)| desc)
    }

    /// `SELECT E.<columns>, parent AS page_parent FROM E [JOIN …] WHERE parent IN (…) AND
    /// filter`. The sort keys are selected too when `columns` lacks them: the window and
    /// the cursor condition read them over this statement.
    fn base(&self, columns: &[E::Column], parents: &[Uuid], filter: Condition) -> SelectStatement {
        let keys = self.sort.iter().map(|(sort, _)| *sort).chain([self.id]);
        let missing: Vec<E::Column> = keys
            .filter(|key| !columns.iter().any(|column| column.as_str() == key.as_str()))
            .collect();
        let mut query = Query::select();
        query
            .columns(
                columns
                    .iter()
                    .chain(&missing)
                    .map(|column| (E::default(), *column)),
            )
            .expr_as(Expr::col(self.parent.clone()), Alias::new(PARENT))
            .from(E::default())
            .and_where(
                Expr::col(self.parent.clone()).is_in(parents.iter().copied().map(Value::from)),
            )
            .cond_where(filter);
        if let Some((table, on)) = &self.join {
            query.inner_join(table.clone(), on.clone());
        }
        query
    }

    /// `column` qualified with `E`'s table (in the base query) or bare (over a subquery
    /// of it).
    fn column(column: E::Column, qualified: bool) -> ColumnRef {
        if qualified {
            (E::default(), column).into_column_ref()
        } else {
            column.into_column_ref()
        }
    }

    /// The sort keys: the sort column, if any, then the id.
    fn keys(&self, qualified: bool) -> Vec<ColumnRef> {
        self.sort
            .iter()
            .map(|(sort, _)| *sort)
            .chain([self.id])
            .map(|column| Self::column(column, qualified))
            .collect()
    }

    /// `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY keys)`.
    fn window(&self, parent: ColumnRef, qualified: bool) -> WindowStatement {
        let order = if self.descending() {
            Order::Desc
        } else {
            Order::Asc
        };
        let mut window = WindowStatement::partition_by(parent);
        for key in self.keys(qualified) {
            window.order_by(key, order.clone());
        }
        window
    }

    /// The rows after `page.after`: `(sort, id) > (value, id)`, or `id > id` for a list
    /// sorted by id alone; `<` when descending.
    fn after(&self, page: &Page, qualified: bool) -> Option<Expr> {
        let after = page.after.as_ref()?;
        let id_column = Expr::col(Self::column(self.id, qualified));
        let sort = self
            .sort
            .map(|(column, _)| Expr::col(Self::column(column, qualified)));
        // A cursor's value kind follows its order, which its scope pins; but a client can
        // forge one with the right scope and another kind, and PostgreSQL refuses to
        // compare a timestamp with text. Should they disagree, comparing by id alone is
        // the safe reading.
        let holds_time = self.sort.is_some_and(|(column, _)| {
            matches!(
                column.def().get_column_type(),
                ColumnType::TimestampWithTimeZone | ColumnType::Timestamp | ColumnType::DateTime
            )
        });
        let value = match (&sort, &after.value) {
            (Some(_), SortValue::Time(at)) if holds_time => Some(Expr::val(*at)),
            (Some(_), SortValue::Text(text)) if !holds_time => Some(Expr::val(text.clone())),
            _ => None,
        };
        let (left, right) = match (sort, value) {
            (Some(sort), Some(value)) => (
                Expr::tuple([sort, id_column]),
                Expr::tuple([value, Expr::val(after.id)]),
            ),
            _ => (id_column, Expr::val(after.id)),
        };
        Some(if self.descending() {
            left.lt(right)
        } else {
            left.gt(right)
        })
    }
}

/// One page per parent of `E`'s rows matching `filter`. Every parent asked for has an
/// entry; its `total` is set when `page.with_total` asked for it and the statement could
/// tell (not for a parent whose rows all lie before the cursor).
pub async fn page_per_parent<E>(
    db: &DatabaseConnection,
    layout: &Layout<E>,
    parents: &[Uuid],
    filter: Condition,
    page: &Page,
) -> Result<HashMap<Uuid, Paged<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::Column: Copy,
{
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let pages = page_rows(db, layout, &columns, parents, filter, page).await?;
    pages
        .into_iter()
        .map(|(parent, paged)| {
            let rows = paged
                .rows
                .iter()
                .map(|row| E::Model::from_query_result(row, ""))
                .collect::<Result<Vec<_>, DbErr>>()?;
            Ok((
                parent,
                Paged {
                    rows,
                    has_next: paged.has_next,
                    total: paged.total,
                },
            ))
        })
        .collect()
}

/// [`page_per_parent`] selecting only `columns` of `E` (besides the page's own), its rows
/// left undecoded: for a reader that needs a few columns of each row, not whole models.
pub async fn page_rows<E>(
    db: &DatabaseConnection,
    layout: &Layout<E>,
    columns: &[E::Column],
    parents: &[Uuid],
    filter: Condition,
    page: &Page,
) -> Result<HashMap<Uuid, Paged<QueryResult>>, DbErr>
where
    E: EntityTrait,
    E::Column: Copy,
{
    let statement = db
        .get_database_backend()
        .build(&in_page_order(numbered_statement(
            layout, columns, parents, filter, page,
        )));
    let rows = db.query_all_raw(statement).await?;
    collect_pages(rows, parents, page)
}

/// The rows of a [`numbered_statement`] in page order as pages by parent: every parent in `parents` has an
/// entry (see [`page_per_parent`]).
pub(crate) fn collect_pages(
    rows: Vec<QueryResult>,
    parents: &[Uuid],
    page: &Page,
) -> Result<HashMap<Uuid, Paged<QueryResult>>, DbErr> {
    let known_total = page.with_total && page.after.is_none();
    let mut pages: HashMap<Uuid, Paged<QueryResult>> = parents
        .iter()
        .map(|parent| {
            let empty = Paged {
                total: known_total.then_some(0),
                ..Paged::default()
            };
            (*parent, empty)
        })
        .collect();
    let (parent_at, total_at) = match rows.first() {
        Some(row) => (position(row, PARENT), position(row, TOTAL)),
        None => (Position::Named(PARENT), Position::Named(TOTAL)),
    };
    for row in rows {
        let parent: Uuid = read_at(&row, parent_at)?;
        let paged = pages.entry(parent).or_default();
        if page.with_total {
            let total: i64 = read_at(&row, total_at)?;
            paged.total = Some(u64::try_from(total).unwrap_or(0));
        }
        paged.rows.push(row);
    }
    let first = usize::try_from(page.first).unwrap_or(usize::MAX);
    for paged in pages.values_mut() {
        if paged.rows.len() > first {
            paged.rows.truncate(first);
            paged.has_next = true;
        }
    }
    Ok(pages)
}

/// Column `column` (a name, or a position from [`position`]) of a row of a statement built
/// here (or by the planned read path), read straight from the driver's row: the statement
/// fixes the column's type, so the driver's check of it against `T` is skipped (it is most
/// of a narrow row's decoding), and text can be borrowed. Other rows (none in practice) go
/// through sea-orm.
pub(crate) fn read<'r, T, I>(row: &'r QueryResult, column: I) -> Result<T, DbErr>
where
    T: sea_orm::TryGetable
        + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>,
    I: ColIdx,
{
    use sea_orm::sqlx::Row as _;
    let failed = |err: sea_orm::sqlx::Error| DbErr::Type(format!("column {column:?}: {err}"));
    if let Some(row) = row.try_as_pg_row() {
        return row
            .try_get_unchecked(column.as_sqlx_postgres_index())
            .map_err(failed);
    }
    if let Some(row) = row.try_as_sqlite_row() {
        return row
            .try_get_unchecked(column.as_sqlx_sqlite_index())
            .map_err(failed);
    }
    row.try_get_by(column)
}

/// [`read`] for text, borrowed from the driver's row and handed to `f`.
pub(crate) fn with_text<R, I: ColIdx>(
    row: &QueryResult,
    column: I,
    f: impl FnOnce(Option<&str>) -> R,
) -> Result<R, DbErr> {
    use sea_orm::sqlx::Row as _;
    let failed = |err: sea_orm::sqlx::Error| DbErr::Type(format!("column {column:?}: {err}"));
    if let Some(row) = row.try_as_pg_row() {
        return Ok(f(row
            .try_get_unchecked(column.as_sqlx_postgres_index())
            .map_err(failed)?));
    }
    if let Some(row) = row.try_as_sqlite_row() {
        return Ok(f(row
            .try_get_unchecked(column.as_sqlx_sqlite_index())
            .map_err(failed)?));
    }
    let text: Option<String> = row.try_get_by(column)?;
    Ok(f(text.as_deref()))
}

/// The names of a row's columns, in their order (the same for every row of a statement).
pub(crate) fn column_names(row: &QueryResult) -> Vec<&str> {
    use sea_orm::sqlx::{Column as _, Row as _};
    if let Some(row) = row.try_as_pg_row() {
        return row.columns().iter().map(|column| column.name()).collect();
    }
    if let Some(row) = row.try_as_sqlite_row() {
        return row.columns().iter().map(|column| column.name()).collect();
    }
    Vec::new()
}

/// The position of column `column` in `row` (and in every row of its statement), so that
/// the rows are read without a look-up by name each; the name where it is not found (a row
/// of another driver), for [`read`] to report or resolve.
pub(crate) fn position<'a>(row: &QueryResult, column: &'a str) -> Position<'a> {
    // A name given twice: its last place, as a look-up by name finds it.
    match column_names(row).iter().rposition(|name| *name == column) {
        Some(index) => Position::At(index),
        None => Position::Named(column),
    }
}

/// Where [`read`] finds a column: see [`position`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Position<'a> {
    At(usize),
    Named(&'a str),
}

/// [`read`] at a [`Position`].
pub(crate) fn read_at<'r, T>(row: &'r QueryResult, column: Position<'_>) -> Result<T, DbErr>
where
    T: sea_orm::TryGetable
        + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>,
{
    match column {
        Position::At(index) => read(row, index),
        Position::Named(name) => read(row, name),
    }
}

/// [`with_text`] at a [`Position`].
pub(crate) fn with_text_at<R>(
    row: &QueryResult,
    column: Position<'_>,
    f: impl FnOnce(Option<&str>) -> R,
) -> Result<R, DbErr> {
    match column {
        Position::At(index) => with_text(row, index, f),
        Position::Named(name) => with_text(row, name, f),
    }
}

/// `statement` (a [`numbered_statement`]) with its rows in page order: what
/// [`page_rows`] reads.
pub(crate) fn in_page_order(mut statement: SelectStatement) -> SelectStatement {
    statement.order_by(Alias::new(ROW_NUMBER), Order::Asc);
    statement
}

/// The statement behind [`page_rows`]: `first + 1` rows per parent, numbered in order
/// (`page_rn`), with `page_parent` (and `page_total` when the page counts), in no order
/// ([`in_page_order`] sorts them; a reader that groups the rows by parent and orders them
/// by `page_rn` itself spares the database that sort).
pub(crate) fn numbered_statement<E>(
    layout: &Layout<E>,
    columns: &[E::Column],
    parents: &[Uuid],
    filter: Condition,
    page: &Page,
) -> SelectStatement
where
    E: EntityTrait,
    E::Column: Copy,
{
    let rn = Alias::new(ROW_NUMBER);
    let numbered = if page.with_total {
        // Count first, over every matching row; then drop the rows up to the cursor and
        // number the rest.
        let mut counted = layout.base(columns, parents, filter);
        counted.expr_window_as(
            Expr::col(Asterisk).count(),
            WindowStatement::partition_by(layout.parent.clone()),
            Alias::new(TOTAL),
        );
        let mut numbered = Query::select();
        numbered
            .column(Asterisk)
            .from_subquery(counted, Alias::new("counted"))
            .expr_window_as(
                Expr::cust("ROW_NUMBER()"),
                layout.window(Alias::new(PARENT).into_column_ref(), false),
                rn.clone(),
            );
        if let Some(after) = layout.after(page, false) {
            numbered.and_where(after);
        }
        numbered
    } else {
        let mut numbered = layout.base(columns, parents, filter);
        numbered.expr_window_as(
            Expr::cust("ROW_NUMBER()"),
            layout.window(layout.parent.clone(), true),
            rn.clone(),
        );
        if let Some(after) = layout.after(page, true) {
            numbered.and_where(after);
        }
        numbered
    };

    let mut outer = Query::select();
    outer
        .column(Asterisk)
        .from_subquery(numbered, Alias::new("numbered"))
        .and_where(Expr::col(rn).lte(page.first.saturating_add(1)));
    outer
}

/// Counts `E`'s rows matching `filter` per parent, in one `GROUP BY`.
pub async fn count_per_parent<E>(
    db: &DatabaseConnection,
    layout: &Layout<E>,
    parents: &[Uuid],
    filter: Condition,
) -> Result<HashMap<Uuid, u64>, DbErr>
where
    E: EntityTrait,
    E::Column: Copy,
{
    let mut query = Query::select();
    query
        .expr(Expr::col(layout.parent.clone()))
        .expr_as(Expr::col(Asterisk).count(), Alias::new("count"))
        .from(E::default())
        .and_where(Expr::col(layout.parent.clone()).is_in(parents.iter().copied().map(Value::from)))
        .cond_where(filter)
        .group_by_col(layout.parent.clone());
    if let Some((table, on)) = &layout.join {
        query.inner_join(table.clone(), on.clone());
    }
    let statement = db.get_database_backend().build(&query);
    let rows = db.query_all_raw(statement).await?;
    let mut counts: HashMap<Uuid, u64> = parents.iter().map(|parent| (*parent, 0)).collect();
    for row in rows {
        let id: Uuid = row.try_get_by_index(0)?;
        let count: i64 = row.try_get_by_index(1)?;
        counts.insert(id, u64::try_from(count).unwrap_or(0));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use entity::{task, workspace};
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;
    use crate::connection::Cursor;

    fn all<E: EntityTrait>() -> Vec<E::Column> {
        E::Column::iter().collect()
    }

    #[test]
    fn a_page_of_some_columns_selects_only_those_and_its_own() {
        let layout = Layout::<task::Entity>::new(
            task::Column::ProjectId,
            task::Column::Id,
            Some((task::Column::CreatedAt, false)),
        );
        let sql = in_page_order(numbered_statement(
            &layout,
            &[task::Column::Name],
            &[Uuid::nil()],
            Condition::all(),
            &page(true, None),
        ))
        .to_string(PostgresQueryBuilder);
        assert!(
            sql.contains(r#"SELECT "tasks"."name", "tasks"."created_at", "tasks"."id", "tasks"."project_id" AS "page_parent""#),
            "{sql}"
        );
        assert!(!sql.contains(r#""tasks"."description""#), "{sql}");
        // The sort keys come along unasked: the window over the counted rows reads them.
        assert!(
            sql.contains(r#"ORDER BY "created_at" ASC, "id" ASC"#),
            "{sql}"
        );
    }

    fn page(with_total: bool, after: Option<Cursor>) -> Page {
        Page {
            first: 2,
            after,
            with_total,
        }
    }

    /// The statement of one page of the tasks of the nil project, in page order.
    fn tasks_page(layout: &Layout<task::Entity>, page: Page) -> SelectStatement {
        in_page_order(numbered_statement(
            layout,
            &all::<task::Entity>(),
            &[Uuid::nil()],
            Condition::all(),
            &page,
        ))
    }

    #[test]
    fn pages_number_rows_per_parent_after_the_cursor() {
        let layout = Layout::<task::Entity>::new(
            task::Column::ProjectId,
            task::Column::Id,
            Some((task::Column::Name, true)),
        );
        let after = Cursor {
            value: SortValue::Text("m".into()),
            id: Uuid::nil(),
        };
        let sql = tasks_page(&layout, page(false, Some(after))).to_string(PostgresQueryBuilder);
        assert!(
            sql.contains(r#"ROW_NUMBER() OVER ( PARTITION BY "tasks"."project_id" ORDER BY "tasks"."name" DESC, "tasks"."id" DESC )"#),
            "{sql}"
        );
        assert!(
            sql.contains(
                r#"("tasks"."name", "tasks"."id") < ('m', '00000000-0000-0000-0000-000000000000')"#
            ),
            "{sql}"
        );
        assert!(sql.contains(r#""page_rn" <= 3"#), "{sql}");
        assert!(!sql.contains("COUNT"), "{sql}");
    }

    #[test]
    fn a_counted_page_counts_before_it_skips_to_the_cursor() {
        let layout = Layout::<task::Entity>::new(task::Column::ProjectId, task::Column::Id, None);
        let after = Cursor::by_id(Uuid::nil());
        let sql = tasks_page(&layout, page(true, Some(after))).to_string(SqliteQueryBuilder);
        let count = sql.find("COUNT(*) OVER").expect("a window count");
        let cursor = sql.find(r#"WHERE "id" > "#).expect("the cursor condition");
        // The count sits in the inner query, the cursor applies to its result.
        assert!(count < cursor, "{sql}");
        assert!(
            sql.contains(r#"ROW_NUMBER() OVER ( PARTITION BY "page_parent" ORDER BY "id" ASC )"#),
            "{sql}"
        );
    }

    #[test]
    fn a_joined_parent_is_selected_and_partitioned_by() {
        let on = Expr::col((
            entity::workspace_user::Entity,
            entity::workspace_user::Column::WorkspaceId,
        ))
        .equals((workspace::Entity, workspace::Column::Id));
        let layout = Layout::<workspace::Entity> {
            parent: (
                entity::workspace_user::Entity,
                entity::workspace_user::Column::UserId,
            )
                .into_column_ref(),
            join: Some((
                sea_orm::sea_query::IntoTableRef::into_table_ref(entity::workspace_user::Entity),
                Condition::all().add(on),
            )),
            id: workspace::Column::Id,
            sort: None,
        };
        let sql = in_page_order(numbered_statement(
            &layout,
            &all::<workspace::Entity>(),
            &[Uuid::nil()],
            Condition::all(),
            &page(false, None),
        ))
        .to_string(PostgresQueryBuilder);
        assert!(
            sql.contains(r#""workspace_users"."user_id" AS "page_parent""#),
            "{sql}"
        );
        assert!(sql.contains(r#"INNER JOIN "workspace_users""#), "{sql}");
        assert!(
            sql.contains(r#"SELECT "workspaces"."id", "workspaces"."name""#),
            "{sql}"
        );
    }
}
