//! Every seed limit (lengths, ranges) refused by the API before anything is written.

// Over 450 lines because it is one test: a table of every limit, checked against one
// snapshot of the rows, then the values at each limit accepted.

use super::*;

/// A well-formed email address of exactly `len` characters (250 to 311).
fn email_of_len(len: usize) -> String {
    let prefix = format!(
        "{}@{}.{}.{}.",
        "a".repeat(64),
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(60)
    );
    let last = len
        .checked_sub(prefix.len())
        .filter(|rest| (2..=63).contains(rest))
        .unwrap_or_else(|| panic!("no email of {len} characters with this shape"));
    let email = format!("{prefix}{}", "e".repeat(last));
    assert_eq!(email.chars().count(), len);
    email
}

#[tokio::test]
async fn api_refuses_every_seed_limit_before_writing() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let w = app.create_workspace(&ann, "Acme").await;
    let c = app.create_client(&ann, &w, "Globex").await;
    let p = app.create_project(&ann, &w, &c, "Launch").await;
    let t = app.create_task(&ann, &p, "Design").await;
    let l = app.log_time(&ann, &t, 2).await;
    let x = |n: usize| "x".repeat(n);

    let cases: Vec<(&str, &str, Value, &str)> = vec![
        // workspaces: name 100, description 500
        (
            "createWorkspace name of 101",
            CREATE_WORKSPACE,
            json!({ "name": x(101) }),
            "name",
        ),
        (
            "createWorkspace blank name",
            CREATE_WORKSPACE,
            json!({ "name": "   " }),
            "name",
        ),
        (
            "createWorkspace empty name",
            CREATE_WORKSPACE,
            json!({ "name": "" }),
            "name",
        ),
        (
            "createWorkspace description of 501",
            CREATE_WORKSPACE,
            json!({ "name": "Fresh", "description": x(501) }),
            "description",
        ),
        (
            "createWorkspace id not a UUID",
            CREATE_WORKSPACE,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        (
            "updateWorkspace name of 101",
            UPDATE_WORKSPACE,
            json!({ "id": w, "name": x(101) }),
            "name",
        ),
        (
            "updateWorkspace blank name",
            UPDATE_WORKSPACE,
            json!({ "id": w, "name": " \t " }),
            "name",
        ),
        (
            "updateWorkspace description of 501",
            UPDATE_WORKSPACE,
            json!({ "id": w, "description": x(501) }),
            "description",
        ),
        (
            "updateWorkspace id not a UUID",
            UPDATE_WORKSPACE,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        // clients: name 100, contact_email 255, contact_phone 20
        (
            "createClient name of 101",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": x(101) }),
            "name",
        ),
        (
            "createClient blank name",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "  " }),
            "name",
        ),
        (
            "createClient contactEmail of 256",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactEmail": email_of_len(256) }),
            "contactEmail",
        ),
        (
            "createClient malformed contactEmail",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactEmail": "globex.example.io" }),
            "contactEmail",
        ),
        (
            "createClient contactPhone of 21",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactPhone": "1".repeat(21) }),
            "contactPhone",
        ),
        (
            "createClient contactPhone with letters",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactPhone": "call me" }),
            "contactPhone",
        ),
        (
            "createClient workspaceId not a UUID",
            CREATE_CLIENT,
            json!({ "workspaceId": "not-a-uuid", "name": "Fresh" }),
            "workspaceId",
        ),
        (
            "updateClient name of 101",
            UPDATE_CLIENT,
            json!({ "id": c, "name": x(101) }),
            "name",
        ),
        (
            "updateClient blank name",
            UPDATE_CLIENT,
            json!({ "id": c, "name": "" }),
            "name",
        ),
        (
            "updateClient contactEmail of 256",
            UPDATE_CLIENT,
            json!({ "id": c, "contactEmail": email_of_len(256) }),
            "contactEmail",
        ),
        (
            "updateClient malformed contactEmail",
            UPDATE_CLIENT,
            json!({ "id": c, "contactEmail": "ann@@example.io" }),
            "contactEmail",
        ),
        (
            "updateClient contactPhone of 21",
            UPDATE_CLIENT,
            json!({ "id": c, "contactPhone": "2".repeat(21) }),
            "contactPhone",
        ),
        (
            "updateClient contactPhone with letters",
            UPDATE_CLIENT,
            json!({ "id": c, "contactPhone": "555-CALL-NOW" }),
            "contactPhone",
        ),
        (
            "updateClient id not a UUID",
            UPDATE_CLIENT,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        // projects: name 100, description 500
        (
            "createProject name of 101",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": x(101) }),
            "name",
        ),
        (
            "createProject blank name",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "   " }),
            "name",
        ),
        (
            "createProject description of 501",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "Fresh", "description": x(501) }),
            "description",
        ),
        (
            "createProject workspaceId not a UUID",
            CREATE_PROJECT,
            json!({ "workspaceId": "not-a-uuid", "clientId": c, "name": "Fresh" }),
            "workspaceId",
        ),
        (
            "createProject clientId not a UUID",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": "not-a-uuid", "name": "Fresh" }),
            "clientId",
        ),
        (
            "updateProject name of 101",
            UPDATE_PROJECT,
            json!({ "id": p, "name": x(101) }),
            "name",
        ),
        (
            "updateProject blank name",
            UPDATE_PROJECT,
            json!({ "id": p, "name": " " }),
            "name",
        ),
        (
            "updateProject description of 501",
            UPDATE_PROJECT,
            json!({ "id": p, "description": x(501) }),
            "description",
        ),
        (
            "updateProject id not a UUID",
            UPDATE_PROJECT,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        (
            "updateProject clientId not a UUID",
            UPDATE_PROJECT,
            json!({ "id": p, "clientId": "not-a-uuid" }),
            "clientId",
        ),
        // tasks: name 150, description 500
        (
            "createTask name of 151",
            CREATE_TASK,
            json!({ "projectId": p, "name": x(151) }),
            "name",
        ),
        (
            "createTask blank name",
            CREATE_TASK,
            json!({ "projectId": p, "name": "  " }),
            "name",
        ),
        (
            "createTask description of 501",
            CREATE_TASK,
            json!({ "projectId": p, "name": "Fresh", "description": x(501) }),
            "description",
        ),
        (
            "createTask projectId not a UUID",
            CREATE_TASK,
            json!({ "projectId": "not-a-uuid", "name": "Fresh" }),
            "projectId",
        ),
        (
            "updateTask name of 151",
            UPDATE_TASK,
            json!({ "id": t, "name": x(151) }),
            "name",
        ),
        (
            "updateTask blank name",
            UPDATE_TASK,
            json!({ "id": t, "name": "" }),
            "name",
        ),
        (
            "updateTask description of 501",
            UPDATE_TASK,
            json!({ "id": t, "description": x(501) }),
            "description",
        ),
        (
            "updateTask id not a UUID",
            UPDATE_TASK,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        // time logs: description 500, hours > 0 (and at most a day)
        (
            "logTime hours 0",
            LOG_TIME,
            json!({ "taskId": t, "hours": 0 }),
            "hours",
        ),
        (
            "logTime hours -1",
            LOG_TIME,
            json!({ "taskId": t, "hours": -1 }),
            "hours",
        ),
        (
            "logTime hours 25",
            LOG_TIME,
            json!({ "taskId": t, "hours": 25 }),
            "hours",
        ),
        (
            "logTime description of 501",
            LOG_TIME,
            json!({ "taskId": t, "hours": 1, "description": x(501) }),
            "description",
        ),
        (
            "logTime taskId not a UUID",
            LOG_TIME,
            json!({ "taskId": "not-a-uuid", "hours": 1 }),
            "taskId",
        ),
        (
            "updateTimeLog hours 0",
            UPDATE_TIME_LOG,
            json!({ "id": l, "hours": 0 }),
            "hours",
        ),
        (
            "updateTimeLog hours -1",
            UPDATE_TIME_LOG,
            json!({ "id": l, "hours": -1 }),
            "hours",
        ),
        (
            "updateTimeLog hours 25",
            UPDATE_TIME_LOG,
            json!({ "id": l, "hours": 25 }),
            "hours",
        ),
        (
            "updateTimeLog description of 501",
            UPDATE_TIME_LOG,
            json!({ "id": l, "description": x(501) }),
            "description",
        ),
        (
            "updateTimeLog id not a UUID",
            UPDATE_TIME_LOG,
            json!({ "id": "not-a-uuid", "hours": 1 }),
            "id",
        ),
        // membership ids
        (
            "addWorkspaceMember workspaceId not a UUID",
            ADD_WORKSPACE_MEMBER,
            json!({ "workspaceId": "not-a-uuid", "email": "ann@example.io", "role": "USER" }),
            "workspaceId",
        ),
        (
            "addProjectMember userId not a UUID",
            ADD_PROJECT_MEMBER,
            json!({ "projectId": p, "userId": "not-a-uuid", "role": "USER" }),
            "userId",
        ),
        (
            "removeWorkspaceMember userId not a UUID",
            REMOVE_WORKSPACE_MEMBER,
            json!({ "workspaceId": w, "userId": "not-a-uuid" }),
            "userId",
        ),
    ];
    for (what, query, input, field) in cases {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some(field), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // Ids in queries are checked the same way.
    for (query, what) in [(WORKSPACE, "workspace"), (PROJECT, "project")] {
        let response = app
            .graphql_as(Some(token), query, json!({ "id": "not-a-uuid" }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some("id"), what);
    }

    // Values a scalar can't parse (date-times that aren't RFC 3339, an Int past 32 bits) are
    // refused while coercing the variables, before any resolver runs. They get
    // BAD_USER_INPUT from the server's error-code extension, but no `extensions.field`:
    // async-graphql's message names only the input type ("occurred while parsing
    // \"CreateProjectInput\"").
    let bad_scalars: Vec<(&str, &str, Value)> = vec![
        (
            "createProject deadline \"tomorrow\"",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "Dated", "deadline": "tomorrow" }),
        ),
        (
            "createProject deadline without an offset",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "Dated", "deadline": "2030-01-02T03:04:05" }),
        ),
        (
            "updateProject deadline \"tomorrow\"",
            UPDATE_PROJECT,
            json!({ "id": p, "deadline": "tomorrow" }),
        ),
        (
            "logTime loggedAt \"tomorrow\"",
            LOG_TIME,
            json!({ "taskId": t, "hours": 1, "loggedAt": "tomorrow" }),
        ),
        (
            "updateTimeLog loggedAt out of range",
            UPDATE_TIME_LOG,
            json!({ "id": l, "loggedAt": "2025-13-45T00:00:00Z" }),
        ),
        (
            "logTime hours past 32 bits",
            LOG_TIME,
            json!({ "taskId": t, "hours": 2_147_483_648_i64 }),
        ),
    ];
    for (what, query, input) in bad_scalars {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        let errors = response.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: expected errors, got {}", response.body));
        assert!(!errors.is_empty(), "{what}: expected an error");
        assert!(
            response.body["data"].is_null(),
            "{what}: no data on a refused variable, got {}",
            response.body
        );
        assert_eq!(
            errors[0]["extensions"]["code"].as_str(),
            Some("BAD_USER_INPUT"),
            "{what}: a value the scalar refuses should carry a code, got {}",
            response.body
        );
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // The limits are inclusive and count characters, not bytes ('é' is two bytes in UTF-8).
    let e = |n: usize| "é".repeat(n);
    let created = app
        .graphql_as(
            Some(token),
            CREATE_WORKSPACE,
            json!({ "input": { "name": e(100), "description": e(500) } }),
        )
        .await;
    assert_eq!(created.data()["createWorkspace"]["name"], e(100));
    assert_eq!(created.data()["createWorkspace"]["description"], e(500));
    let stored = Workspace::find_by_id(uuid(&id_of(&created, "createWorkspace")))
        .one(&app.db)
        .await
        .expect("read workspace")
        .expect("the workspace is stored");
    assert_eq!(stored.name, e(100));
    assert_eq!(stored.description.as_deref(), Some(e(500).as_str()));

    let renamed = app
        .graphql_as(
            Some(token),
            UPDATE_WORKSPACE,
            json!({ "input": { "id": w, "name": "ü".repeat(100), "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(renamed.data()["updateWorkspace"]["name"], "ü".repeat(100));

    let phone = "+1 (555) 010-9999 00";
    assert_eq!(phone.chars().count(), 20);
    let client = app
        .graphql_as(
            Some(token),
            CREATE_CLIENT,
            json!({ "input": {
                "workspaceId": w,
                "name": e(100),
                "contactEmail": email_of_len(255),
                "contactPhone": phone,
            } }),
        )
        .await;
    assert_eq!(client.data()["createClient"]["name"], e(100));
    assert_eq!(
        client.data()["createClient"]["contactEmail"],
        email_of_len(255)
    );
    assert_eq!(client.data()["createClient"]["contactPhone"], phone);
    let updated_client = app
        .graphql_as(
            Some(token),
            UPDATE_CLIENT,
            json!({ "input": {
                "id": c,
                "name": "ü".repeat(100),
                "contactEmail": email_of_len(255),
                "contactPhone": "9".repeat(20),
            } }),
        )
        .await;
    assert_eq!(
        updated_client.data()["updateClient"]["name"],
        "ü".repeat(100)
    );

    let project = app
        .graphql_as(
            Some(token),
            CREATE_PROJECT,
            json!({ "input": { "workspaceId": w, "clientId": c, "name": e(100), "description": e(500) } }),
        )
        .await;
    assert_eq!(project.data()["createProject"]["name"], e(100));
    assert_eq!(project.data()["createProject"]["description"], e(500));
    let updated_project = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": p, "name": "ü".repeat(100), "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(
        updated_project.data()["updateProject"]["name"],
        "ü".repeat(100)
    );

    let task = app
        .graphql_as(
            Some(token),
            CREATE_TASK,
            json!({ "input": { "projectId": p, "name": e(150), "description": e(500) } }),
        )
        .await;
    assert_eq!(task.data()["createTask"]["name"], e(150));
    let stored = Task::find_by_id(uuid(&id_of(&task, "createTask")))
        .one(&app.db)
        .await
        .expect("read task")
        .expect("the task is stored");
    assert_eq!(stored.name.chars().count(), 150);
    let updated_task = app
        .graphql_as(
            Some(token),
            UPDATE_TASK,
            json!({ "input": { "id": t, "name": "ü".repeat(150), "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(updated_task.data()["updateTask"]["name"], "ü".repeat(150));

    for hours in [1, 24] {
        let logged = app
            .graphql_as(
                Some(token),
                LOG_TIME,
                json!({ "input": { "taskId": t, "hours": hours, "description": e(500) } }),
            )
            .await;
        assert_eq!(logged.data()["logTime"]["hours"], hours);
        assert_eq!(logged.data()["logTime"]["description"], e(500));
    }
    let updated_log = app
        .graphql_as(
            Some(token),
            UPDATE_TIME_LOG,
            json!({ "input": { "id": l, "hours": 24, "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(updated_log.data()["updateTimeLog"]["hours"], 24);
}
