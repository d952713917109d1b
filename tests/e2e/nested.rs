//! Nested reads at scale: the four-level tree in a constant number of statements, its
//! counts and hours against sums computed here, what a workspace USER sees of it, and the
//! lists under a workspace.

use std::collections::HashMap;

use chrono::Duration;
use entity::role::Role;
use entity::workspace_user;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::{Value, json};
use tests::TestApp;
use uuid::Uuid;

use crate::seed::{Seed, user_id};

/// What the tree query must answer, by node id: hours and child counts.
#[derive(Default)]
struct Expected {
    hours: HashMap<String, i64>,
    children: HashMap<String, u64>,
    workspaces: u64,
}

/// `workspaces × projects × tasks × logs`, all owned by `owner`; hours vary by position.
async fn seed_tree(db: &DatabaseConnection, owner: Uuid, shape: [usize; 4]) -> Expected {
    let [workspaces, projects, tasks, logs] = shape;
    let seed = Seed::new(db);
    let mut expected = Expected {
        workspaces: workspaces as u64,
        ..Expected::default()
    };
    for _ in 0..workspaces {
        let (ws, client) = seed.workspace(&[(owner, Role::Owner)]).await;
        let project_ids = seed.projects(&ws, client.id, &vec![None; projects]).await;
        let task_ids = seed.tasks(&project_ids, tasks).await;
        let mut rows = Vec::new();
        for (t, (project, task)) in task_ids.iter().enumerate() {
            for l in 0..logs {
                let hours = i32::try_from(1 + (t * 7 + l * 3) % 8).expect("hours");
                let minutes = i64::try_from(t * logs + l).expect("minutes");
                rows.push((*task, owner, hours, minutes));
                for id in [ws.id, *project, *task] {
                    *expected.hours.entry(id.to_string()).or_default() += i64::from(hours);
                }
            }
            expected.children.insert(task.to_string(), logs as u64);
        }
        seed.logs(&rows).await;
        expected
            .children
            .insert(ws.id.to_string(), project_ids.len() as u64);
        for project in &project_ids {
            expected.children.insert(project.to_string(), tasks as u64);
        }
    }
    expected
}

// Page sizes fit the largest seeded shape, [2, 20, 10, 5]: four levels of 100 are a cost
// bomb the complexity limit refuses.
const TREE: &str = "{ workspaces(first: 2) { totalCount nodes { id totalHours
    projects(first: 20) { totalCount nodes { id totalHours
        tasks(first: 10) { totalCount nodes { id totalHours
            timeLogs(first: 5) { totalCount nodes { hours } } } } } } } } }";

fn nodes(connection: &Value) -> &Vec<Value> {
    connection["nodes"].as_array().expect("nodes")
}

/// Checks every count and sum of a tree answer; returns how many logs it held.
fn check_tree(data: &Value, expected: &Expected) -> usize {
    let mut logs = 0;
    let workspaces = &data["workspaces"];
    assert_eq!(workspaces["totalCount"], expected.workspaces);
    assert_eq!(nodes(workspaces).len() as u64, expected.workspaces);
    let check = |node: &Value, children: &str| {
        let id = node["id"].as_str().expect("id");
        let hours = expected.hours.get(id).copied().unwrap_or(0);
        assert_eq!(node["totalHours"], hours, "totalHours of {id}");
        assert_eq!(
            node[children]["totalCount"], expected.children[id],
            "{children} of {id}"
        );
        assert_eq!(nodes(&node[children]).len() as u64, expected.children[id]);
    };
    for ws in nodes(workspaces) {
        check(ws, "projects");
        for project in nodes(&ws["projects"]) {
            check(project, "tasks");
            for task in nodes(&project["tasks"]) {
                check(task, "timeLogs");
                let listed: i64 = nodes(&task["timeLogs"])
                    .iter()
                    .map(|log| log["hours"].as_i64().expect("hours"))
                    .sum();
                assert_eq!(task["totalHours"], listed, "the listed logs add up");
                logs += nodes(&task["timeLogs"]).len();
            }
        }
    }
    logs
}

async fn statements(app: &TestApp, token: &str, query: &str) -> (u64, Value) {
    let response = app
        .graphql_fewest_statements(Some(token), query, json!({}))
        .await;
    let data = response.data().clone();
    (response.sql_statements(), data)
}

#[tokio::test]
async fn the_tree_loads_in_the_same_few_statements_however_wide() {
    let app = TestApp::spawn().await;
    let small_owner = app.sign_up("small@example.io").await;
    let large_owner = app.sign_up("large@example.io").await;
    let small = seed_tree(&app.db, user_id(&small_owner), [2, 2, 2, 2]).await;
    let large = seed_tree(&app.db, user_id(&large_owner), [2, 20, 10, 5]).await;

    let (small_count, small_data) = statements(&app, &small_owner.token, TREE).await;
    let (large_count, large_data) = statements(&app, &large_owner.token, TREE).await;
    assert_eq!(check_tree(&small_data, &small), 16);
    assert_eq!(check_tree(&large_data, &large), 2000);
    println!("tree statements: small {small_count}, large {large_count}");
    assert_eq!(
        small_count, large_count,
        "statements depend on the query's depth, not on how many rows it returns"
    );
    assert!(large_count <= 10, "{large_count} statements");
    // The count is a property of the query: the same again.
    let (again, _) = statements(&app, &large_owner.token, TREE).await;
    assert_eq!(again, large_count);
}

#[tokio::test]
async fn a_workspace_user_sees_only_their_projects_and_hours() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let (ann_id, bob_id) = (user_id(&ann), user_id(&bob));
    let seed = Seed::new(&app.db);
    let (acme, client) = seed
        .workspace(&[(ann_id, Role::Owner), (bob_id, Role::User)])
        .await;
    let projects = seed.projects(&acme, client.id, &[None, None]).await;
    let (mine, hidden) = (projects[0], projects[1]);
    seed.project_member(mine, bob_id, Role::User).await;
    let tasks = seed.tasks(&projects, 1).await;
    // Bob logs 3 h on his project, Ann 2 h there; on the hidden one Ann logs 5 h and Bob
    // 7 h (from before he left it).
    seed.logs(&[
        (tasks[0].1, bob_id, 3, 0),
        (tasks[0].1, ann_id, 2, 1),
        (tasks[1].1, ann_id, 5, 2),
        (tasks[1].1, bob_id, 7, 3),
    ])
    .await;

    // Explicit page sizes: four levels of the default 50 is past the complexity limit.
    let query = "{ workspaces(first: 10) { nodes { totalHours
        projects(first: 10) { totalCount nodes { id totalHours
            tasks(first: 10) { nodes { timeLogs(first: 10) { totalCount } } } } }
        clients(first: 10) { totalCount nodes { totalHours projects(first: 10) { totalCount nodes { id } } } }
        members(first: 10) { totalCount nodes { totalHours user { id } } } } } }";
    let as_bob = app.graphql_as(Some(&bob.token), query, json!({})).await;
    let ws = &as_bob.data()["workspaces"]["nodes"][0];
    assert_eq!(ws["projects"]["totalCount"], 1);
    assert_eq!(nodes(&ws["projects"]).len(), 1);
    assert_eq!(ws["projects"]["nodes"][0]["id"], mine.to_string());
    assert_eq!(ws["projects"]["nodes"][0]["totalHours"], 5);
    assert_eq!(
        ws["totalHours"], 5,
        "the hidden project's 12 h are not counted"
    );
    let client = &ws["clients"]["nodes"][0];
    assert_eq!(client["totalHours"], 5);
    assert_eq!(client["projects"]["totalCount"], 1);
    assert_eq!(client["projects"]["nodes"][0]["id"], mine.to_string());
    let member_hours: HashMap<String, i64> = nodes(&ws["members"])
        .iter()
        .map(|member| {
            let id = member["user"]["id"].as_str().expect("id").to_owned();
            (id, member["totalHours"].as_i64().expect("hours"))
        })
        .collect();
    assert_eq!(ws["members"]["totalCount"], 2);
    assert_eq!(
        member_hours[&bob.id], 3,
        "Bob's 7 h on the hidden project stay hidden"
    );
    assert_eq!(member_hours[&ann.id], 2);
    let body = as_bob.body.to_string();
    assert!(!body.contains(&hidden.to_string()));

    // The hidden project is not found by id either, and its owner sees everything.
    let direct = app
        .graphql_as(
            Some(&bob.token),
            "query P($id: ID!) { project(id: $id) { id } }",
            json!({ "id": hidden.to_string() }),
        )
        .await;
    assert_eq!(direct.error_code(), "NOT_FOUND");
    let as_ann = app.graphql_as(Some(&ann.token), query, json!({})).await;
    let ws = &as_ann.data()["workspaces"]["nodes"][0];
    assert_eq!(ws["projects"]["totalCount"], 2);
    assert_eq!(ws["totalHours"], 17);
    assert_eq!(ws["clients"]["nodes"][0]["totalHours"], 17);
    let member_hours: Vec<i64> = nodes(&ws["members"])
        .iter()
        .map(|member| member["totalHours"].as_i64().expect("hours"))
        .collect();
    assert_eq!(member_hours.iter().sum::<i64>(), 17);

    // A workspace ADMIN sees every project without being a member of any.
    let cid = app.sign_up("cid@example.io").await;
    workspace_user::ActiveModel {
        user_id: Set(user_id(&cid)),
        workspace_id: Set(acme.id),
        role: Set(Role::Admin),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("admin membership");
    let as_cid = app.graphql_as(Some(&cid.token), query, json!({})).await;
    let ws = &as_cid.data()["workspaces"]["nodes"][0];
    assert_eq!(ws["projects"]["totalCount"], 2);
    assert_eq!(ws["totalHours"], 17);
}

const PROJECTS: &str = "query Projects($first: Int, $after: String, $filter: ProjectFilterInput) {
    workspaces { nodes {
        projects(first: $first, after: $after, filter: $filter) {
            totalCount
            nodes { id }
            pageInfo { hasNextPage endCursor }
        }
    } }
}";

fn project_ids(body: &Value) -> Vec<String> {
    body["data"]["workspaces"]["nodes"][0]["projects"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn workspace_projects_filter_page_and_refuse_bad_arguments() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let seed = Seed::new(&app.db);
    let (acme, globex) = seed.workspace(&[(user_id(&ann), Role::Owner)]).await;
    let initech = seed.client(acme.id, "Initech").await;
    let soon = seed.now + Duration::days(1);
    let later = seed.now + Duration::days(30);
    let mut ids = seed.projects(&acme, globex.id, &[Some(soon), None]).await;
    ids.extend(
        seed.projects(&acme, initech.id, &[Some(later), Some(soon)])
            .await,
    );
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let query = |variables: Value| app.graphql_as(Some(&ann.token), PROJECTS, variables);

    let all = query(json!({})).await;
    assert_eq!(project_ids(&all.body), ids, "oldest first");
    let of_initech = query(json!({ "filter": { "clientId": initech.id.to_string() } })).await;
    assert_eq!(project_ids(&of_initech.body), ids[2..]);
    let due =
        query(json!({ "filter": { "deadlineBefore": (soon + Duration::hours(1)).to_rfc3339() } }))
            .await;
    assert_eq!(project_ids(&due.body), [ids[0].clone(), ids[3].clone()]);
    let count = &due.data()["workspaces"]["nodes"][0]["projects"]["totalCount"];
    assert_eq!(count, 2, "the count follows the filter");
    let bad_id = query(json!({ "filter": { "clientId": "nope" } })).await;
    assert_eq!(
        bad_id.body["errors"][0]["extensions"]["field"],
        "filter.clientId"
    );

    let first = query(json!({ "first": 3 })).await;
    let projects = &first.data()["workspaces"]["nodes"][0]["projects"];
    assert_eq!(projects["pageInfo"]["hasNextPage"], true);
    let cursor = projects["pageInfo"]["endCursor"].clone();
    let rest = query(json!({ "after": cursor })).await;
    assert_eq!(project_ids(&rest.body), ids[3..]);

    let over = query(json!({ "first": 101 })).await;
    assert_eq!(over.error_code(), "BAD_USER_INPUT");
    assert_eq!(over.body["errors"][0]["extensions"]["field"], "first");
    // A cursor of the client's list of the same projects is not one of the workspace's.
    let client_page = app
        .graphql_as(
            Some(&ann.token),
            "query C($id: ID!) { project(id: $id) { client { projects(first: 1) { pageInfo { endCursor } } } } }",
            json!({ "id": ids[0] }),
        )
        .await;
    let foreign =
        client_page.data()["project"]["client"]["projects"]["pageInfo"]["endCursor"].clone();
    let refused = query(json!({ "after": foreign })).await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert_eq!(refused.body["errors"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn workspaces_members_and_clients_are_connections() {
    let app = TestApp::spawn().await;
    let anonymous = app
        .graphql("{ workspaces { totalCount } }", json!({}))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");

    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let seed = Seed::new(&app.db);
    let members = [(user_id(&ann), Role::Owner), (user_id(&bob), Role::User)];
    let (first, _) = seed.workspace(&members).await;
    seed.client(first.id, "Aardvark").await;
    seed.client(first.id, "Zebra").await;
    seed.workspace(&members[..1]).await;
    let projects = seed
        .projects(&first, seed.client(first.id, "Mole").await.id, &[None])
        .await;
    seed.project_member(projects[0], user_id(&bob), Role::Admin)
        .await;

    // Explicit page sizes: three levels of the default 50 is past the complexity limit.
    let query = "{ workspaces(first: 10) { totalCount nodes { id
        members(first: 10) { totalCount nodes { role user { email } } }
        clients(first: 2) { totalCount nodes { name } pageInfo { hasNextPage } }
        projects(first: 10) { nodes { members(first: 10) { totalCount nodes { role user { email } } } } } } } }";
    let as_ann = app.graphql_as(Some(&ann.token), query, json!({})).await;
    let workspaces = &as_ann.data()["workspaces"];
    assert_eq!(workspaces["totalCount"], 2);
    let acme = &workspaces["nodes"][0];
    assert_eq!(acme["id"], first.id.to_string(), "oldest first");
    assert_eq!(acme["members"]["totalCount"], 2);
    assert_eq!(
        acme["members"]["nodes"][1]["user"]["email"],
        "bob@example.io"
    );
    assert_eq!(
        acme["clients"]["totalCount"], 4,
        "Globex from the seed, and three more"
    );
    let names: Vec<&str> = acme["clients"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Aardvark", "Globex"], "by name");
    assert_eq!(acme["clients"]["pageInfo"]["hasNextPage"], true);
    let project_members = &acme["projects"]["nodes"][0]["members"];
    assert_eq!(project_members["totalCount"], 1);
    assert_eq!(project_members["nodes"][0]["role"], "ADMIN");

    let as_bob = app.graphql_as(Some(&bob.token), query, json!({})).await;
    assert_eq!(
        as_bob.data()["workspaces"]["totalCount"],
        1,
        "only Bob's own"
    );
}

#[tokio::test]
async fn the_planned_tree_takes_the_same_statements_under_eight_concurrent_clients() {
    let app = TestApp::spawn().await;
    let mut viewers = Vec::new();
    for i in 0..8 {
        let owner = app.sign_up(&format!("owner{i}@example.io")).await;
        // Eight trees of different sizes: the count must follow the query, not the rows.
        let expected = seed_tree(
            &app.db,
            user_id(&owner),
            [1 + i % 2, 2 + i, 1 + i, 1 + i % 3],
        )
        .await;
        viewers.push((owner, expected));
    }
    // One at a time first (which also puts each session in the server's cache).
    let mut alone = Vec::new();
    for (owner, _) in &viewers {
        alone.push(statements(&app, &owner.token, TREE).await.0);
    }
    assert!(
        alone.iter().all(|count| *count == alone[0]),
        "one statement count for every tree: {alone:?}"
    );
    let alone = alone[0];
    let answers = futures_util::future::join_all(
        viewers
            .iter()
            .map(|(owner, _)| app.graphql_as(Some(&owner.token), TREE, json!({}))),
    )
    .await;
    for ((_, expected), response) in viewers.iter().zip(&answers) {
        assert_eq!(
            response.body["extensions"]["executor"], "plan",
            "the tree is planned: {}",
            response.body
        );
        check_tree(response.data(), expected);
        assert_eq!(
            response.sql_statements(),
            alone,
            "a planned request's statements do not depend on the requests beside it"
        );
    }
}
