//! The membership rules: owners, removal, project members, contact details.

use super::*;

#[tokio::test]
async fn the_last_owner_cannot_leave_or_be_demoted() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let carol = app.sign_up("carol@example.io").await;
    let dave = app.sign_up("dave@example.io").await;
    let w = app.create_workspace(&ann, "Acme").await;

    // Ann is the only OWNER.
    let before = Rows::read(&app.db).await;
    let leave = remove_workspace_member(&app, &ann.token, &w, &ann.id).await;
    assert_error(&leave, "CONFLICT", None, "the sole OWNER leaving");
    for role in ["ADMIN", "USER"] {
        let demote = set_workspace_role(&app, &ann.token, &w, &ann.id, role).await;
        assert_error(
            &demote,
            "CONFLICT",
            None,
            &format!("the sole OWNER demoting themself to {role}"),
        );
    }
    assert_eq!(Rows::read(&app.db).await, before, "nothing changed");

    add_workspace_member(&app, &ann.token, &w, &bob.email, "OWNER")
        .await
        .data();
    add_workspace_member(&app, &ann.token, &w, &carol.email, "ADMIN")
        .await
        .data();
    add_workspace_member(&app, &ann.token, &w, &dave.email, "USER")
        .await
        .data();

    // With a second OWNER, the first may leave.
    let leave = remove_workspace_member(&app, &ann.token, &w, &ann.id).await;
    assert!(
        leave.data()["removeWorkspaceMember"]["id"].is_string(),
        "returns the membership id"
    );
    let gone = app
        .graphql_as(Some(&ann.token), WORKSPACE, json!({ "id": w }))
        .await;
    assert_eq!(gone.error_code(), "NOT_FOUND", "Ann left");

    // Now Bob is the last OWNER.
    let leave = remove_workspace_member(&app, &bob.token, &w, &bob.id).await;
    assert_error(&leave, "CONFLICT", None, "the new sole OWNER leaving");
    let demote = set_workspace_role(&app, &bob.token, &w, &bob.id, "USER").await;
    assert_error(
        &demote,
        "CONFLICT",
        None,
        "the new sole OWNER demoting themself",
    );

    // An ADMIN and a USER may leave.
    let leave = remove_workspace_member(&app, &carol.token, &w, &carol.id).await;
    assert!(leave.data()["removeWorkspaceMember"]["id"].is_string());
    let leave = remove_workspace_member(&app, &dave.token, &w, &dave.id).await;
    assert!(leave.data()["removeWorkspaceMember"]["id"].is_string());

    // Two OWNERs leaving at the same moment: one may go, the other is then the last.
    let erin = app.sign_up("erin@example.io").await;
    add_workspace_member(&app, &bob.token, &w, &erin.email, "OWNER")
        .await
        .data();
    let (bob_leaves, erin_leaves) = tokio::join!(
        remove_workspace_member(&app, &bob.token, &w, &bob.id),
        remove_workspace_member(&app, &erin.token, &w, &erin.id),
    );
    let outcomes = [&bob_leaves, &erin_leaves].map(|response| {
        let extensions = &response.body["errors"][0]["extensions"];
        (
            extensions["code"].as_str().map(str::to_owned),
            response.body.clone(),
        )
    });
    let left = outcomes.iter().filter(|(code, _)| code.is_none()).count();
    assert_eq!(
        left, 1,
        "exactly one of two OWNERs leaving at once goes: {outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|(code, _)| code.is_none() || code.as_deref() == Some("CONFLICT")),
        "the other one is the last OWNER: CONFLICT, got {outcomes:?}"
    );
    let stays = if bob_leaves.body["errors"].is_null() {
        &erin
    } else {
        &bob
    };

    let members = WorkspaceUser::find()
        .filter(workspace_user::Column::WorkspaceId.eq(uuid(&w)))
        .all(&app.db)
        .await
        .expect("read workspace_users");
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0].user_id, uuid(&stays.id));
    assert_eq!(members[0].role, Role::Owner);
}

#[tokio::test]
async fn removing_a_workspace_member_removes_their_project_memberships() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let beta = app.create_workspace(&ann, "Beta").await;
    let acme_client = app.create_client(&ann, &acme, "Globex").await;
    let beta_client = app.create_client(&ann, &beta, "Hooli").await;
    let first = app.create_project(&ann, &acme, &acme_client, "First").await;
    let second = app
        .create_project(&ann, &acme, &acme_client, "Second")
        .await;
    let elsewhere = app
        .create_project(&ann, &beta, &beta_client, "Elsewhere")
        .await;
    for workspace in [&acme, &beta] {
        add_workspace_member(&app, token, workspace, &bob.email, "USER")
            .await
            .data();
    }
    for project in [&first, &second, &elsewhere] {
        add_project_member(&app, token, project, &bob.id, "USER")
            .await
            .data();
    }
    let bobs_projects = |rows: &Rows| {
        rows.project_users
            .iter()
            .filter(|row| row.user_id == uuid(&bob.id))
            .map(|row| row.project_id)
            .collect::<BTreeSet<_>>()
    };
    let before = Rows::read(&app.db).await;
    assert_eq!(bobs_projects(&before), set(&[&first, &second, &elsewhere]));
    for project in [&first, &second] {
        let seen = app
            .graphql_as(Some(&bob.token), PROJECT, json!({ "id": project }))
            .await;
        assert_eq!(seen.data()["project"]["id"], project.as_str());
    }

    let removed = remove_workspace_member(&app, token, &acme, &bob.id).await;
    assert!(removed.data()["removeWorkspaceMember"]["id"].is_string());

    let after = Rows::read(&app.db).await;
    assert_eq!(
        bobs_projects(&after),
        set(&[&elsewhere]),
        "only the other workspace's project membership stays"
    );
    assert_eq!(
        after
            .project_users
            .iter()
            .filter(|row| row.user_id == uuid(&ann.id))
            .count(),
        3,
        "other members keep theirs"
    );
    assert!(
        after
            .workspace_users
            .iter()
            .any(|row| row.user_id == uuid(&bob.id) && row.workspace_id == uuid(&beta)),
        "the other workspace's membership stays"
    );
    for project in [&first, &second] {
        let hidden = app
            .graphql_as(Some(&bob.token), PROJECT, json!({ "id": project }))
            .await;
        assert_eq!(hidden.error_code(), "NOT_FOUND");
    }
    let still = app
        .graphql_as(Some(&bob.token), PROJECT, json!({ "id": elsewhere }))
        .await;
    assert_eq!(still.data()["project"]["id"], elsewhere.as_str());
}

#[tokio::test]
async fn project_members_must_be_workspace_members() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let outsider = app.sign_up("olga@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &acme, "Globex").await;
    let launch = app.create_project(&ann, &acme, &client, "Launch").await;
    // Olga is a member of a workspace, just not of this one.
    app.create_workspace(&outsider, "Olga's").await;

    for (what, user_id) in [
        ("a user outside the workspace", outsider.id.clone()),
        ("a user id nobody has", Uuid::now_v7().to_string()),
    ] {
        let before = Rows::read(&app.db).await;
        let response = add_project_member(&app, token, &launch, &user_id, "USER").await;
        assert_error(&response, "BAD_USER_INPUT", Some("userId"), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }
    let hidden = app
        .graphql_as(Some(&outsider.token), PROJECT, json!({ "id": launch }))
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn contact_details_are_visible_to_co_members_only() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let signed_up = app
        .graphql(
            SIGN_UP,
            json!({ "input": {
                "name": "Bob", "email": "bob@example.io", "password": PASSWORD, "phone": "+1 555 0100"
            } }),
        )
        .await;
    let bob = Account {
        id: signed_up.data()["signUp"]["user"]["id"]
            .as_str()
            .expect("bob's id")
            .to_owned(),
        email: "bob@example.io".into(),
        token: signed_up.data()["signUp"]["token"]
            .as_str()
            .expect("bob's token")
            .to_owned(),
    };
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &acme, "Globex").await;
    let launch = app.create_project(&ann, &acme, &client, "Launch").await;
    let design = app.create_task(&ann, &launch, "Design").await;

    // A co-member sees Bob's contact details wherever Bob appears.
    let added = add_workspace_member(&app, token, &acme, &bob.email, "USER").await;
    let user = &added.data()["addWorkspaceMember"]["user"];
    assert_eq!(user["id"], bob.id.as_str());
    assert_eq!(user["email"], "bob@example.io");
    assert_eq!(user["phone"], "+1 555 0100");
    let joined = add_project_member(&app, token, &launch, &bob.id, "USER").await;
    assert_eq!(
        joined.data()["addProjectMember"]["user"]["email"],
        "bob@example.io"
    );
    let log = app.log_time(&bob, &design, 2).await;
    let touch = |description: &'static str| {
        let log = log.clone();
        let app = &app;
        async move {
            app.graphql_as(
                Some(token),
                UPDATE_TIME_LOG,
                json!({ "input": { "id": log, "description": description } }),
            )
            .await
        }
    };
    let seen = touch("checked").await;
    let user = &seen.data()["updateTimeLog"]["user"];
    assert_eq!(user["id"], bob.id.as_str());
    assert_eq!(user["email"], "bob@example.io");
    assert_eq!(user["phone"], "+1 555 0100");

    // Bob leaves; his time log stays, and through it Ann (who administers the project)
    // still sees a User object for Bob, but now without his contact details.
    remove_workspace_member(&app, &bob.token, &acme, &bob.id)
        .await
        .data();
    let seen = touch("re-checked").await;
    let user = &seen.data()["updateTimeLog"]["user"];
    assert_eq!(user["id"], bob.id.as_str(), "the author is still shown");
    assert_eq!(user["email"], Value::Null, "no shared workspace: no email");
    assert_eq!(user["phone"], Value::Null, "no shared workspace: no phone");

    // Sharing any workspace is enough.
    let beta = app.create_workspace(&bob, "Beta").await;
    add_workspace_member(&app, &bob.token, &beta, &ann.email, "USER")
        .await
        .data();
    let seen = touch("checked again").await;
    assert_eq!(
        seen.data()["updateTimeLog"]["user"]["email"],
        "bob@example.io"
    );
    assert_eq!(seen.data()["updateTimeLog"]["user"]["phone"], "+1 555 0100");
}
