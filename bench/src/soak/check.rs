//! The durability checks: the clients' tally against the rows, read straight from the
//! database (not through the API) once the server is gone.

use std::collections::HashMap;

use anyhow::Result;
use entity::time_log;
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
};
use uuid::Uuid;

use super::client::{Tally, Write};
use crate::seed as dataset;

/// One line of the verdict.
pub struct Check {
    pub passed: bool,
    pub what: String,
}

fn check(passed: bool, what: String) -> Check {
    Check { passed, what }
}

/// Reads the time logs of the run's users and compares them with what the clients were
/// told. `killed`: the server was killed mid-run, so transport errors are expected and
/// writes whose answer was lost may or may not be there.
pub async fn run(
    db: &DatabaseConnection,
    users: &[Uuid],
    tallies: &[Tally],
    killed: bool,
) -> Result<Vec<Check>> {
    let rows = time_log::Entity::find()
        .filter(time_log::Column::UserId.is_in(users.iter().copied()))
        .all(db)
        .await?;
    let seeded = time_log::Entity::find()
        .filter(time_log::Column::UserId.is_not_in(users.iter().copied()))
        .count(db)
        .await?;
    let by_id: HashMap<Uuid, &time_log::Model> = rows.iter().map(|row| (row.id, row)).collect();

    let acknowledged: Vec<(Uuid, &Write)> = tallies
        .iter()
        .enumerate()
        .flat_map(|(n, t)| t.acknowledged.iter().map(move |w| (users[n], w)))
        .collect();
    // Writes that may be there: their answer was lost, or named another log.
    let maybe: HashMap<Uuid, &Write> = tallies
        .iter()
        .flat_map(|t| t.unknown.iter().chain(t.mismatched.iter().map(|(w, _)| w)))
        .map(|w| (w.id, w))
        .collect();
    let ack_ids: HashMap<Uuid, &Write> = acknowledged.iter().map(|(_, w)| (w.id, *w)).collect();

    let mut checks = Vec::new();

    // 1. Every acknowledged write is there, as it was sent.
    let present = acknowledged
        .iter()
        .filter(|(user, w)| {
            by_id.get(&w.id).is_some_and(|row| {
                row.user_id == *user && row.task_id == w.task && row.hours == w.hours
            })
        })
        .count();
    checks.push(check(
        present == acknowledged.len(),
        format!(
            "every acknowledged logTime is in the database with its author, task and hours \
             ({present} of {})",
            acknowledged.len()
        ),
    ));

    // 2. Nothing is there that the clients were not told of or could not know about.
    let strays: Vec<Uuid> = rows
        .iter()
        .filter(|row| !ack_ids.contains_key(&row.id) && !maybe.contains_key(&row.id))
        .map(|row| row.id)
        .collect();
    let present_unknown: Vec<&Write> = rows
        .iter()
        .filter(|row| !ack_ids.contains_key(&row.id))
        .filter_map(|row| maybe.get(&row.id).copied())
        .collect();
    checks.push(check(
        strays.is_empty(),
        format!(
            "every run time log in the database was acknowledged{} ({} rows: {} acknowledged, \
             {} of the {} unknown writes, {} neither{})",
            if killed { " or its answer lost" } else { "" },
            rows.len(),
            rows.len() - strays.len() - present_unknown.len(),
            present_unknown.len(),
            maybe.len(),
            strays.len(),
            match strays.first() {
                Some(id) => format!(", e.g. {id}"),
                None => String::new(),
            }
        ),
    ));

    // 3. Counts.
    let (acked, unknown) = (acknowledged.len(), maybe.len());
    let count_ok = if killed {
        acked <= rows.len() && rows.len() <= acked + unknown
    } else {
        rows.len() == acked && unknown == 0
    };
    checks.push(check(
        count_ok,
        if killed {
            format!(
                "count: acknowledged {acked} ≤ rows {} ≤ acknowledged + unknown {}",
                rows.len(),
                acked + unknown
            )
        } else {
            format!("count: rows {} = acknowledged {acked}", rows.len())
        },
    ));

    // 4. Sums of hours.
    let db_hours: i64 = rows.iter().map(|row| i64::from(row.hours)).sum();
    let ack_hours = hours(acknowledged.iter().map(|(_, w)| *w));
    let unknown_hours = hours(maybe.values().copied());
    let present_unknown_hours = hours(present_unknown.iter().copied());
    let hours_ok = if killed {
        db_hours == ack_hours + present_unknown_hours
            && ack_hours <= db_hours
            && db_hours <= ack_hours + unknown_hours
    } else {
        db_hours == ack_hours
    };
    checks.push(check(
        hours_ok,
        if killed {
            format!(
                "hours: {db_hours} h in the database = {ack_hours} acknowledged + \
                 {present_unknown_hours} of unknown writes present; {ack_hours} ≤ {db_hours} ≤ {}",
                ack_hours + unknown_hours
            )
        } else {
            format!("hours: {db_hours} h in the database = {ack_hours} h acknowledged")
        },
    ));

    // 5. Writes the server refused or never received are not there.
    let refused: Vec<&Write> = tallies
        .iter()
        .flat_map(|t| t.rejected.iter().chain(&t.not_sent))
        .collect();
    let refused_present = refused.iter().filter(|w| by_id.contains_key(&w.id)).count();
    checks.push(check(
        refused_present == 0,
        format!(
            "no logTime answered with errors or refused at connect is in the database \
             ({refused_present} of {})",
            refused.len()
        ),
    ));

    // 6. The seed is untouched.
    let expected =
        (dataset::WORKSPACES * dataset::PROJECTS * dataset::TASKS * dataset::LOGS) as u64;
    checks.push(check(
        seeded == expected,
        format!(
            "the seeded time logs are all there and no others appeared ({seeded} of {expected})"
        ),
    ));

    // 7. The server answered every request it answered properly.
    let server_errors: usize = tallies
        .iter()
        .flat_map(|t| t.kinds.values())
        .flat_map(|k| k.server_errors.values())
        .sum();
    checks.push(check(
        server_errors == 0,
        format!("no 5xx answers ({server_errors})"),
    ));
    let rejected: usize = tallies
        .iter()
        .flat_map(|t| t.kinds.values())
        .map(|k| k.rejected)
        .sum();
    checks.push(check(
        rejected == 0,
        format!("no answer with GraphQL errors or a 4xx ({rejected})"),
    ));
    let mismatched: usize = tallies.iter().map(|t| t.mismatched.len()).sum();
    checks.push(check(
        mismatched == 0,
        format!("every logTime answer names the log sent ({mismatched} did not)"),
    ));
    if !killed {
        let transport: usize = tallies
            .iter()
            .flat_map(|t| t.kinds.values())
            .flat_map(|k| k.transport.values())
            .sum();
        checks.push(check(
            transport == 0,
            format!("no transport errors without a kill ({transport})"),
        ));
    }
    Ok(checks)
}

fn hours<'a>(writes: impl Iterator<Item = &'a Write>) -> i64 {
    writes.map(|w| i64::from(w.hours)).sum()
}
