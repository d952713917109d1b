//! The rows of the plan's statements, read by column position: where each column sits is
//! found once per statement, from its first row, instead of by name for every value.

use sea_orm::{DbErr, QueryResult};

use crate::loaders::pages::{self, Position};

/// How many column names [`slot`] knows.
const SLOTS: usize = 19;

/// The slot of a column the plan reads (a scalar's, a reference's key, a cursor's).
fn slot(column: &str) -> Option<usize> {
    let slot = match column {
        "id" => 0,
        "name" => 1,
        "description" => 2,
        "created_at" => 3,
        "updated_at" => 4,
        "deadline" => 5,
        "status" => 6,
        "hours" => 7,
        "logged_at" => 8,
        "contact_email" => 9,
        "contact_phone" => 10,
        "email" => 11,
        "phone" => 12,
        "workspace_id" => 13,
        "client_id" => 14,
        "project_id" => 15,
        "task_id" => 16,
        "user_id" => 17,
        "page_parent" => 18,
        _ => return None,
    };
    Some(slot)
}

/// Where the columns the plan reads sit in the rows of one statement. Columns it does not
/// know by slot are read by name.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Columns([Option<u16>; SLOTS]);

impl Columns {
    /// The positions in `row`'s statement (a name given twice: its last place, as a look-up
    /// by name finds it).
    pub(super) fn of(row: &QueryResult) -> Self {
        let mut at = [None; SLOTS];
        for (index, name) in pages::column_names(row).into_iter().enumerate() {
            if let (Some(slot), Ok(index)) = (slot(name), u16::try_from(index)) {
                at[slot] = Some(index);
            }
        }
        Self(at)
    }

    /// The positions in the statement of the first of `rows` (all of one statement).
    pub(super) fn of_first<'r>(rows: impl IntoIterator<Item = &'r QueryResult>) -> Self {
        rows.into_iter().next().map(Self::of).unwrap_or_default()
    }

    fn position<'a>(&self, column: &'a str) -> Position<'a> {
        match slot(column).and_then(|slot| self.0[slot]) {
            Some(index) => Position::At(usize::from(index)),
            None => Position::Named(column),
        }
    }

    /// Column `column` of `row` (see [`pages::read`]).
    pub(super) fn read<'r, T>(&self, row: &'r QueryResult, column: &str) -> Result<T, DbErr>
    where
        T: sea_orm::TryGetable
            + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
            + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>,
    {
        pages::read_at(row, self.position(column))
    }

    /// Text column `column` of `row`, borrowed and handed to `f`.
    pub(super) fn with_text<R>(
        &self,
        row: &QueryResult,
        column: &str,
        f: impl FnOnce(Option<&str>) -> R,
    ) -> Result<R, DbErr> {
        pages::with_text_at(row, self.position(column), f)
    }
}
