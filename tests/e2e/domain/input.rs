//! Input the API refuses besides the limits: duplicate names, NUL characters.

use super::*;

#[tokio::test]
async fn unique_names_conflict_on_their_field() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let beta = app.create_workspace(&ann, "Beta").await;
    let globex = app.create_client(&ann, &acme, "Globex").await;
    let initech = app.create_client(&ann, &acme, "Initech").await;
    let launch = app.create_project(&ann, &acme, &globex, "Launch").await;
    let landing = app.create_project(&ann, &acme, &globex, "Landing").await;

    let cases: Vec<(&str, &str, &str, Value)> = vec![
        (
            "createWorkspace with a taken name",
            token,
            CREATE_WORKSPACE,
            json!({ "name": "Acme" }),
        ),
        (
            "createWorkspace with a taken name, padded",
            token,
            CREATE_WORKSPACE,
            json!({ "name": "  Acme " }),
        ),
        (
            "createWorkspace with a name taken by someone else's workspace",
            &bob.token,
            CREATE_WORKSPACE,
            json!({ "name": "Acme" }),
        ),
        (
            "updateWorkspace onto a taken name",
            token,
            UPDATE_WORKSPACE,
            json!({ "id": beta, "name": "Acme" }),
        ),
        (
            "createClient with a name taken in the workspace",
            token,
            CREATE_CLIENT,
            json!({ "workspaceId": acme, "name": "Globex" }),
        ),
        (
            "updateClient onto a name taken in the workspace",
            token,
            UPDATE_CLIENT,
            json!({ "id": initech, "name": "Globex" }),
        ),
        (
            "createProject with a name taken in the workspace",
            token,
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": initech, "name": "Launch" }),
        ),
        (
            "updateProject onto a name taken in the workspace",
            token,
            UPDATE_PROJECT,
            json!({ "id": landing, "name": "Launch" }),
        ),
    ];
    for (what, actor, query, input) in cases {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(actor), query, json!({ "input": input }))
            .await;
        assert_error(&response, "CONFLICT", Some("name"), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // Keeping one's own name is no clash.
    let same = app
        .graphql_as(
            Some(token),
            UPDATE_WORKSPACE,
            json!({ "input": { "id": acme, "name": "Acme" } }),
        )
        .await;
    assert_eq!(same.data()["updateWorkspace"]["name"], "Acme");
    let same = app
        .graphql_as(
            Some(token),
            UPDATE_CLIENT,
            json!({ "input": { "id": globex, "name": "Globex" } }),
        )
        .await;
    assert_eq!(same.data()["updateClient"]["name"], "Globex");
    let same = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": launch, "name": "Launch" } }),
        )
        .await;
    assert_eq!(same.data()["updateProject"]["name"], "Launch");

    // Client and project names are unique per workspace only.
    let other_globex = app.create_client(&ann, &beta, "Globex").await;
    let other_launch = app
        .create_project(&ann, &beta, &other_globex, "Launch")
        .await;
    let other_initech = app.create_client(&ann, &beta, "Other").await;
    let renamed = app
        .graphql_as(
            Some(token),
            UPDATE_CLIENT,
            json!({ "input": { "id": other_initech, "name": "Initech" } }),
        )
        .await;
    assert_eq!(renamed.data()["updateClient"]["name"], "Initech");
    let other_landing = app
        .create_project(&ann, &beta, &other_globex, "Other")
        .await;
    let renamed = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": other_landing, "name": "Landing" } }),
        )
        .await;
    assert_eq!(renamed.data()["updateProject"]["name"], "Landing");
    assert_ne!(other_launch, launch);
    let rows = Rows::read(&app.db).await;
    assert_eq!(
        rows.clients.iter().filter(|c| c.name == "Globex").count(),
        2
    );
    assert_eq!(
        rows.projects.iter().filter(|p| p.name == "Launch").count(),
        2
    );

    // Concurrent creates race past the API's own check; the database's UNIQUE decides, and
    // the losers still get CONFLICT on `name`, never INTERNAL.
    let races: Vec<(&str, &str, Value)> = vec![
        (
            "createWorkspace",
            CREATE_WORKSPACE,
            json!({ "name": "Race" }),
        ),
        (
            "createClient",
            CREATE_CLIENT,
            json!({ "workspaceId": acme, "name": "Race" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": globex, "name": "Race" }),
        ),
    ];
    for (field, query, input) in races {
        let body = json!({ "input": input });
        let responses =
            join_all((0..6).map(|_| app.graphql_as(Some(token), query, body.clone()))).await;
        let mut created = 0;
        for response in &responses {
            if response.body["errors"].is_null() {
                created += 1;
            } else {
                assert_error(
                    response,
                    "CONFLICT",
                    Some("name"),
                    &format!("concurrent {field}"),
                );
            }
        }
        assert_eq!(created, 1, "concurrent {field}: exactly one wins");
    }
    let rows = Rows::read(&app.db).await;
    assert_eq!(
        rows.workspaces.iter().filter(|w| w.name == "Race").count(),
        1
    );
    assert_eq!(rows.clients.iter().filter(|c| c.name == "Race").count(), 1);
    assert_eq!(rows.projects.iter().filter(|p| p.name == "Race").count(), 1);
}

/// NUL fits SQLite's text but not PostgreSQL's: it is refused on both, as input, with the
/// field named, instead of failing in the database as an `INTERNAL` error.
#[tokio::test]
async fn a_nul_character_is_bad_input_in_every_text_field() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = Some(ann.token.as_str());
    let workspace = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &workspace, "Globex").await;
    let project = app
        .create_project(&ann, &workspace, &client, "Apollo")
        .await;
    let task = app.create_task(&ann, &project, "Design").await;
    let cases = [
        (
            CREATE_WORKSPACE,
            json!({ "input": { "name": "Ac\u{0}me" } }),
            "name",
        ),
        (
            CREATE_WORKSPACE,
            json!({ "input": { "name": "Acme 2", "description": "\u{0}" } }),
            "description",
        ),
        (
            CREATE_CLIENT,
            json!({ "input": { "workspaceId": workspace, "name": "\u{0}" } }),
            "name",
        ),
        (
            CREATE_PROJECT,
            json!({ "input": { "workspaceId": workspace, "clientId": client, "name": "a\u{0}" } }),
            "name",
        ),
        (
            CREATE_TASK,
            json!({ "input": { "projectId": project, "name": "Build", "description": "x\u{0}y" } }),
            "description",
        ),
        (
            UPDATE_TASK,
            json!({ "input": { "id": task, "name": "\u{0}" } }),
            "name",
        ),
        (
            "query($id: ID!, $needle: String) {
                project(id: $id) { tasks(filter: { nameContains: $needle }) { totalCount } }
            }",
            json!({ "id": project, "needle": "De\u{0}" }),
            "filter.nameContains",
        ),
    ];
    for (query, variables, field) in cases {
        let response = app.graphql_as(token, query, variables.clone()).await;
        assert_error(
            &response,
            "BAD_USER_INPUT",
            Some(field),
            &variables.to_string(),
        );
    }
    let response = app
        .graphql(
            SIGN_UP,
            json!({ "input": { "name": "B\u{0}b", "email": "bob@example.io", "password": PASSWORD } }),
        )
        .await;
    assert_error(&response, "BAD_USER_INPUT", Some("name"), "signUp name");

    // Logging in with such an address fails as for any unknown one.
    let response = app
        .graphql(
            "mutation($input: LogInInput!) { logIn(input: $input) { token } }",
            json!({ "input": { "email": "ann@example.io\u{0}", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(
        response.error_code(),
        "UNAUTHENTICATED",
        "{}",
        response.body
    );
}
