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

#[tokio::test]
async fn time_report_sums_every_grouping_for_owners_and_admins() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let all: Vec<&Log> = w.logs.iter().collect();
    let groupings: [&[&str]; 9] = [
        &["USER"],
        &["CLIENT"],
        &["PROJECT"],
        &["TASK"],
        &["DAY"],
        &["WEEK"],
        &["PROJECT", "DAY"],
        &["WEEK", "USER", "CLIENT"],
        &[],
    ];
    for groups in groupings {
        let body = report(&app, &w.ann, w.acme, groups, json!({})).await;
        let want = expected(&all, groups);
        assert_eq!(rows(&body, groups), want, "grouped by {groups:?}: {body}");
    }
    // The seeded spread is what the test claims: two ISO weeks, a Sunday in the first.
    let weeks = expected(&all, &["WEEK"]);
    let week_starts: Vec<&str> = weeks.iter().map(|(key, _)| key[0].as_str()).collect();
    assert_eq!(week_starts, ["2025-01-06", "2025-01-13"]);
    assert_eq!(
        weeks[0].1,
        3 + 2 + 4 + 5,
        "Sunday belongs to the week before"
    );
    assert_eq!(expected(&all, &["DAY"]).len(), 5);
    assert_eq!(expected(&all, &[])[0].1, 36);

    // The objects a row names load in one batch per type, however many rows.
    let named = app
        .graphql_as(
            Some(&w.ann.token),
            "query R($ws: ID!, $from: DateTime, $to: DateTime) {
                timeReport(workspaceId: $ws, groupBy: [USER, CLIENT, PROJECT, TASK, DAY], from: $from, to: $to) {
                user { name } client { name } project { name } task { name } hours } }",
            json!({
                "ws": w.acme.to_string(),
                "from": seeded_range()["from"],
                "to": seeded_range()["to"],
            }),
        )
        .await;
    let listed = named.data()["timeReport"].as_array().expect("rows").len();
    assert_eq!(listed, 8, "every log has its own row here");
    let statements = named.body["extensions"]["sqlStatements"]
        .as_u64()
        .expect("debug builds report sqlStatements");
    println!("timeReport statements with four kinds of named objects: {statements}");
    assert!(statements <= 8, "{statements} statements");

    // An ADMIN sees the same as the OWNER.
    let body = report(&app, &w.cid, w.acme, &["USER"], json!({})).await;
    assert_eq!(rows(&body, &["USER"]), expected(&all, &["USER"]));

    // Half-open ranges: from Monday 00:00 up to, not including, the log at NEXT_WED.
    let from = Utc
        .with_ymd_and_hms(2025, 1, 13, 0, 0, 0)
        .single()
        .expect("instant");
    let to = base() + Duration::minutes(NEXT_WED);
    let range = json!({ "from": from.to_rfc3339(), "to": to.to_rfc3339() });
    let body = report(&app, &w.ann, w.acme, &["WEEK"], range).await;
    assert_eq!(
        rows(&body, &["WEEK"]),
        [(vec!["2025-01-13".to_owned()], 7 + 8)]
    );
    let empty = json!({ "from": to.to_rfc3339(), "to": to.to_rfc3339() });
    let body = report(&app, &w.ann, w.acme, &[], empty.clone()).await;
    assert_eq!(
        rows(&body, &[]),
        [(Vec::new(), 0)],
        "a total even of nothing"
    );
    let body = report(&app, &w.ann, w.acme, &["DAY"], empty).await;
    assert_eq!(rows(&body, &["DAY"]), []);
}

#[tokio::test]
async fn a_workspace_user_reports_only_their_own_hours_and_others_are_refused() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let bob = user_id(&w.bob);
    // Bob's own logs on the projects he may read: not Ann's, nor his 7 h on the project
    // he left (the same rule as his membership's `totalHours`).
    let own: Vec<&Log> = w
        .logs
        .iter()
        .filter(|log| log.user == bob && w.projects[..2].contains(&log.project))
        .collect();
    assert_eq!(own.iter().map(|log| log.hours).sum::<i64>(), 3 + 4 + 1);
    for groups in [
        &["USER"][..],
        &["PROJECT", "DAY"],
        &["TASK"],
        &["WEEK"],
        &[],
    ] {
        let body = report(&app, &w.bob, w.acme, groups, json!({})).await;
        assert_eq!(rows(&body, groups), expected(&own, groups), "{groups:?}");
    }

    let twice = report(&app, &w.ann, w.acme, &["DAY", "USER", "DAY"], json!({})).await;
    assert_eq!(twice["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(twice["errors"][0]["extensions"]["field"], "groupBy");
    let outsider = report(&app, &w.dan, w.acme, &[], json!({})).await;
    assert_eq!(outsider["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let anonymous = app
        .graphql(REPORT, json!({ "ws": w.acme.to_string(), "groupBy": [] }))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

const USER_LOGS: &str = "query L($id: ID!, $first: Int, $after: String, $filter: UserTimeLogFilterInput, $orderBy: TimeLogOrderInput) {
    node(id: $id) { ... on User {
        timeLogs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
            totalCount
            nodes { hours }
            pageInfo { hasNextPage endCursor }
        }
    } }
}";

async fn user_logs(app: &TestApp, viewer: &Account, of: &Account, args: Value) -> Value {
    let mut variables = json!({ "id": of.id });
    if let (Some(variables), Some(args)) = (variables.as_object_mut(), args.as_object()) {
        variables.extend(args.clone());
    }
    let response = app
        .graphql_as(Some(&viewer.token), USER_LOGS, variables)
        .await;
    response.data()["node"]["timeLogs"].clone()
}

fn hours(connection: &Value) -> Vec<i64> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {connection}"))
        .iter()
        .map(|node| node["hours"].as_i64().expect("hours"))
        .collect()
}

#[tokio::test]
async fn user_time_logs_show_what_the_viewer_may_read() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // (viewer, whose logs, hours oldest first)
    let table: [(&Account, &Account, &[i64]); 5] = [
        (&w.bob, &w.bob, &[3, 4, 1]),
        (&w.ann, &w.bob, &[3, 4, 7, 1]),
        (&w.cid, &w.bob, &[3, 4, 7, 1]),
        (&w.bob, &w.ann, &[2, 5, 8]),
        (&w.ann, &w.ann, &[2, 5, 8, 6]),
    ];
    for (viewer, of, want) in table {
        let logs = user_logs(&app, viewer, of, json!({})).await;
        assert_eq!(hours(&logs), want, "{} reads {}", viewer.email, of.email);
        assert_eq!(logs["totalCount"], want.len(), "{} counts", viewer.email);
    }
    let mine = app
        .graphql_as(
            Some(&w.bob.token),
            "{ me { timeLogs(orderBy: { field: LOGGED_AT, direction: DESC }) { nodes { hours } } } }",
            json!({}),
        )
        .await;
    assert_eq!(hours(&mine.data()["me"]["timeLogs"]), [1, 4, 3]);

    // Filter by time (half-open), and page forward.
    let from = base() + Duration::minutes(THU);
    let to = base() + Duration::minutes(NEXT_WED + 30);
    let filter = json!({ "filter": { "from": from.to_rfc3339(), "to": to.to_rfc3339() } });
    let window = user_logs(&app, &w.ann, &w.bob, filter).await;
    assert_eq!(hours(&window), [4, 7]);
    assert_eq!(window["totalCount"], 2);
    let first = user_logs(&app, &w.ann, &w.bob, json!({ "first": 3 })).await;
    assert_eq!(hours(&first), [3, 4, 7]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let after = json!({ "first": 3, "after": first["pageInfo"]["endCursor"] });
    let rest = user_logs(&app, &w.ann, &w.bob, after).await;
    assert_eq!(hours(&rest), [1]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    // A task's cursor is not one of a user's list.
    let task_page = app
        .graphql_as(
            Some(&w.ann.token),
            "query T($id: ID!) { node(id: $id) { ... on Project { tasks(first: 1) { nodes { timeLogs(first: 1) { pageInfo { endCursor } } } } } } }",
            json!({ "id": w.projects[0].to_string() }),
        )
        .await;
    let foreign =
        task_page.data()["node"]["tasks"]["nodes"][0]["timeLogs"]["pageInfo"]["endCursor"].clone();
    let refused = app
        .graphql_as(
            Some(&w.ann.token),
            USER_LOGS,
            json!({ "id": w.bob.id, "after": foreign }),
        )
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");

    // Several users' lists in one query, batched: each as this viewer may see it.
    let members = "query W($id: ID!) { workspace(id: $id) { members { nodes {
        user { id timeLogs { totalCount nodes { hours } } } } } } }";
    let response = app
        .graphql_as(
            Some(&w.bob.token),
            members,
            json!({ "id": w.acme.to_string() }),
        )
        .await;
    let listed: HashMap<String, Vec<i64>> = response.data()["workspace"]["members"]["nodes"]
        .as_array()
        .expect("members")
        .iter()
        .map(|member| {
            let logs = &member["user"]["timeLogs"];
            assert_eq!(logs["totalCount"], hours(logs).len());
            let id = member["user"]["id"].as_str().expect("id").to_owned();
            (id, hours(logs))
        })
        .collect();
    assert_eq!(listed[&w.ann.id], [2, 5, 8]);
    assert_eq!(listed[&w.bob.id], [3, 4, 1]);
    assert_eq!(listed[&w.cid.id], Vec::<i64>::new());
}

#[tokio::test]
async fn a_time_report_spans_at_most_366_days_and_has_at_most_10000_rows() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let ann_id = user_id(&ann);
    let seed = Seed::new(&app.db);
    let (acme, globex) = seed.workspace(&[(ann_id, Role::Owner)]).await;
    let projects = seed.projects(&acme, globex.id, &[None]).await;
    let mut tasks = Vec::new();
    for _ in 0..11 {
        tasks.extend(seed.tasks(&projects, 1000).await);
    }
    // An hour's log on each of 11,000 tasks, an hour ago.
    let logs: Vec<(Uuid, Uuid, i32, i64)> = tasks
        .iter()
        .map(|(_, task)| (*task, ann_id, 1, -60))
        .collect();
    seed.logs(&logs).await;
    let now = Utc::now();
    let error_of = |body: &Value| {
        let error = &body["errors"][0];
        (
            error["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            error["extensions"]["field"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };

    let year = json!({
        "from": (now - Duration::days(366)).to_rfc3339(),
        "to": now.to_rfc3339(),
    });
    let total = report(&app, &ann, acme.id, &[], year).await;
    assert_eq!(total["data"]["timeReport"][0]["hours"], 11_000, "{total}");
    let longer = json!({
        "from": (now - Duration::days(367)).to_rfc3339(),
        "to": now.to_rfc3339(),
    });
    let refused = report(&app, &ann, acme.id, &[], longer).await;
    assert_eq!(
        error_of(&refused),
        ("BAD_USER_INPUT".into(), "from".into()),
        "{refused}"
    );

    // Without `from` the report starts 366 days before `to`, and without `to` it ends now.
    let defaults = app
        .graphql_as(
            Some(&ann.token),
            "query R($ws: ID!) { timeReport(workspaceId: $ws, groupBy: []) { hours } }",
            json!({ "ws": acme.id.to_string() }),
        )
        .await;
    assert_eq!(defaults.data()["timeReport"][0]["hours"], 11_000);

    let per_task = report(
        &app,
        &ann,
        acme.id,
        &["TASK"],
        json!({ "from": (now - Duration::days(1)).to_rfc3339(), "to": now.to_rfc3339() }),
    )
    .await;
    assert_eq!(
        error_of(&per_task),
        ("BAD_USER_INPUT".into(), "groupBy".into()),
        "{per_task}"
    );
}
