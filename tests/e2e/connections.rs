//! Relay connections: pages, cursors, filters, orders, counts, and the statement budget.

use chrono::Duration;
use entity::role::Role;
use entity::task::TaskStatus;
use entity::{client, project, project_user, task, workspace, workspace_user};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::{Value, json};
use tests::{Account, TestApp};
use uuid::Uuid;

use crate::seed::{Seed, user_id};

/// A workspace owned by `owner` with `projects` projects of `tasks` tasks each, written
/// straight to the database. Returns the project ids.
async fn seed(
    db: &DatabaseConnection,
    owner: &Account,
    projects: usize,
    tasks: &[&str],
) -> Vec<Uuid> {
    let owner_id = Uuid::parse_str(&owner.id).expect("user id");
    let ws = workspace::ActiveModel {
        name: Set(format!("Acme {}", Uuid::now_v7())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("workspace");
    workspace_user::ActiveModel {
        user_id: Set(owner_id),
        workspace_id: Set(ws.id),
        role: Set(Role::Owner),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("membership");
    let client = client::ActiveModel {
        workspace_id: Set(ws.id),
        name: Set("Globex".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("client");
    let mut ids = Vec::new();
    for p in 0..projects {
        let project = project::ActiveModel {
            workspace_id: Set(ws.id),
            client_id: Set(client.id),
            name: Set(format!("Project {p}")),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("project");
        project_user::ActiveModel {
            user_id: Set(owner_id),
            project_id: Set(project.id),
            role: Set(Role::Owner),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("project membership");
        for (i, name) in tasks.iter().enumerate() {
            let status = match i % 3 {
                0 => TaskStatus::Pending,
                1 => TaskStatus::InProgress,
                _ => TaskStatus::Completed,
            };
            task::ActiveModel {
                project_id: Set(project.id),
                name: Set((*name).to_owned()),
                status: Set(status),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("task");
        }
        ids.push(project.id);
    }
    ids
}

const TASKS: &str = "query Tasks($id: ID!, $first: Int, $after: String, $filter: TaskFilterInput, $orderBy: TaskOrderInput) {
    project(id: $id) {
        tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
            totalCount
            edges { cursor node { name status } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
    }
}";

fn names(body: &Value) -> Vec<String> {
    body["data"]["project"]["tasks"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn tasks_page_forward_by_cursor() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a", "b", "c", "d", "e"]).await;
    let id = projects[0].to_string();
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let response = app
            .graphql_as(
                Some(&ann.token),
                TASKS,
                json!({ "id": id, "first": 2, "after": after }),
            )
            .await;
        let tasks = &response.data()["project"]["tasks"];
        assert_eq!(tasks["totalCount"], 5, "the count covers every page");
        assert_eq!(tasks["pageInfo"]["hasPreviousPage"], pages > 0);
        seen.extend(names(&response.body));
        pages += 1;
        if tasks["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = tasks["pageInfo"]["endCursor"].clone();
        assert!(pages < 5, "paging terminates");
    }
    assert_eq!(pages, 3, "2 + 2 + 1");
    assert_eq!(seen, ["a", "b", "c", "d", "e"], "oldest first, each once");
}

#[tokio::test]
async fn page_sizes_are_capped_and_empty_pages_are_fine() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a", "b"]).await;
    let id = projects[0].to_string();
    let over = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id, "first": 101 }))
        .await;
    assert_eq!(over.error_code(), "BAD_USER_INPUT");
    assert_eq!(over.body["errors"][0]["extensions"]["field"], "first");
    let zero = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id, "first": 0 }))
        .await;
    let tasks = &zero.data()["project"]["tasks"];
    assert_eq!(tasks["edges"], json!([]));
    assert_eq!(tasks["pageInfo"]["hasNextPage"], true);
    assert_eq!(tasks["pageInfo"]["endCursor"], Value::Null);

    let all = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id }))
        .await;
    let end = all.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
    let past_the_end = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id, "after": end }))
        .await;
    assert_eq!(names(&past_the_end.body), Vec::<String>::new());
    assert_eq!(
        past_the_end.data()["project"]["tasks"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn cursors_from_another_connection_are_rejected() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 2, &["a", "b", "c"]).await;
    let first_page = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[0].to_string(), "first": 1 }),
        )
        .await;
    let cursor = first_page.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
    let other_project = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[1].to_string(), "after": cursor }),
        )
        .await;
    assert_eq!(other_project.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        other_project.body["errors"][0]["extensions"]["field"],
        "after"
    );
    let other_order = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[0].to_string(), "after": cursor, "orderBy": { "field": "NAME" } }),
        )
        .await;
    assert_eq!(other_order.error_code(), "BAD_USER_INPUT");
    let garbage = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[0].to_string(), "after": "bm90IGEgY3Vyc29y" }),
        )
        .await;
    assert_eq!(garbage.error_code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn tasks_filter_and_order() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    // Statuses cycle PENDING, IN_PROGRESS, COMPLETED by position.
    let names_in = ["Write spec", "review SPEC", "Ship", "Spec 100%", "Specs_2"];
    let projects = seed(&app.db, &ann, 1, &names_in).await;
    let id = projects[0].to_string();
    let query = |variables: Value| app.graphql_as(Some(&ann.token), TASKS, variables);

    let by_name =
        query(json!({ "id": id, "orderBy": { "field": "NAME", "direction": "DESC" } })).await;
    let mut expected: Vec<&str> = names_in.to_vec();
    expected.sort_unstable();
    expected.reverse();
    assert_eq!(names(&by_name.body), expected);

    let spec = query(json!({ "id": id, "filter": { "nameContains": "SPEC" } })).await;
    assert_eq!(
        names(&spec.body),
        ["Write spec", "review SPEC", "Spec 100%", "Specs_2"]
    );
    assert_eq!(
        spec.data()["project"]["tasks"]["totalCount"],
        4,
        "the count follows the filter"
    );

    let literal = query(json!({ "id": id, "filter": { "nameContains": "0%" } })).await;
    assert_eq!(names(&literal.body), ["Spec 100%"], "% matches itself");
    let underscore = query(json!({ "id": id, "filter": { "nameContains": "s_" } })).await;
    assert_eq!(names(&underscore.body), ["Specs_2"], "_ matches itself");

    let pending = query(json!({ "id": id, "filter": { "status": "PENDING" } })).await;
    assert_eq!(names(&pending.body), ["Write spec", "Spec 100%"]);

    // Paging by name descending continues where it left off.
    let first =
        query(json!({ "id": id, "first": 2, "orderBy": { "field": "NAME", "direction": "DESC" } }))
            .await;
    let after = first.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
    let rest = query(
        json!({ "id": id, "after": after, "orderBy": { "field": "NAME", "direction": "DESC" } }),
    )
    .await;
    let mut paged = names(&first.body);
    paged.extend(names(&rest.body));
    assert_eq!(paged, expected);
}

#[tokio::test]
async fn sibling_lists_load_in_a_constant_number_of_statements() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 6, &["a", "b", "c"]).await;
    let statements = |count: usize| {
        let fields: String = projects[..count]
            .iter()
            .enumerate()
            .map(|(i, id)| {
                format!(
                    "p{i}: project(id: \"{id}\") {{ name tasks(first: 2) {{ totalCount nodes {{ name status }} }} }}"
                )
            })
            .collect();
        let query = format!("{{ {fields} }}");
        let app = &app;
        let token = ann.token.clone();
        async move {
            let response = app
                .graphql_fewest_statements(Some(&token), &query, json!({}))
                .await;
            response.data();
            response.sql_statements()
        }
    };
    let two = statements(2).await;
    let six = statements(6).await;
    assert_eq!(
        two, six,
        "statements depend on the query's shape, not on how many rows"
    );
    assert!(six <= 8, "{six} statements");
}

#[tokio::test]
async fn a_project_or_task_by_id_takes_one_statement_and_one_more_for_a_new_session() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a"]).await;
    let project = projects[0];
    let read = app
        .graphql_fewest_statements(
            Some(&ann.token),
            "query($id: ID!) { project(id: $id) { name tasks { nodes { id } } } }",
            json!({ "id": project }),
        )
        .await;
    let task = read.data()["project"]["tasks"]["nodes"][0]["id"]
        .as_str()
        .expect("a task id")
        .to_owned();

    for (query, id) in [
        (
            "query($id: ID!) { project(id: $id) { name } }",
            project.to_string(),
        ),
        ("query($id: ID!) { task(id: $id) { name } }", task.clone()),
    ] {
        // A session this instance has not seen yet: the session, then the object with
        // the viewer's roles beside it.
        let token = crate::chat_live::log_in(&app, &ann).await;
        let first = app
            .graphql_as(Some(&token), query, json!({ "id": id }))
            .await;
        first.data();
        assert_eq!(first.sql_statements(), 2, "{query}: {}", first.body);
        // Then the session is known: the object alone.
        let response = app
            .graphql_fewest_statements(Some(&token), query, json!({ "id": id }))
            .await;
        response.data();
        assert_eq!(response.sql_statements(), 1, "{query}: {}", response.body);

        // The roles still decide: an outsider is told nothing exists.
        let outsider = app
            .graphql_as(Some(&bob.token), query, json!({ "id": id }))
            .await;
        assert_eq!(outsider.error_code(), "NOT_FOUND", "{}", outsider.body);
    }
}

const TIME_LOGS: &str = "query Logs($id: ID!, $first: Int, $after: String, $filter: TimeLogFilterInput, $orderBy: TimeLogOrderInput) {
    task(id: $id) {
        totalHours
        timeLogs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
            totalCount
            nodes { id hours loggedAt user { id } }
            pageInfo { hasNextPage endCursor }
        }
    }
}";

fn hours_of(body: &Value) -> Vec<i64> {
    body["data"]["task"]["timeLogs"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|log| log["hours"].as_i64().expect("hours"))
        .collect()
}

#[tokio::test]
async fn time_logs_filter_order_and_page() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let (ann_id, bob_id) = (user_id(&ann), user_id(&bob));
    let seed = Seed::new(&app.db);
    let (acme, client) = seed
        .workspace(&[(ann_id, Role::Owner), (bob_id, Role::User)])
        .await;
    let projects = seed.projects(&acme, client.id, &[None]).await;
    let task = seed.tasks(&projects, 1).await[0].1;
    // Hours 1–6 at minutes 0, 10, …, 50; Bob logged the odd hours. Two logs share minute
    // 20, so the id breaks the tie.
    let minutes = [0, 10, 20, 20, 40, 50];
    let logs: Vec<_> = (1..=6)
        .zip(minutes)
        .map(|(hours, minute)| {
            let user = if hours % 2 == 1 { bob_id } else { ann_id };
            (task, user, hours, minute)
        })
        .collect();
    seed.logs(&logs).await;
    let at = |minute: i64| (seed.now + Duration::minutes(minute)).to_rfc3339();
    let query = |variables: Value| {
        let mut variables = variables;
        variables["id"] = json!(task.to_string());
        app.graphql_as(Some(&ann.token), TIME_LOGS, variables)
    };

    let all = query(json!({})).await;
    assert_eq!(
        hours_of(&all.body),
        [1, 2, 3, 4, 5, 6],
        "LOGGED_AT ascending, ties by id"
    );
    assert_eq!(all.data()["task"]["totalHours"], 21);
    let desc = query(json!({ "orderBy": { "field": "LOGGED_AT", "direction": "DESC" } })).await;
    assert_eq!(hours_of(&desc.body), [6, 5, 4, 3, 2, 1]);

    // From is included, to excluded.
    let window = query(json!({ "filter": { "from": at(10), "to": at(40) } })).await;
    assert_eq!(hours_of(&window.body), [2, 3, 4]);
    assert_eq!(window.data()["task"]["timeLogs"]["totalCount"], 3);
    let bobs = query(json!({ "filter": { "userId": bob.id } })).await;
    assert_eq!(hours_of(&bobs.body), [1, 3, 5]);
    let both = query(json!({ "filter": { "userId": bob.id, "from": at(20) } })).await;
    assert_eq!(hours_of(&both.body), [3, 5]);
    let backwards = query(json!({ "filter": { "from": at(40), "to": at(10) } })).await;
    assert_eq!(backwards.error_code(), "BAD_USER_INPUT");

    // Paging backwards in time across the tie, then past the end: the count still covers
    // the whole list.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = query(json!({
            "first": 2, "after": after,
            "orderBy": { "field": "LOGGED_AT", "direction": "DESC" }
        }))
        .await;
        let logs = &page.data()["task"]["timeLogs"];
        assert_eq!(logs["totalCount"], 6);
        seen.extend(hours_of(&page.body));
        after = logs["pageInfo"]["endCursor"].clone();
        if logs["pageInfo"]["hasNextPage"] == false {
            break;
        }
    }
    assert_eq!(seen, [6, 5, 4, 3, 2, 1]);
    let past_the_end = query(json!({
        "after": after, "orderBy": { "field": "LOGGED_AT", "direction": "DESC" }
    }))
    .await;
    assert_eq!(hours_of(&past_the_end.body), Vec::<i64>::new());
    assert_eq!(past_the_end.data()["task"]["timeLogs"]["totalCount"], 6);
    let ascending_with_it = query(json!({ "after": after })).await;
    assert_eq!(ascending_with_it.error_code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_page_and_its_count_are_one_statement() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a", "b", "c"]).await;
    let id = projects[0].to_string();
    let statements = |selection: &'static str| {
        let app = &app;
        let token = ann.token.clone();
        let id = id.clone();
        async move {
            let query = format!("query T($id: ID!) {{ project(id: $id) {{ name {selection} }} }}");
            let response = app
                .graphql_as(Some(&token), &query, json!({ "id": id }))
                .await;
            let tasks = response.data()["project"]["tasks"].clone();
            let count = response.body["extensions"]["sqlStatements"]
                .as_u64()
                .expect("debug builds report sqlStatements");
            (count, tasks)
        }
    };
    // Once to have the session known, then measured.
    statements("").await;
    let (bare, _) = statements("").await;
    let (count_only, tasks) = statements("tasks(first: 1) { totalCount }").await;
    assert_eq!(tasks["totalCount"], 3);
    assert_eq!(
        count_only,
        bare + 1,
        "a count alone is one GROUP BY, no page"
    );
    let (both, tasks) = statements("tasks(first: 1) { totalCount nodes { name } }").await;
    assert_eq!(tasks["totalCount"], 3);
    assert_eq!(tasks["nodes"], json!([{ "name": "a" }]));
    assert_eq!(both, bare + 1, "the page carries its count");

    // What a fragment selects counts as selected.
    let fragment = app
        .graphql_as(
            Some(&ann.token),
            "query T($id: ID!) { project(id: $id) { tasks(first: 1) { ...Page } } }
             fragment Page on TaskConnection { totalCount ... on TaskConnection { nodes { name } } }",
            json!({ "id": id }),
        )
        .await;
    let tasks = &fragment.data()["project"]["tasks"];
    assert_eq!(tasks["totalCount"], 3);
    assert_eq!(tasks["nodes"], json!([{ "name": "a" }]));
}

/// `cursor` (a real one) with its sort value replaced by `value`, as a client may forge it.
fn forged(cursor: &Value, value: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let plain = URL_SAFE_NO_PAD
        .decode(cursor.as_str().expect("a cursor"))
        .expect("cursors are base64");
    let plain = String::from_utf8(plain).expect("cursors are text");
    let mut parts: Vec<&str> = plain.split('|').collect();
    parts[4] = value;
    URL_SAFE_NO_PAD.encode(parts.join("|"))
}

#[tokio::test]
async fn a_forged_cursor_value_is_refused_or_read_by_id_never_an_internal_error() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a", "b", "c"]).await;
    let id = projects[0].to_string();
    for order in [json!(null), json!({ "field": "NAME" })] {
        let page = app
            .graphql_as(
                Some(&ann.token),
                TASKS,
                json!({ "id": id, "first": 1, "orderBy": order }),
            )
            .await;
        let cursor = page.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
        // The other kind of value than the order's: read as a position by id alone.
        for value in ["s:YQ", "t:1790000000000000"] {
            let response = app
                .graphql_as(
                    Some(&ann.token),
                    TASKS,
                    json!({ "id": id, "after": forged(&cursor, value), "orderBy": order }),
                )
                .await;
            assert!(
                response.data()["project"]["tasks"]["edges"].is_array(),
                "{order} after {value}: {}",
                response.body
            );
        }
        // Values no stored row can have: NUL in text, instants outside years 0–9999.
        for value in ["s:YQBi", "t:-210000000000000000", "t:300000000000000000"] {
            let response = app
                .graphql_as(
                    Some(&ann.token),
                    TASKS,
                    json!({ "id": id, "after": forged(&cursor, value), "orderBy": order }),
                )
                .await;
            assert_eq!(
                response.error_code(),
                "BAD_USER_INPUT",
                "{order} after {value}: {}",
                response.body
            );
        }
    }
}
