//! Transactions and retries: rollback of a failed write, client-chosen ids.

use super::*;

/// Makes every insert into `table` fail inside the database, as a broken disk or a lost
/// connection would, after the API's own checks have passed.
async fn fail_inserts_into(app: &TestApp, table: &str) {
    let statements = if app.is_postgres() {
        vec![
            format!(
                "CREATE FUNCTION fail_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'forced failure'; END; $$"
            ),
            format!(
                "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION fail_{table}()"
            ),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
        )]
    };
    for sql in statements {
        app.db
            .execute_unprepared(&sql)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }
}

/// Undoes [`fail_inserts_into`].
async fn allow_inserts_into(app: &TestApp, table: &str) {
    let sql = if app.is_postgres() {
        format!("DROP TRIGGER fail_{table} ON {table}")
    } else {
        format!("DROP TRIGGER fail_{table}")
    };
    app.db
        .execute_unprepared(&sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

/// An `INTERNAL` error that tells the client nothing but a request id.
fn assert_masked_internal(response: &GqlResponse, what: &str) {
    assert_error(response, "INTERNAL", None, what);
    let error = &response.body["errors"][0];
    assert_eq!(
        error["message"], "internal error",
        "{what}: {}",
        response.body
    );
    let text = response.body.to_string().to_lowercase();
    for leak in [
        "forced failure",
        "workspace_users",
        "project_users",
        "insert",
        "trigger",
        "raise",
        "sqlx",
        "sqlite",
        "postgres",
    ] {
        assert!(
            !text.contains(leak),
            "{what}: the error leaks {leak:?}: {}",
            response.body
        );
    }
    let request_id = error["extensions"]["requestId"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no extensions.requestId in {}", response.body));
    assert!(!request_id.is_empty(), "{what}: empty requestId");
    assert!(
        response.body["data"].is_null(),
        "{what}: no data, got {}",
        response.body
    );
}

#[tokio::test]
async fn a_failed_second_write_rolls_back_the_first() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &acme, "Globex").await;

    // createWorkspace: the workspace row, then its OWNER membership.
    let workspace_id = Uuid::now_v7().to_string();
    let input = json!({ "input": { "id": workspace_id, "name": "Doomed" } });
    fail_inserts_into(&app, "workspace_users").await;
    let before = Rows::read(&app.db).await;
    let response = app
        .graphql_as(Some(token), CREATE_WORKSPACE, input.clone())
        .await;
    assert_masked_internal(&response, "createWorkspace");
    let doomed = Workspace::find()
        .filter(workspace::Column::Name.eq("Doomed"))
        .count(&app.db)
        .await
        .expect("count workspaces");
    assert_eq!(doomed, 0, "the workspace row was rolled back");
    assert_eq!(Rows::read(&app.db).await, before, "nothing was written");
    allow_inserts_into(&app, "workspace_users").await;
    // Neither the name nor the id was left taken.
    let retried = app.graphql_as(Some(token), CREATE_WORKSPACE, input).await;
    assert_eq!(
        retried.data()["createWorkspace"]["id"],
        workspace_id.as_str()
    );

    // createProject: the project row, then its OWNER membership.
    let project_id = Uuid::now_v7().to_string();
    let input = json!({ "input": {
        "id": project_id, "workspaceId": acme, "clientId": client, "name": "Doomed"
    } });
    fail_inserts_into(&app, "project_users").await;
    let before = Rows::read(&app.db).await;
    let response = app
        .graphql_as(Some(token), CREATE_PROJECT, input.clone())
        .await;
    assert_masked_internal(&response, "createProject");
    let doomed = Project::find()
        .filter(project::Column::Name.eq("Doomed"))
        .count(&app.db)
        .await
        .expect("count projects");
    assert_eq!(doomed, 0, "the project row was rolled back");
    assert_eq!(Rows::read(&app.db).await, before, "nothing was written");
    allow_inserts_into(&app, "project_users").await;
    let retried = app.graphql_as(Some(token), CREATE_PROJECT, input).await;
    assert_eq!(retried.data()["createProject"]["id"], project_id.as_str());
}

#[tokio::test]
async fn create_with_a_client_chosen_id_is_idempotent() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let w = Uuid::now_v7().to_string();
    let c = Uuid::now_v7().to_string();
    let p = Uuid::now_v7().to_string();
    let p_nanos = Uuid::now_v7().to_string();
    let t = Uuid::now_v7().to_string();
    let l = Uuid::now_v7().to_string();

    // (mutation, query, the input, the same id with a different input)
    let cases: Vec<(&str, &str, Value, Value)> = vec![
        (
            "createWorkspace",
            CREATE_WORKSPACE,
            json!({ "id": w, "name": "Acme", "description": "Rockets" }),
            json!({ "id": w, "name": "Acme", "description": "Anvils" }),
        ),
        (
            "createClient",
            CREATE_CLIENT,
            // Stored lower-cased: the retry is still the same input.
            json!({ "id": c, "workspaceId": w, "name": "Globex",
                    "contactEmail": "Ops@Globex.io", "contactPhone": "+1 555 0100" }),
            json!({ "id": c, "workspaceId": w, "name": "Globex",
                    "contactEmail": "Ops@Globex.io", "contactPhone": "+1 555 0199" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            json!({ "id": p, "workspaceId": w, "clientId": c, "name": "Launch",
                    "description": "Phase one", "deadline": "2030-01-02T03:04:05.123456Z" }),
            json!({ "id": p, "workspaceId": w, "clientId": c, "name": "Launch",
                    "description": "Phase two", "deadline": "2030-01-02T03:04:05.123456Z" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            // A deadline in nanoseconds (as a Go or Rust client may send): the retry must
            // still be the same input, whatever precision the database keeps.
            json!({ "id": p_nanos, "workspaceId": w, "clientId": c, "name": "Landing",
                    "deadline": "2030-01-02T03:04:05.123456789Z" }),
            json!({ "id": p_nanos, "workspaceId": w, "clientId": c, "name": "Landing page",
                    "deadline": "2030-01-02T03:04:05.123456789Z" }),
        ),
        (
            "createTask",
            CREATE_TASK,
            json!({ "id": t, "projectId": p, "name": "Design", "status": "IN_PROGRESS" }),
            json!({ "id": t, "projectId": p, "name": "Design", "status": "COMPLETED" }),
        ),
        (
            "logTime",
            LOG_TIME,
            // Nanoseconds: kept to the microsecond, and the retry still matches.
            json!({ "id": l, "taskId": t, "hours": 3, "description": "Wiring",
                    "loggedAt": "2025-01-02T03:04:05.123456789Z" }),
            json!({ "id": l, "taskId": t, "hours": 4, "description": "Wiring",
                    "loggedAt": "2025-01-02T03:04:05.123456789Z" }),
        ),
    ];
    for (field, query, input, different) in cases {
        let first = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        let id = input["id"].as_str().expect("an id");
        assert_eq!(first.data()[field]["id"], id, "{field} keeps the chosen id");
        let before = Rows::read(&app.db).await;
        let second = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        assert_eq!(
            second.data()[field],
            first.data()[field],
            "{field}: the retry returns the same object"
        );
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{field}: the retry writes nothing"
        );
        let conflict = app
            .graphql_as(Some(token), query, json!({ "input": different }))
            .await;
        assert_error(
            &conflict,
            "CONFLICT",
            Some("id"),
            &format!("{field} with the same id and a different input"),
        );
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{field}: the conflicting call writes nothing"
        );
    }

    let rows = Rows::read(&app.db).await;
    assert_eq!(ids(&rows.workspaces, |r| r.id), set(&[&w]));
    assert_eq!(ids(&rows.clients, |r| r.id), set(&[&c]));
    assert_eq!(ids(&rows.projects, |r| r.id), set(&[&p, &p_nanos]));
    assert_eq!(ids(&rows.tasks, |r| r.id), set(&[&t]));
    assert_eq!(ids(&rows.time_logs, |r| r.id), set(&[&l]));
    assert_eq!(rows.workspace_users.len(), 1, "one OWNER membership");
    assert_eq!(
        rows.project_users.len(),
        2,
        "one OWNER membership per project"
    );

    // Someone else retrying with the same id and input does not get Ann's workspace.
    let stolen = app
        .graphql_as(
            Some(&bob.token),
            CREATE_WORKSPACE,
            json!({ "input": { "id": w, "name": "Acme", "description": "Rockets" } }),
        )
        .await;
    assert_error(
        &stolen,
        "CONFLICT",
        Some("id"),
        "another user's workspace id",
    );
    assert_eq!(Rows::read(&app.db).await, rows);
}

#[tokio::test]
async fn concurrent_retries_with_a_client_chosen_id_return_the_one_object() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let w = Uuid::now_v7().to_string();
    let c = Uuid::now_v7().to_string();
    let p = Uuid::now_v7().to_string();
    let t = Uuid::now_v7().to_string();
    let l = Uuid::now_v7().to_string();
    // A retry sent while the first request is still in flight (a client that timed out)
    // is still the same input: every copy must answer with the one object, none with
    // CONFLICT or INTERNAL, and one row is written.
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "createWorkspace",
            CREATE_WORKSPACE,
            json!({ "id": w, "name": "Acme" }),
        ),
        (
            "createClient",
            CREATE_CLIENT,
            json!({ "id": c, "workspaceId": w, "name": "Globex" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            json!({ "id": p, "workspaceId": w, "clientId": c, "name": "Launch" }),
        ),
        (
            "createTask",
            CREATE_TASK,
            json!({ "id": t, "projectId": p, "name": "Design" }),
        ),
        (
            "logTime",
            LOG_TIME,
            json!({ "id": l, "taskId": t, "hours": 2, "loggedAt": "2025-01-02T03:04:05Z" }),
        ),
    ];
    // Every mutation is tried before failing, so one run shows how each behaves.
    let mut wrong = BTreeSet::new();
    for (field, query, input) in cases {
        let body = json!({ "input": input });
        let responses =
            join_all((0..6).map(|_| app.graphql_as(Some(token), query, body.clone()))).await;
        for response in &responses {
            if response.body["data"][field]["id"].as_str() != input["id"].as_str() {
                let extensions = &response.body["errors"][0]["extensions"];
                wrong.insert(format!(
                    "{field}: {} {}",
                    extensions["code"], extensions["field"]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "concurrent retries answered with errors: {wrong:#?}"
    );
    let rows = Rows::read(&app.db).await;
    assert_eq!(ids(&rows.workspaces, |r| r.id), set(&[&w]));
    assert_eq!(ids(&rows.clients, |r| r.id), set(&[&c]));
    assert_eq!(ids(&rows.projects, |r| r.id), set(&[&p]));
    assert_eq!(ids(&rows.tasks, |r| r.id), set(&[&t]));
    assert_eq!(ids(&rows.time_logs, |r| r.id), set(&[&l]));
    assert_eq!(rows.workspace_users.len(), 1);
    assert_eq!(rows.project_users.len(), 1);
}
