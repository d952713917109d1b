//! Per-parent pages in one statement: `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY …)`.
//!
//! `project.tasks(first: 20)` for 200 projects is one query, not 200: each row is numbered
//! within its parent in the requested order, the cursor condition applies before
//! numbering, and the outer query keeps `first + 1` rows per parent (the extra row says
//! whether a next page exists). Both SQLite (3.25+) and PostgreSQL run it; row-value
//! comparison `(sort, id) > (?, ?)` needs SQLite 3.15+.

use std::collections::HashMap;

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Order, Query, WindowStatement,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Iterable, Value};
use uuid::Uuid;

use crate::connection::{Page, Paged, SortValue};

/// How a child list is laid out in its table.
pub struct Layout<C> {
    pub parent: C,
    pub id: C,
    /// The sort column and whether it runs descending; `None` sorts by id alone.
    pub sort: Option<(C, bool)>,
}

/// One page per parent of `E`'s rows matching `filter`.
pub async fn page_per_parent<E>(
    db: &DatabaseConnection,
    layout: Layout<E::Column>,
    parents: impl IntoIterator<Item = Uuid>,
    filter: Condition,
    page: &Page,
    parent_of: impl Fn(&E::Model) -> Uuid,
) -> Result<HashMap<Uuid, Paged<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::Column: Copy,
{
    let descending = layout.sort.is_some_and(|(_, desc)| desc);
    let order = if descending { Order::Desc } else { Order::Asc };
    let mut window = WindowStatement::partition_by(layout.parent);
    if let Some((column, _)) = layout.sort {
        window.order_by(column, order.clone());
    }
    window.order_by(layout.id, order);

    let mut inner = Query::select();
    inner
        .columns(E::Column::iter())
        .from(E::default())
        .and_where(Expr::col(layout.parent).is_in(parents.into_iter().map(Value::from)))
        .cond_where(filter)
        .expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("rn"));
    if let Some(after) = &page.after {
        let id = Expr::val(after.id);
        let condition = match (&layout.sort, &after.value) {
            (Some((column, _)), SortValue::Time(at)) => {
                row_after(column, Expr::val(*at), layout.id, id, descending)
            }
            (Some((column, _)), SortValue::Text(text)) => {
                row_after(column, Expr::val(text.clone()), layout.id, id, descending)
            }
            _ if descending => Expr::col(layout.id).lt(id),
            _ => Expr::col(layout.id).gt(id),
        };
        inner.and_where(condition);
    }

    let mut outer = Query::select();
    outer
        .column(Asterisk)
        .from_subquery(inner, Alias::new("numbered"))
        .and_where(Expr::col(Alias::new("rn")).lte(page.first.saturating_add(1)))
        .order_by(Alias::new("rn"), Order::Asc);
    let statement = db.get_database_backend().build(&outer);
    let rows = E::find().from_raw_sql(statement).all(db).await?;

    let mut pages: HashMap<Uuid, Paged<E::Model>> = HashMap::new();
    for row in rows {
        pages.entry(parent_of(&row)).or_default().rows.push(row);
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

/// `(sort, id) > (value, id)`, or `<` when descending.
fn row_after<C: sea_orm::sea_query::IntoColumnRef + Copy>(
    sort: &C,
    value: Expr,
    id_column: C,
    id: Expr,
    descending: bool,
) -> Expr {
    let left = Expr::tuple([Expr::col(*sort), Expr::col(id_column)]);
    let right = Expr::tuple([value, id]);
    if descending {
        left.lt(right)
    } else {
        left.gt(right)
    }
}

/// Counts `E`'s rows matching `filter` per parent, in one `GROUP BY`.
pub async fn count_per_parent<E>(
    db: &DatabaseConnection,
    parent: E::Column,
    parents: impl IntoIterator<Item = Uuid>,
    filter: Condition,
) -> Result<HashMap<Uuid, u64>, DbErr>
where
    E: EntityTrait,
    E::Column: Copy,
{
    let mut query = Query::select();
    query
        .column(parent)
        .expr_as(Expr::col(Asterisk).count(), Alias::new("count"))
        .from(E::default())
        .and_where(Expr::col(parent).is_in(parents.into_iter().map(Value::from)))
        .cond_where(filter)
        .group_by_col(parent);
    let statement = db.get_database_backend().build(&query);
    let rows = db.query_all_raw(statement).await?;
    let mut counts = HashMap::new();
    for row in rows {
        let id: Uuid = row.try_get_by_index(0)?;
        let count: i64 = row.try_get_by_index(1)?;
        counts.insert(id, u64::try_from(count).unwrap_or(0));
    }
    Ok(counts)
}
