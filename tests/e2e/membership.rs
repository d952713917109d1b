//! Membership on both levels through one table: the same steps, the same answers, whether
//! the parent is a workspace or a project.

use serde_json::{Value, json};
use tests::{Account, GqlResponse, TestApp};
use uuid::Uuid;

/// One level's names.
struct Level {
    name: &'static str,
    /// `Workspace` or `Project`: the mutations are `add{kind}Member`, ….
    kind: &'static str,
    /// The input field naming the parent, and the member type's field returning it.
    parent_field: &'static str,
    parent: &'static str,
}

const LEVELS: [Level; 2] = [
    Level {
        name: "workspace",
        kind: "Workspace",
        parent_field: "workspaceId",
        parent: "workspace",
    },
    Level {
        name: "project",
        kind: "Project",
        parent_field: "projectId",
        parent: "project",
    },
];

fn field_of<'a>(response: &'a GqlResponse, name: &str) -> &'a Value {
    &response.data()[name]
}

fn error_field(response: &GqlResponse) -> &str {
    response.body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
}

impl Level {
    async fn call(
        &self,
        app: &TestApp,
        token: &str,
        verb: &str,
        input: Value,
    ) -> (GqlResponse, String) {
        let kind = self.kind;
        let (mutation, input_type) = match verb {
            "add" => (format!("add{kind}Member"), format!("Add{kind}MemberInput")),
            "update" => (
                format!("update{kind}MemberRole"),
                format!("Update{kind}MemberRoleInput"),
            ),
            _ => (
                format!("remove{kind}Member"),
                format!("Remove{kind}MemberInput"),
            ),
        };
        let query = format!(
            "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{
                id role createdAt updatedAt totalHours user {{ id }} {parent} {{ id }}
            }} }}",
            parent = self.parent
        );
        let response = app
            .graphql_as(Some(token), &query, json!({ "input": input }))
            .await;
        (response, mutation)
    }

    async fn members(&self, app: &TestApp, token: &str, parent: &str) -> Vec<String> {
        let query = format!(
            "query($id: ID!) {{ {}(id: $id) {{ members {{ nodes {{ user {{ id }} }} }} }} }}",
            self.parent
        );
        let response = app
            .graphql_as(Some(token), &query, json!({ "id": parent }))
            .await;
        response.data()[self.parent]["members"]["nodes"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|node| node["user"]["id"].as_str().expect("an id").to_owned())
            .collect()
    }
}

async fn create(app: &TestApp, token: &str, query: &str, input: Value, field: &str) -> String {
    let response = app
        .graphql_as(Some(token), query, json!({ "input": input }))
        .await;
    response.data()[field]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// Ann's workspace (Bob and Carol in it as USERs when the level is a project) and the
/// parent to test at `level`.
async fn world(app: &TestApp, level: &Level, ann: &Account, others: &[&Account]) -> String {
    let workspace = create(
        app,
        &ann.token,
        "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
        json!({ "name": format!("Acme {}", level.name) }),
        "createWorkspace",
    )
    .await;
    if level.kind == "Workspace" {
        return workspace;
    }
    for other in others {
        LEVELS[0]
            .call(
                app,
                &ann.token,
                "add",
                json!({ "workspaceId": workspace, "userId": other.id, "role": "USER" }),
            )
            .await
            .0
            .data();
    }
    let client = create(
        app,
        &ann.token,
        "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
        json!({ "workspaceId": workspace, "name": "Globex" }),
        "createClient",
    )
    .await;
    create(
        app,
        &ann.token,
        "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }",
        json!({ "workspaceId": workspace, "clientId": client, "name": "Site" }),
        "createProject",
    )
    .await
}

#[tokio::test]
async fn membership_mutations_are_symmetric_over_both_levels() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let carol = app.sign_up("carol@example.io").await;
    let dave = app.sign_up("dave@example.io").await;
    for level in &LEVELS {
        let at = level.name;
        let parent = world(&app, level, &ann, &[&bob, &carol]).await;
        let pf = level.parent_field;

        // Added by userId with a client-chosen id.
        let id = Uuid::now_v7().to_string();
        let input = json!({ "id": id, pf: parent, "userId": bob.id, "role": "USER" });
        let (added, name) = level.call(&app, &ann.token, "add", input.clone()).await;
        let first = field_of(&added, &name).clone();
        assert_eq!(first["id"], id.as_str(), "{at}: the chosen id");
        assert_eq!(first["role"], "USER", "{at}");
        assert_eq!(first["user"]["id"], bob.id.as_str(), "{at}");
        assert_eq!(first[level.parent]["id"], parent.as_str(), "{at}");
        assert_eq!(first["totalHours"], 0, "{at}");
        assert_eq!(
            first["updatedAt"], first["createdAt"],
            "{at}: never changed"
        );

        // The same id with the same input answers the first result.
        let (again, _) = level.call(&app, &ann.token, "add", input).await;
        assert_eq!(field_of(&again, &name), &first, "{at}: idempotent retry");

        // The same id with other input is CONFLICT on `id`.
        let other = json!({ "id": id, pf: parent, "userId": bob.id, "role": "ADMIN" });
        let (clash, _) = level.call(&app, &ann.token, "add", other).await;
        assert_eq!(clash.error_code(), "CONFLICT", "{at}");
        assert_eq!(error_field(&clash), "id", "{at}");

        // Without an id a second add of the same user is CONFLICT on the naming field.
        let twice = json!({ pf: parent, "userId": bob.id, "role": "USER" });
        let (twice, _) = level.call(&app, &ann.token, "add", twice).await;
        assert_eq!(twice.error_code(), "CONFLICT", "{at}");
        assert_eq!(error_field(&twice), "userId", "{at}");

        // The email is the second named way; exactly one of the two.
        let by_email = json!({ pf: parent, "email": "CAROL@example.io", "role": "USER" });
        let (by_email, _) = level.call(&app, &ann.token, "add", by_email).await;
        assert_eq!(
            field_of(&by_email, &name)["user"]["id"],
            carol.id.as_str(),
            "{at}"
        );
        let both = json!({ pf: parent, "userId": dave.id, "email": dave.email, "role": "USER" });
        let (both, _) = level.call(&app, &ann.token, "add", both).await;
        assert_eq!(both.error_code(), "BAD_USER_INPUT", "{at}");
        assert_eq!(error_field(&both), "userId", "{at}");
        let nobody = json!({ pf: parent, "email": "nobody@example.io", "role": "USER" });
        let (nobody, _) = level.call(&app, &ann.token, "add", nobody).await;
        assert_eq!(nobody.error_code(), "BAD_USER_INPUT", "{at}");
        assert_eq!(error_field(&nobody), "email", "{at}");

        // Re-roled by parent and userId, answering the membership.
        let promote = json!({ pf: parent, "userId": bob.id, "role": "ADMIN" });
        let (promoted, update) = level.call(&app, &ann.token, "update", promote).await;
        let promoted = field_of(&promoted, &update);
        assert_eq!(promoted["id"], id.as_str(), "{at}");
        assert_eq!(promoted["role"], "ADMIN", "{at}");
        assert!(
            promoted["updatedAt"].as_str() >= first["updatedAt"].as_str(),
            "{at}: updatedAt moves on"
        );

        // The last OWNER can neither leave nor be demoted.
        let leave = json!({ pf: parent, "userId": ann.id });
        let (leave, _) = level.call(&app, &ann.token, "remove", leave).await;
        assert_eq!(
            leave.error_code(),
            "CONFLICT",
            "{at}: the last OWNER leaving"
        );
        let demote = json!({ pf: parent, "userId": ann.id, "role": "USER" });
        let (demote, _) = level.call(&app, &ann.token, "update", demote).await;
        assert_eq!(
            demote.error_code(),
            "CONFLICT",
            "{at}: the last OWNER demoted"
        );

        // Removed by parent and userId, answering the membership as it was.
        let remove = json!({ pf: parent, "userId": bob.id });
        let (removed, remove_name) = level.call(&app, &bob.token, "remove", remove).await;
        let removed = field_of(&removed, &remove_name);
        assert_eq!(removed["id"], id.as_str(), "{at}");
        assert_eq!(removed["role"], "ADMIN", "{at}");
        let members = level.members(&app, &ann.token, &parent).await;
        assert!(!members.contains(&bob.id), "{at}: Bob left");
        assert!(members.contains(&carol.id), "{at}");

        // A second OWNER lets the first one go.
        let owner = json!({ pf: parent, "userId": carol.id, "role": "OWNER" });
        level.call(&app, &ann.token, "update", owner).await.0.data();
        let leave = json!({ pf: parent, "userId": ann.id });
        let (left, _) = level.call(&app, &ann.token, "remove", leave).await;
        assert_eq!(field_of(&left, &remove_name)["role"], "OWNER", "{at}");
    }
}

#[tokio::test]
async fn only_workspace_members_join_a_project() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let dave = app.sign_up("dave@example.io").await;
    let project = world(&app, &LEVELS[1], &ann, &[]).await;
    for input in [
        json!({ "projectId": project, "userId": dave.id, "role": "USER" }),
        json!({ "projectId": project, "email": dave.email, "role": "USER" }),
    ] {
        let (refused, _) = LEVELS[1].call(&app, &ann.token, "add", input.clone()).await;
        assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{input}");
    }
}

#[tokio::test]
async fn the_last_owner_of_a_project_is_not_removed_with_their_workspace_membership() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bo = app.sign_up("bo@example.io").await;
    let workspace = app.create_workspace(&ann, "Acme").await;
    app.add_workspace_member(&ann, &workspace, &bo, "USER")
        .await;
    let run = |token: &str, query: &'static str, input: Value| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.graphql_as(Some(&token), query, json!({ "input": input }))
                .await
        }
    };
    let promoted = run(
        &ann.token,
        "mutation M($input: UpdateWorkspaceMemberRoleInput!) { updateWorkspaceMemberRole(input: $input) { role } }",
        json!({ "workspaceId": workspace, "userId": bo.id, "role": "ADMIN" }),
    )
    .await;
    assert_eq!(
        promoted.data()["updateWorkspaceMemberRole"]["role"],
        "ADMIN"
    );
    // Bo makes a project, and is its one OWNER.
    let client = create(
        &app,
        &bo.token,
        "mutation C($input: CreateClientInput!) { createClient(input: $input) { id } }",
        json!({ "workspaceId": workspace, "name": "Globex" }),
        "createClient",
    )
    .await;
    let project = create(
        &app,
        &bo.token,
        "mutation C($input: CreateProjectInput!) { createProject(input: $input) { id } }",
        json!({ "workspaceId": workspace, "clientId": client, "name": "Launch" }),
        "createProject",
    )
    .await;

    const REMOVE: &str = "mutation R($input: RemoveWorkspaceMemberInput!) {
        removeWorkspaceMember(input: $input) { id } }";
    let refused = run(
        &ann.token,
        REMOVE,
        json!({ "workspaceId": workspace, "userId": bo.id }),
    )
    .await;
    assert_eq!(refused.error_code(), "CONFLICT", "{}", refused.body);
    let members = app
        .graphql_as(
            Some(&ann.token),
            "query P($id: ID!) { node(id: $id) { ... on Project { members { totalCount } } } }",
            json!({ "id": project }),
        )
        .await;
    assert_eq!(
        members.data()["node"]["members"]["totalCount"],
        1,
        "nothing was removed: {}",
        members.body
    );

    // With another OWNER on the project, Bo may go.
    let added = run(
        &ann.token,
        "mutation A($input: AddProjectMemberInput!) { addProjectMember(input: $input) { id } }",
        json!({ "projectId": project, "userId": ann.id, "role": "OWNER" }),
    )
    .await;
    assert!(added.body.get("errors").is_none(), "{}", added.body);
    let removed = run(
        &ann.token,
        REMOVE,
        json!({ "workspaceId": workspace, "userId": bo.id }),
    )
    .await;
    assert!(removed.body.get("errors").is_none(), "{}", removed.body);
}
