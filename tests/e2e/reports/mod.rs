//! Time reports and a user's time logs: `timeReport` for every grouping against sums
//! computed here, across days and ISO weeks; who sees whose hours; `User.timeLogs` as each
//! kind of viewer sees it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use entity::role::Role;
use serde_json::{Value, json};
use tests::{Account, TestApp};
use uuid::Uuid;

use crate::seed::{Seed, user_id};

mod time_report;
mod user_time_logs;

/// Wednesday 8 January 2025, noon UTC: the ISO week began on Monday the 6th.
fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 8, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

/// Minutes after [`base`].
const WED: i64 = 0;
const THU: i64 = 24 * 60;
/// Sunday 12 January, 01:00: still the week of Monday the 6th.
const SUN: i64 = 4 * 24 * 60 - 11 * 60;
/// Monday 13 January, 00:30: the next week.
const MON: i64 = 4 * 24 * 60 + 12 * 60 + 30;
/// Wednesday 15 January, noon.
const NEXT_WED: i64 = 7 * 24 * 60;

/// One seeded log, as the report must see it.
struct Log {
    user: Uuid,
    client: Uuid,
    project: Uuid,
    task: Uuid,
    hours: i64,
    at: DateTime<Utc>,
}

impl Log {
    /// The log's value of a `TimeReportGroup`.
    fn key(&self, group: &str) -> String {
        let date = self.at.date_naive();
        match group {
            "USER" => self.user.to_string(),
            "CLIENT" => self.client.to_string(),
            "PROJECT" => self.project.to_string(),
            "TASK" => self.task.to_string(),
            "DAY" => date.format("%Y-%m-%d").to_string(),
            "WEEK" => {
                let monday =
                    date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
                monday.format("%Y-%m-%d").to_string()
            }
            other => panic!("no group {other}"),
        }
    }
}

/// The rows `groups` must give over `logs`: keys in `groups` order, rows sorted by them.
/// (Ids sort as text the way the databases sort UUIDs: hex digits, hyphens in place.)
fn expected(logs: &[&Log], groups: &[&str]) -> Vec<(Vec<String>, i64)> {
    let mut sums: BTreeMap<Vec<String>, i64> = BTreeMap::new();
    for log in logs {
        let key = groups.iter().map(|group| log.key(group)).collect();
        *sums.entry(key).or_default() += log.hours;
    }
    if groups.is_empty() && sums.is_empty() {
        sums.insert(Vec::new(), 0);
    }
    sums.into_iter().collect()
}

const REPORT: &str =
    "query R($ws: ID!, $groupBy: [TimeReportGroup!]!, $from: DateTime, $to: DateTime) {
    timeReport(workspaceId: $ws, groupBy: $groupBy, from: $from, to: $to) {
        user { id } client { id } project { id } task { id } day week hours
    }
}";

/// The report's rows as (keys in `groups` order, hours); fields not grouped by are null.
fn rows(body: &Value, groups: &[&str]) -> Vec<(Vec<String>, i64)> {
    let field = |group: &str| match group {
        "USER" => "user",
        "CLIENT" => "client",
        "PROJECT" => "project",
        "TASK" => "task",
        "DAY" => "day",
        "WEEK" => "week",
        other => panic!("no group {other}"),
    };
    let all = ["USER", "CLIENT", "PROJECT", "TASK", "DAY", "WEEK"];
    body["data"]["timeReport"]
        .as_array()
        .unwrap_or_else(|| panic!("no report in {body}"))
        .iter()
        .map(|row| {
            for other in all.iter().filter(|group| !groups.contains(group)) {
                assert_eq!(row[field(other)], Value::Null, "{other} not grouped by");
            }
            let keys = groups
                .iter()
                .map(|group| {
                    let value = &row[field(group)];
                    value["id"]
                        .as_str()
                        .or_else(|| value.as_str())
                        .unwrap_or_else(|| panic!("no {group} in {row}"))
                        .to_owned()
                })
                .collect();
            (keys, row["hours"].as_i64().expect("hours"))
        })
        .collect()
}

/// Acme, owned by Ann, with Bob as a workspace USER in two of its three projects and Cid
/// as its ADMIN; hours across days and weeks; and another workspace whose hours must never
/// show.
struct World {
    acme: Uuid,
    ann: Account,
    bob: Account,
    cid: Account,
    dan: Account,
    logs: Vec<Log>,
    projects: Vec<Uuid>,
}

async fn world(app: &TestApp) -> World {
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let cid = app.sign_up("cid@example.io").await;
    let dan = app.sign_up("dan@example.io").await;
    let (ann_id, bob_id) = (user_id(&ann), user_id(&bob));
    let seed = Seed {
        db: &app.db,
        now: base(),
    };
    let members = [
        (ann_id, Role::Owner),
        (bob_id, Role::User),
        (user_id(&cid), Role::Admin),
    ];
    let (acme, globex) = seed.workspace(&members).await;
    let initech = seed.client(acme.id, "Initech").await;
    let mut projects = seed.projects(&acme, globex.id, &[None]).await;
    projects.extend(seed.projects(&acme, initech.id, &[None]).await);
    projects.extend(seed.projects(&acme, globex.id, &[None]).await);
    let clients = [globex.id, initech.id, globex.id];
    // Bob works on the first two; the third he has left (his 7 h there stay with it).
    for project in &projects[..2] {
        seed.project_member(*project, bob_id, Role::User).await;
    }
    let tasks = seed.tasks(&projects, 2).await;
    let plan: [(usize, Uuid, i32, i64); 8] = [
        (0, bob_id, 3, WED),
        (1, ann_id, 2, WED + 60),
        (2, bob_id, 4, THU),
        (3, ann_id, 5, SUN),
        (4, ann_id, 6, NEXT_WED),
        (5, bob_id, 7, MON),
        (0, bob_id, 1, NEXT_WED + 30),
        (2, ann_id, 8, MON + 60),
    ];
    let rows: Vec<_> = plan
        .iter()
        .map(|(task, user, hours, at)| (tasks[*task].1, *user, *hours, *at))
        .collect();
    seed.logs(&rows).await;
    let logs = plan
        .iter()
        .map(|(task, user, hours, at)| {
            let project = tasks[*task].0;
            let index = projects
                .iter()
                .position(|p| *p == project)
                .expect("project");
            Log {
                user: *user,
                client: clients[index],
                project,
                task: tasks[*task].1,
                hours: i64::from(*hours),
                at: base() + Duration::minutes(*at),
            }
        })
        .collect();

    // Dan's own workspace, with hours on the same days.
    let (other, other_client) = seed.workspace(&[(user_id(&dan), Role::Owner)]).await;
    let other_projects = seed.projects(&other, other_client.id, &[None]).await;
    let other_tasks = seed.tasks(&other_projects, 1).await;
    seed.logs(&[(other_tasks[0].1, user_id(&dan), 9, WED)])
        .await;
    World {
        acme: acme.id,
        ann,
        bob,
        cid,
        dan,
        logs,
        projects,
    }
}

/// The seeded logs' span, for a report that names no range of its own (the default, the
/// 366 days before now, would miss them).
fn seeded_range() -> Value {
    json!({
        "from": (base() - Duration::days(7)).to_rfc3339(),
        "to": (base() + Duration::days(30)).to_rfc3339(),
    })
}

async fn report(app: &TestApp, who: &Account, ws: Uuid, groups: &[&str], range: Value) -> Value {
    let range = if range.as_object().is_some_and(|range| range.is_empty()) {
        seeded_range()
    } else {
        range
    };
    let mut variables = json!({ "ws": ws.to_string(), "groupBy": groups });
    if let (Some(variables), Some(range)) = (variables.as_object_mut(), range.as_object()) {
        variables.extend(range.clone());
    }
    app.graphql_as(Some(&who.token), REPORT, variables)
        .await
        .body
}
