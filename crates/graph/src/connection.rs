//! Relay connections: page arguments, opaque cursors and `pageInfo`.
//!
//! A cursor names its connection, its parent and its order besides the position, so a
//! cursor from one list is refused by another instead of silently paging the wrong rows.
//! Positions are the sort value and the row id: ids break ties, so a page boundary is
//! stable while rows are added.

// Over ~450 lines with its unit tests (the cursor and page tests), which stay beside the code
// they pin.

use std::sync::Arc;

use async_graphql::futures_util::future::BoxFuture;
use async_graphql::{Context, Object};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike as _, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};

/// `first` when the client does not say.
pub const DEFAULT_FIRST: u64 = 50;
/// The largest `first` a client may ask for; more is an error, not a silent cut.
pub const MAX_FIRST: u64 = 100;

impl Cursor {
    /// Row `id`'s position in a list ordered by id alone.
    pub fn by_id(id: Uuid) -> Self {
        Self {
            value: SortValue::Id,
            id,
        }
    }
}

/// A connection's `totalCount`: known when it came with the page, else counted only when a
/// client asks for it.
#[derive(Clone)]
pub enum Count {
    Known(u64),
    Later(Arc<dyn LaterCount>),
}

/// A count to load when asked for: a loader's count key ([`crate::loaders`] implements it
/// for every one).
pub trait LaterCount: Send + Sync {
    fn load<'a>(&'a self, ctx: &'a Context<'_>) -> BoxFuture<'a, Result<u64>>;
}

impl Count {
    /// The count `key` loads, when asked for.
    pub fn later(key: impl LaterCount + 'static) -> Self {
        Self::Later(Arc::new(key))
    }

    /// The count.
    pub async fn load(&self, ctx: &Context<'_>) -> Result<u64> {
        match self {
            Self::Known(count) => Ok(*count),
            Self::Later(key) => key.load(ctx).await,
        }
    }
}

/// The sort value a cursor carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SortValue {
    /// Ordered by id alone.
    Id,
    Time(DateTime<Utc>),
    Text(String),
}

/// A position in a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub value: SortValue,
    pub id: Uuid,
}

/// What a cursor belongs to: one connection of one parent, in one order.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub connection: &'a str,
    pub parent: Uuid,
    pub order: &'a str,
}

/// A validated forward page request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    pub first: u64,
    pub after: Option<Cursor>,
    /// Whether the client also asked for `totalCount`: the page's statement then counts too.
    pub with_total: bool,
}

impl Page {
    /// Checks `first` (0–100, default 50) and decodes `after` within `scope`.
    pub fn forward(first: Option<i32>, after: Option<&str>, scope: Scope<'_>) -> Result<Self> {
        let first = match first {
            None => DEFAULT_FIRST,
            Some(n) if n < 0 => {
                return Err(Error::bad_input("first", "first must not be negative"));
            }
            Some(n) if u64::from(n.unsigned_abs()) > MAX_FIRST => {
                return Err(Error::bad_input(
                    "first",
                    format!("first must be at most {MAX_FIRST}"),
                ));
            }
            Some(n) => u64::from(n.unsigned_abs()),
        };
        let after = after.map(|cursor| decode(cursor, scope)).transpose()?;
        Ok(Self {
            first,
            after,
            with_total: false,
        })
    }

    /// The same page, counting the whole list too when `with_total`.
    #[must_use]
    pub fn counting(self, with_total: bool) -> Self {
        Self { with_total, ..self }
    }
}

/// What a connection field's selection asks for, so that only that is loaded: a client
/// asking for `totalCount` alone gets one `GROUP BY`, one asking for rows and the count gets
/// both from one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// `edges`, `nodes` or `pageInfo`.
    pub rows: bool,
    /// `totalCount`.
    pub total: bool,
}

impl Selection {
    /// The selection of the connection field `ctx` resolves.
    pub fn of(ctx: &Context<'_>) -> Self {
        let look = ctx.look_ahead();
        Self {
            rows: ["edges", "nodes", "pageInfo"]
                .into_iter()
                .any(|field| look.field(field).exists()),
            total: look.field("totalCount").exists(),
        }
    }
}

/// The opaque text of `cursor` within `scope`.
pub fn encode(cursor: &Cursor, scope: Scope<'_>) -> String {
    let value = match &cursor.value {
        SortValue::Id => "i:".to_owned(),
        SortValue::Time(at) => format!("t:{}", at.timestamp_micros()),
        SortValue::Text(text) => format!("s:{}", URL_SAFE_NO_PAD.encode(text)),
    };
    let plain = format!(
        "v1|{}|{}|{}|{value}|{}",
        scope.connection, scope.parent, scope.order, cursor.id
    );
    URL_SAFE_NO_PAD.encode(plain)
}

/// Reads a cursor made by [`encode`] for the same `scope`; anything else is
/// `BAD_USER_INPUT` on `after`.
pub fn decode(text: &str, scope: Scope<'_>) -> Result<Cursor> {
    let invalid = || Error::bad_input("after", "after is not a cursor of this connection");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let plain = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<&str> = plain.split('|').collect();
    let [version, connection, parent, order, value, id] = parts.as_slice() else {
        return Err(invalid());
    };
    if *version != "v1"
        || *connection != scope.connection
        || *parent != scope.parent.to_string()
        || *order != scope.order
    {
        return Err(invalid());
    }
    let value = match value.split_once(':') {
        Some(("i", "")) => SortValue::Id,
        // Only values the server could have put there: an instant of years 0–9999 (what
        // RFC 3339 spells, and PostgreSQL stores) and text without NUL (which PostgreSQL's
        // text can't hold). A forged cursor with anything else is refused here rather
        // than by the database.
        Some(("t", micros)) => micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_micros)
            .filter(|at| (0..=9999).contains(&at.year()))
            .map(SortValue::Time)
            .ok_or_else(invalid)?,
        Some(("s", text)) => URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|text| !text.contains('\0'))
            .map(SortValue::Text)
            .ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok(Cursor { value, id })
}

/// Which way a list runs.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// A [`Scope`] owned by the page it encodes cursors for.
#[derive(Debug)]
pub struct PageScope {
    connection: String,
    parent: Uuid,
    order: String,
}

impl PageScope {
    pub fn new(scope: Scope<'_>) -> Arc<Self> {
        Arc::new(Self {
            connection: scope.connection.to_owned(),
            parent: scope.parent,
            order: scope.order.to_owned(),
        })
    }

    /// The opaque text of `cursor`, made only when a client selects it: a wide tree has
    /// thousands of rows, and most queries ask for `nodes`, not cursors.
    pub fn encode(&self, cursor: &Cursor) -> String {
        encode(
            cursor,
            Scope {
                connection: &self.connection,
                parent: self.parent,
                order: &self.order,
            },
        )
    }
}

pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start: Option<Cursor>,
    pub end: Option<Cursor>,
    pub scope: Arc<PageScope>,
}

/// Where a page sits in its connection.
#[Object]
impl PageInfo {
    /// More items follow this page. Paging backward (`last`/`before`, as `messages`
    /// allows), whether the page was asked for with `before`.
    async fn has_next_page(&self) -> bool {
        self.has_next_page
    }

    /// Items precede this page. Paging forward (`first`/`after`), whether the page was
    /// asked for with `after` (as Relay's specification allows: finding out more would cost
    /// a statement); paging backward (`last`/`before`), whether more items precede it.
    async fn has_previous_page(&self) -> bool {
        self.has_previous_page
    }

    /// The opaque cursor of the first item, if any; pass it as `before` (with `last`) for
    /// the page before, where the connection pages backward.
    async fn start_cursor(&self) -> Option<String> {
        self.start.as_ref().map(|cursor| self.scope.encode(cursor))
    }

    /// The opaque cursor of the last item, if any; pass it as `after` for the next page.
    async fn end_cursor(&self) -> Option<String> {
        self.end.as_ref().map(|cursor| self.scope.encode(cursor))
    }
}

/// One page of rows for one parent, as a loader returns it.
#[derive(Debug, Clone)]
pub struct Paged<M> {
    pub rows: Vec<M>,
    pub has_next: bool,
    /// The whole list's size, when it was asked for and came with the page.
    pub total: Option<u64>,
}

impl<M> Default for Paged<M> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            has_next: false,
            total: None,
        }
    }
}

/// Declares `$connection` and `$edge` for node type `$node`: `edges { cursor node }`,
/// `nodes`, `pageInfo` and `totalCount`, the count loaded only when asked for.
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty, $doc:literal) => {
        #[doc = concat!("A page of ", $doc, ".")]
        pub struct $connection {
            pub edges: Vec<$edge>,
            pub page_info: $crate::connection::PageInfo,
            pub total: $crate::connection::Count,
        }

        #[doc = concat!("A page of ", $doc, ".")]
        #[async_graphql::Object]
        impl $connection {
            /// The items of this page with their cursors.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            /// The items of this page.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|edge| &edge.node).collect()
            }

            /// Where this page sits.
            async fn page_info(&self) -> &$crate::connection::PageInfo {
                &self.page_info
            }

            /// How many items the whole list holds (all pages, with the same filter).
            async fn total_count(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> $crate::error::Result<u64> {
                self.total.load(ctx).await
            }
        }

        #[doc = concat!("One of ", $doc, ", with its cursor.")]
        pub struct $edge {
            pub position: $crate::connection::Cursor,
            pub scope: std::sync::Arc<$crate::connection::PageScope>,
            pub node: $node,
        }

        #[doc = concat!("One of ", $doc, ", with its cursor.")]
        #[async_graphql::Object]
        impl $edge {
            /// An opaque cursor: pass it as `after` to continue after this item. It is valid
            /// only for the list it came from; another list, or the same one in another
            /// order, refuses it with `BAD_USER_INPUT`.
            async fn cursor(&self) -> String {
                self.scope.encode(&self.position)
            }

            /// The item at this cursor.
            async fn node(&self) -> &$node {
                &self.node
            }
        }

        impl $connection {
            /// Builds the page from loaded rows and the page they answer (as
            /// [`crate::loaders::connection_page`] gives them). `total` is how to count the
            /// list when the page did not come with its count.
            pub fn build<M>(
                (paged, page): ($crate::connection::Paged<M>, $crate::connection::Page),
                scope: $crate::connection::Scope<'_>,
                cursor_of: impl Fn(&M) -> $crate::connection::Cursor,
                node_of: impl Fn(M) -> $node,
                total: $crate::connection::Count,
            ) -> Self {
                let total = paged.total.map_or(total, $crate::connection::Count::Known);
                let scope = $crate::connection::PageScope::new(scope);
                let edges: Vec<$edge> = paged
                    .rows
                    .into_iter()
                    .map(|row| $edge {
                        position: cursor_of(&row),
                        scope: scope.clone(),
                        node: node_of(row),
                    })
                    .collect();
                let page_info = $crate::connection::PageInfo {
                    has_next_page: paged.has_next,
                    has_previous_page: page.after.is_some(),
                    start: edges.first().map(|edge| edge.position.clone()),
                    end: edges.last().map(|edge| edge.position.clone()),
                    scope,
                };
                Self {
                    edges,
                    page_info,
                    total,
                }
            }
        }
    };
}

pub(crate) use connection_types;

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(parent: Uuid) -> Scope<'static> {
        Scope {
            connection: "Project.tasks",
            parent,
            order: "NAME_ASC",
        }
    }

    #[test]
    fn forged_values_the_database_could_not_compare_are_refused() {
        let parent = Uuid::now_v7();
        let forge = |value: &str| {
            URL_SAFE_NO_PAD.encode(format!(
                "v1|Project.tasks|{parent}|NAME_ASC|{value}|{}",
                Uuid::now_v7()
            ))
        };
        for value in [
            format!("s:{}", URL_SAFE_NO_PAD.encode("a\0b")),
            "t:-210000000000000000".to_owned(),
            "t:300000000000000000".to_owned(),
        ] {
            assert!(
                decode(&forge(&value), scope(parent)).is_err(),
                "{value} is refused"
            );
        }
        assert!(decode(&forge("t:0"), scope(parent)).is_ok());
    }

    #[test]
    fn cursors_round_trip_within_their_scope() {
        let parent = Uuid::now_v7();
        for value in [
            SortValue::Id,
            SortValue::Time(DateTime::<Utc>::from_timestamp_micros(1_790_000_000_123_456).unwrap()),
            SortValue::Text("Zoë | draft".into()),
        ] {
            let cursor = Cursor {
                value,
                id: Uuid::now_v7(),
            };
            let text = encode(&cursor, scope(parent));
            assert_eq!(decode(&text, scope(parent)).unwrap(), cursor);
        }
    }

    #[test]
    fn cursors_of_another_connection_parent_or_order_are_refused() {
        let parent = Uuid::now_v7();
        let cursor = Cursor {
            value: SortValue::Id,
            id: Uuid::now_v7(),
        };
        let text = encode(&cursor, scope(parent));
        let others = [
            scope(Uuid::now_v7()),
            Scope {
                connection: "Task.timeLogs",
                ..scope(parent)
            },
            Scope {
                order: "NAME_DESC",
                ..scope(parent)
            },
        ];
        for other in others {
            assert!(matches!(
                decode(&text, other),
                Err(Error::BadUserInput { ref field, .. }) if field == "after"
            ));
        }
        assert!(decode("not a cursor", scope(parent)).is_err());
    }

    #[test]
    fn first_is_capped_not_cut() {
        let parent = Uuid::now_v7();
        assert_eq!(Page::forward(None, None, scope(parent)).unwrap().first, 50);
        assert_eq!(
            Page::forward(Some(100), None, scope(parent)).unwrap().first,
            100
        );
        assert_eq!(
            Page::forward(Some(0), None, scope(parent)).unwrap().first,
            0
        );
        for bad in [101, -1] {
            assert!(matches!(
                Page::forward(Some(bad), None, scope(parent)),
                Err(Error::BadUserInput { ref field, .. }) if field == "first"
            ));
        }
    }
}
