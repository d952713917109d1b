//! Relay object identification: `node(id:)` and `nodes(ids:)` return every type the viewer
//! may read and `null` for everything else, in a number of statements that does not grow
//! with the number of ids.

use entity::role::Role;
use entity::{project_user, user, workspace_user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tests::TestApp;
use uuid::Uuid;

use crate::seed::{Seed, user_id};

const NODE: &str = "query N($id: ID!) { node(id: $id) { __typename id } }";
const NODES: &str = "query N($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";

async fn workspace_membership(db: &DatabaseConnection, workspace: Uuid, user: Uuid) -> Uuid {
    workspace_user::Entity::find()
        .filter(workspace_user::Column::WorkspaceId.eq(workspace))
        .filter(workspace_user::Column::UserId.eq(user))
        .one(db)
        .await
        .expect("query")
        .expect("a membership")
        .id
}

async fn project_membership(db: &DatabaseConnection, project: Uuid, user: Uuid) -> Uuid {
    project_user::Entity::find()
        .filter(project_user::Column::ProjectId.eq(project))
        .filter(project_user::Column::UserId.eq(user))
        .one(db)
        .await
        .expect("query")
        .expect("a membership")
        .id
}

#[tokio::test]
async fn node_and_nodes_return_what_the_viewer_may_read_and_null_otherwise() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let dan = app.sign_up("dan@example.io").await;
    let (ann_id, bob_id, dan_id) = (user_id(&ann), user_id(&bob), user_id(&dan));
    let seed = Seed::new(&app.db);
    // Ann owns Acme; Bob is a workspace USER in `mine` but not in `hidden`; Dan is an
    // outsider with a workspace of his own.
    let (acme, client) = seed
        .workspace(&[(ann_id, Role::Owner), (bob_id, Role::User)])
        .await;
    let (dans, _) = seed.workspace(&[(dan_id, Role::Owner)]).await;
    let projects = seed.projects(&acme, client.id, &[None, None]).await;
    let (mine, hidden) = (projects[0], projects[1]);
    seed.project_member(mine, bob_id, Role::User).await;
    seed.project_member(hidden, ann_id, Role::Owner).await;
    let tasks = seed.tasks(&projects, 1).await;
    let logs = seed
        .logs(&[(tasks[0].1, bob_id, 3, 0), (tasks[1].1, ann_id, 5, 1)])
        .await;
    let ws_membership = workspace_membership(&app.db, acme.id, ann_id).await;
    let bobs_project_membership = project_membership(&app.db, mine, bob_id).await;
    let anns_project_membership = project_membership(&app.db, hidden, ann_id).await;

    // (id, type, seen by Ann, by Bob, by Dan)
    let table: Vec<(Uuid, &str, [bool; 3])> = vec![
        (ann_id, "User", [true, true, false]),
        (bob_id, "User", [true, true, false]),
        (dan_id, "User", [false, false, true]),
        (acme.id, "Workspace", [true, true, false]),
        (dans.id, "Workspace", [false, false, true]),
        (ws_membership, "WorkspaceMember", [true, true, false]),
        (client.id, "Client", [true, true, false]),
        (mine, "Project", [true, true, false]),
        (hidden, "Project", [true, false, false]),
        (
            bobs_project_membership,
            "ProjectMember",
            [true, true, false],
        ),
        (
            anns_project_membership,
            "ProjectMember",
            [true, false, false],
        ),
        (tasks[0].1, "Task", [true, true, false]),
        (tasks[1].1, "Task", [true, false, false]),
        (logs[0], "TimeLog", [true, true, false]),
        (logs[1], "TimeLog", [true, false, false]),
        (Uuid::now_v7(), "unknown", [false, false, false]),
    ];
    let ids: Vec<String> = table.iter().map(|(id, _, _)| id.to_string()).collect();
    for (viewer, (name, token)) in [
        ("Ann", &ann.token),
        ("Bob", &bob.token),
        ("Dan", &dan.token),
    ]
    .into_iter()
    .enumerate()
    {
        let batch = app
            .graphql_as(Some(token), NODES, json!({ "ids": ids }))
            .await;
        let found = batch.data()["nodes"].as_array().expect("a list").clone();
        assert_eq!(found.len(), table.len(), "one entry per id, in order");
        for ((id, typename, seen), node) in table.iter().zip(&found) {
            let single = app
                .graphql_as(Some(token), NODE, json!({ "id": id.to_string() }))
                .await;
            let single = &single.data()["node"];
            if seen[viewer] {
                let expected = json!({ "__typename": typename, "id": id.to_string() });
                assert_eq!(node, &expected, "{name} reads {typename} {id} in nodes");
                assert_eq!(single, &expected, "{name} reads {typename} {id} by node");
            } else {
                assert_eq!(node, &Value::Null, "{name} must not see {typename} {id}");
                assert_eq!(single, &Value::Null, "{name} must not see {typename} {id}");
            }
        }
    }

    // A node is the whole object: its fields and what hangs off it resolve as usual.
    let deep = app
        .graphql_as(
            Some(&bob.token),
            "query N($id: ID!) { node(id: $id) { ... on TimeLog { hours task { project { id } } } } }",
            json!({ "id": logs[0].to_string() }),
        )
        .await;
    assert_eq!(deep.data()["node"]["hours"], 3);
    assert_eq!(
        deep.data()["node"]["task"]["project"]["id"],
        mine.to_string()
    );
}

#[tokio::test]
async fn node_refuses_anonymous_viewers_bad_ids_and_too_many_ids() {
    let app = TestApp::spawn().await;
    let anonymous = app
        .graphql(NODE, json!({ "id": Uuid::now_v7().to_string() }))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    let anonymous = app.graphql(NODES, json!({ "ids": [] })).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");

    let ann = app.sign_up("ann@example.io").await;
    let malformed = app
        .graphql_as(Some(&ann.token), NODE, json!({ "id": "not-a-uuid" }))
        .await;
    assert_eq!(malformed.error_code(), "BAD_USER_INPUT");
    assert_eq!(malformed.body["errors"][0]["extensions"]["field"], "id");

    let ids = |n: usize| -> Vec<String> { (0..n).map(|_| Uuid::now_v7().to_string()).collect() };
    let over = app
        .graphql_as(Some(&ann.token), NODES, json!({ "ids": ids(101) }))
        .await;
    assert_eq!(over.error_code(), "BAD_USER_INPUT");
    assert_eq!(over.body["errors"][0]["extensions"]["field"], "ids");
    let at_cap = app
        .graphql_as(Some(&ann.token), NODES, json!({ "ids": ids(100) }))
        .await;
    let found = at_cap.data()["nodes"].as_array().expect("a list");
    assert_eq!(found.len(), 100);
    assert!(found.iter().all(Value::is_null), "unknown ids are null");
}

/// `count` users who are members of `workspace`, inserted directly (no password hashing).
async fn members(seed: &Seed<'_>, workspace: Uuid, count: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::now_v7()).collect();
    let users = ids.iter().map(|id| user::ActiveModel {
        id: Set(*id),
        name: Set(format!("U {id}")),
        email: Set(format!("{id}@example.io")),
        password: Set("not a hash".into()),
        created_at: Set(seed.now),
        updated_at: Set(seed.now),
        ..Default::default()
    });
    user::Entity::insert_many(users)
        .exec(seed.db)
        .await
        .expect("users");
    let memberships = ids.iter().map(|id| workspace_user::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(*id),
        workspace_id: Set(workspace),
        role: Set(Role::User),
        created_at: Set(seed.now),
        updated_at: Set(seed.now),
    });
    workspace_user::Entity::insert_many(memberships)
        .exec(seed.db)
        .await
        .expect("memberships");
    ids
}

#[tokio::test]
async fn nodes_take_the_same_statements_for_3_ids_as_for_30() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let ann_id = user_id(&ann);
    let seed = Seed::new(&app.db);
    let (acme, client) = seed.workspace(&[(ann_id, Role::User)]).await;
    let users = members(&seed, acme.id, 10).await;
    let projects = seed.projects(&acme, client.id, &[None; 10]).await;
    for project in &projects {
        seed.project_member(*project, ann_id, Role::User).await;
    }
    // Two tasks a project: the first is asked for by id, the second holds the log asked
    // for, so its task and project are looked up besides.
    let tasks = seed.tasks(&projects, 2).await;
    let log_rows: Vec<(Uuid, Uuid, i32, i64)> = tasks
        .chunks(2)
        .map(|pair| (pair[1].1, ann_id, 1, 0))
        .collect();
    let logs = seed.logs(&log_rows).await;

    let ids = |n: usize| -> Vec<String> {
        let asked_tasks = tasks.chunks(2).map(|pair| pair[0].1);
        users
            .iter()
            .take(n)
            .copied()
            .chain(asked_tasks.take(n))
            .chain(logs.iter().take(n).copied())
            .map(|id| id.to_string())
            .collect()
    };
    let mut counts = Vec::new();
    for n in [1, 10] {
        let response = app
            .graphql_fewest_statements(Some(&ann.token), NODES, json!({ "ids": ids(n) }))
            .await;
        let found = response.data()["nodes"].as_array().expect("a list");
        assert_eq!(found.len(), 3 * n);
        assert!(
            found.iter().all(|node| !node.is_null()),
            "all readable: {found:?}"
        );
        counts.push(response.sql_statements());
    }
    println!(
        "nodes statements: 3 ids {}, 30 ids {}",
        counts[0], counts[1]
    );
    assert_eq!(
        counts[0], counts[1],
        "statements depend on the types asked for, not on how many ids"
    );
    assert!(counts[1] <= 16, "{} statements", counts[1]);
}
