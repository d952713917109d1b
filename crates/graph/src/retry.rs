//! Safe retries of creates that carry a client-chosen id.
//!
//! An SPA sends `id` with a create so it can render the object at once and resend the
//! mutation after a timeout. Every attempt with the same id and the same input must answer
//! with the one object, however the attempts interleave; the same id with different input is
//! `CONFLICT` on `id`.

use std::future::Future;

use uuid::Uuid;

use crate::error::{Error, Result};

/// Creates through `insert` unless `id` is taken. `find` reads the object holding an id;
/// `same` says whether it is what this input would create.
///
/// The row is read before inserting (the common retry: the first attempt finished) and
/// again after an insert fails, because a concurrent attempt may have won the race: the
/// insert then fails on the primary key or a unique name, and the winner's row decides.
pub async fn create_once<M, Found, Inserted>(
    id: Option<Uuid>,
    find: impl Fn(Uuid) -> Found,
    same: impl Fn(&M) -> bool,
    insert: impl FnOnce() -> Inserted,
) -> Result<M>
where
    Found: Future<Output = Result<Option<M>>>,
    Inserted: Future<Output = Result<M>>,
{
    let Some(id) = id else {
        return insert().await;
    };
    if let Some(existing) = find(id).await? {
        return settle(existing, &same);
    }
    match insert().await {
        Ok(created) => Ok(created),
        Err(err) => match find(id).await? {
            Some(existing) => settle(existing, &same),
            None => Err(err),
        },
    }
}

fn settle<M>(existing: M, same: &impl Fn(&M) -> bool) -> Result<M> {
    if same(&existing) {
        Ok(existing)
    } else {
        Err(Error::id_taken())
    }
}
