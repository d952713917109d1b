//! One id names one object: a client-chosen id that any object of any type holds is
//! `CONFLICT` on `id` for every create, also when two creates race, and only random or
//! time-ordered UUIDs may be chosen.

use serde_json::{Value, json};
use tests::{Account, TestApp};
use uuid::Uuid;

/// What the creates below need: Ann's workspace with a client, a project and a task; Bo, a
/// member of the workspace (not of the project); Cy, a member of neither.
struct World {
    ann: Account,
    bo: Account,
    cy: Account,
    workspace: String,
    client: String,
    project: String,
    task: String,
}

async fn ok(app: &TestApp, token: &str, query: &str, input: Value) -> Value {
    let response = app
        .graphql_as(Some(token), query, json!({ "input": input }))
        .await;
    assert!(
        response.body.get("errors").is_none(),
        "{query}: {}",
        response.body
    );
    response.body["data"].clone()
}

async fn world(app: &TestApp) -> World {
    let ann = app.sign_up("ann@example.io").await;
    let bo = app.sign_up("bo@example.io").await;
    let cy = app.sign_up("cy@example.io").await;
    let workspace = app.create_workspace(&ann, "Acme").await;
    app.add_workspace_member(&ann, &workspace, &bo, "USER")
        .await;
    let client = ok(
        app,
        &ann.token,
        CREATE_CLIENT,
        json!({ "workspaceId": workspace, "name": "Globex" }),
    )
    .await["createClient"]["id"]
        .as_str()
        .expect("a client id")
        .to_owned();
    let project = ok(
        app,
        &ann.token,
        CREATE_PROJECT,
        json!({ "workspaceId": workspace, "clientId": client, "name": "Launch" }),
    )
    .await["createProject"]["id"]
        .as_str()
        .expect("a project id")
        .to_owned();
    let task = ok(
        app,
        &ann.token,
        CREATE_TASK,
        json!({ "projectId": project, "name": "Plan" }),
    )
    .await["createTask"]["id"]
        .as_str()
        .expect("a task id")
        .to_owned();
    World {
        ann,
        bo,
        cy,
        workspace,
        client,
        project,
        task,
    }
}

const CREATE_WORKSPACE: &str =
    "mutation C($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }";
const CREATE_CLIENT: &str =
    "mutation C($input: CreateClientInput!) { createClient(input: $input) { id } }";
const CREATE_PROJECT: &str =
    "mutation C($input: CreateProjectInput!) { createProject(input: $input) { id } }";
const CREATE_TASK: &str =
    "mutation C($input: CreateTaskInput!) { createTask(input: $input) { id } }";
const LOG_TIME: &str = "mutation C($input: LogTimeInput!) { logTime(input: $input) { id } }";
const SEND_MESSAGE: &str =
    "mutation C($input: SendMessageInput!) { sendMessage(input: $input) { id content } }";
const ADD_WORKSPACE_MEMBER: &str =
    "mutation C($input: AddWorkspaceMemberInput!) { addWorkspaceMember(input: $input) { id } }";
const ADD_PROJECT_MEMBER: &str =
    "mutation C($input: AddProjectMemberInput!) { addProjectMember(input: $input) { id } }";

/// Every create that takes a client-chosen id: its name, document and input for `id`, with
/// Bo joining the project and Cy the workspace.
fn creates(world: &World, round: usize) -> Vec<(&'static str, &'static str, Value)> {
    creates_adding(world, round, &world.bo.id, &world.cy.id)
}

/// [`creates`] with `to_project` (a workspace member) added to the project and `to_workspace`
/// to the workspace.
fn creates_adding(
    world: &World,
    round: usize,
    to_project: &str,
    to_workspace: &str,
) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "createWorkspace",
            CREATE_WORKSPACE,
            json!({ "name": format!("Initech {round}") }),
        ),
        (
            "createClient",
            CREATE_CLIENT,
            json!({ "workspaceId": world.workspace, "name": format!("Umbrella {round}") }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            json!({
                "workspaceId": world.workspace,
                "clientId": world.client,
                "name": format!("Rollout {round}"),
            }),
        ),
        (
            "createTask",
            CREATE_TASK,
            json!({ "projectId": world.project, "name": format!("Build {round}") }),
        ),
        (
            "logTime",
            LOG_TIME,
            json!({ "taskId": world.task, "hours": 2 }),
        ),
        (
            "sendMessage",
            SEND_MESSAGE,
            json!({ "recipientEmail": world.bo.email, "content": format!("Hello {round}") }),
        ),
        (
            "addProjectMember",
            ADD_PROJECT_MEMBER,
            json!({ "projectId": world.project, "userId": to_project, "role": "USER" }),
        ),
        (
            "addWorkspaceMember",
            ADD_WORKSPACE_MEMBER,
            json!({ "workspaceId": world.workspace, "userId": to_workspace, "role": "USER" }),
        ),
    ]
}

fn with_id(input: &Value, id: &str) -> Value {
    let mut input = input.clone();
    input["id"] = json!(id);
    input
}

fn conflict_on_id(body: &Value) -> bool {
    let error = &body["errors"][0];
    error["extensions"]["code"] == "CONFLICT" && error["extensions"]["field"] == "id"
}

async fn typename_of(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .graphql_as(
            Some(token),
            "query N($id: ID!) { node(id: $id) { __typename } }",
            json!({ "id": id }),
        )
        .await;
    response.body["data"]["node"]["__typename"].clone()
}

#[tokio::test]
async fn every_create_refuses_an_id_that_an_object_of_another_type_holds() {
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let taken = [
        (world.ann.id.clone(), "User"),
        (world.workspace.clone(), "Workspace"),
        (world.client.clone(), "Client"),
        (world.project.clone(), "Project"),
        (world.task.clone(), "Task"),
    ];
    for (name, query, input) in creates(&world, 0) {
        for (id, kind) in &taken {
            let response = app
                .graphql_as(
                    Some(&world.ann.token),
                    query,
                    json!({ "input": with_id(&input, id) }),
                )
                .await;
            assert!(
                conflict_on_id(&response.body),
                "{name} with the id of a {kind}: {}",
                response.body
            );
        }
        // A fresh id is the new object's, and names it alone.
        let fresh = Uuid::now_v7().to_string();
        let data = ok(&app, &world.ann.token, query, with_id(&input, &fresh)).await;
        assert_eq!(data[name]["id"], fresh.as_str(), "{name}");
        let kind = typename_of(&app, &world.ann.token, &fresh).await;
        assert!(kind.is_string(), "{name}: node answers the new object");
    }
    for (id, kind) in &taken {
        assert_eq!(
            typename_of(&app, &world.ann.token, id).await,
            *kind,
            "the {kind} still answers to its id"
        );
    }
}

#[tokio::test]
async fn of_two_racing_creates_of_different_types_with_one_id_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let count = creates(&world, 0).len();
    for round in 0..count {
        // A membership can be added once: each round adds people of its own.
        let joining_project = app.sign_up(&format!("p{round}@example.io")).await;
        app.add_workspace_member(&world.ann, &world.workspace, &joining_project, "USER")
            .await;
        let joining_workspace = app.sign_up(&format!("w{round}@example.io")).await;
        let creates = creates_adding(
            &world,
            round + 1,
            &joining_project.id,
            &joining_workspace.id,
        );
        // Each create against the next one in the list: a different type every time.
        let (first, second) = (&creates[round], &creates[(round + 1) % creates.len()]);
        let id = Uuid::now_v7().to_string();
        let (a, b) = tokio::join!(
            app.graphql_as(
                Some(&world.ann.token),
                first.1,
                json!({ "input": with_id(&first.2, &id) }),
            ),
            app.graphql_as(
                Some(&world.ann.token),
                second.1,
                json!({ "input": with_id(&second.2, &id) }),
            ),
        );
        let won = [&a, &b]
            .iter()
            .filter(|response| response.body.get("errors").is_none())
            .count();
        let refused = [&a, &b]
            .iter()
            .filter(|response| conflict_on_id(&response.body))
            .count();
        assert_eq!(
            (won, refused),
            (1, 1),
            "{} and {}: {} / {}",
            first.0,
            second.0,
            a.body,
            b.body
        );
    }
}

#[tokio::test]
async fn only_random_or_time_ordered_uuids_may_be_chosen() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    for (id, what) in [
        ("00000000-0000-0000-0000-000000000000", "the nil UUID"),
        ("ffffffff-ffff-ffff-ffff-ffffffffffff", "the max UUID"),
        ("c232ab00-9414-11ec-b3c8-9f6bdeced846", "a version 1 UUID"),
        ("74738ff5-5367-5958-9aee-98fffdcd1876", "a version 5 UUID"),
        ("not a uuid", "not a UUID"),
    ] {
        let response = app
            .graphql_as(
                Some(&ann.token),
                CREATE_WORKSPACE,
                json!({ "input": { "name": "Acme", "id": id } }),
            )
            .await;
        let error = &response.body["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{what}: {}",
            response.body
        );
        assert_eq!(error["extensions"]["field"], "id", "{what}");
    }
    let random = "6f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6";
    let data = ok(
        &app,
        &ann.token,
        CREATE_WORKSPACE,
        json!({ "name": "Acme", "id": random }),
    )
    .await;
    assert_eq!(
        data["createWorkspace"]["id"], random,
        "a version 4 UUID is taken"
    );
}

#[tokio::test]
async fn a_retried_message_is_sent_once_and_another_with_its_id_is_a_conflict() {
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let id = Uuid::now_v7().to_string();
    let input = json!({ "id": id, "recipientEmail": world.bo.email, "content": "See you at 10" });
    let first = ok(&app, &world.ann.token, SEND_MESSAGE, input.clone()).await;
    let again = ok(&app, &world.ann.token, SEND_MESSAGE, input.clone()).await;
    assert_eq!(first["sendMessage"]["id"], id.as_str());
    assert_eq!(again, first, "the retry answers the message sent first");
    let sent = crate::chat::messages(&app, &world.bo, json!({ "with": world.ann.email })).await;
    assert_eq!(sent["totalCount"], 1, "sent once: {sent}");

    for (what, token, input) in [
        (
            "other content",
            &world.ann.token,
            json!({ "id": id, "recipientEmail": world.bo.email, "content": "See you at 11" }),
        ),
        (
            "another sender",
            &world.bo.token,
            json!({ "id": id, "recipientEmail": world.ann.email, "content": "See you at 10" }),
        ),
    ] {
        let response = app
            .graphql_as(Some(token), SEND_MESSAGE, json!({ "input": input }))
            .await;
        assert!(conflict_on_id(&response.body), "{what}: {}", response.body);
    }
}
