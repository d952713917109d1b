//! References between the domain's rows: same-workspace clients, cascades on delete.

use super::*;

#[tokio::test]
async fn a_project_client_must_belong_to_the_same_workspace() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let beta = app.create_workspace(&ann, "Beta").await;
    let acme_client = app.create_client(&ann, &acme, "Globex").await;
    let acme_other = app.create_client(&ann, &acme, "Initech").await;
    let beta_client = app.create_client(&ann, &beta, "Hooli").await;
    let launch = app
        .create_project(&ann, &acme, &acme_client, "Launch")
        .await;
    let unknown = Uuid::now_v7().to_string();

    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "createProject with another workspace's client",
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": beta_client, "name": "Mixed" }),
        ),
        (
            "createProject with an unknown client",
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": unknown, "name": "Mixed" }),
        ),
        (
            "updateProject onto another workspace's client",
            UPDATE_PROJECT,
            json!({ "id": launch, "clientId": beta_client }),
        ),
        (
            "updateProject onto an unknown client",
            UPDATE_PROJECT,
            json!({ "id": launch, "clientId": unknown }),
        ),
    ];
    for (what, query, input) in cases {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some("clientId"), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // Another client of the same workspace is fine.
    let moved = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": launch, "clientId": acme_other } }),
        )
        .await;
    assert_eq!(
        moved.data()["updateProject"]["client"]["id"],
        acme_other.as_str()
    );
}

/// The ids of the domain tables' rows.
#[derive(Debug, PartialEq, Clone)]
struct Ids {
    workspaces: BTreeSet<Uuid>,
    clients: BTreeSet<Uuid>,
    projects: BTreeSet<Uuid>,
    tasks: BTreeSet<Uuid>,
    time_logs: BTreeSet<Uuid>,
}

impl Ids {
    async fn read(db: &DatabaseConnection) -> (Self, Rows) {
        let rows = Rows::read(db).await;
        let ids = Self {
            workspaces: ids(&rows.workspaces, |r| r.id),
            clients: ids(&rows.clients, |r| r.id),
            projects: ids(&rows.projects, |r| r.id),
            tasks: ids(&rows.tasks, |r| r.id),
            time_logs: ids(&rows.time_logs, |r| r.id),
        };
        // No membership outlives what it belongs to.
        for row in &rows.workspace_users {
            assert!(ids.workspaces.contains(&row.workspace_id), "{row:?}");
        }
        for row in &rows.project_users {
            assert!(ids.projects.contains(&row.project_id), "{row:?}");
        }
        (ids, rows)
    }
}

fn remove(set: &mut BTreeSet<Uuid>, gone: &[&String]) {
    for id in gone {
        assert!(set.remove(&uuid(id)), "{id} was there before");
    }
}

#[tokio::test]
async fn cascade_on_delete_matches_the_seed() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    add_workspace_member(&app, token, &acme, &bob.email, "USER")
        .await
        .data();
    let globex = app.create_client(&ann, &acme, "Globex").await;
    let initech = app.create_client(&ann, &acme, "Initech").await;
    let p1 = app.create_project(&ann, &acme, &globex, "One").await;
    let p2 = app.create_project(&ann, &acme, &globex, "Two").await;
    let p3 = app.create_project(&ann, &acme, &initech, "Three").await;
    for project in [&p1, &p2, &p3] {
        add_project_member(&app, token, project, &bob.id, "USER")
            .await
            .data();
    }
    let t1a = app.create_task(&ann, &p1, "1a").await;
    let t1b = app.create_task(&ann, &p1, "1b").await;
    let t2 = app.create_task(&ann, &p2, "2").await;
    let t3 = app.create_task(&ann, &p3, "3").await;
    let l1a_ann = app.log_time(&ann, &t1a, 1).await;
    let l1a_bob = app.log_time(&bob, &t1a, 2).await;
    let l1b = app.log_time(&ann, &t1b, 3).await;
    let l2 = app.log_time(&bob, &t2, 4).await;
    let l3 = app.log_time(&ann, &t3, 5).await;
    // A second workspace that no delete may touch.
    let beta = app.create_workspace(&ann, "Beta").await;
    let hooli = app.create_client(&ann, &beta, "Hooli").await;
    let p_beta = app.create_project(&ann, &beta, &hooli, "Other").await;
    let t_beta = app.create_task(&ann, &p_beta, "Other").await;
    let l_beta = app.log_time(&ann, &t_beta, 6).await;

    let (mut expected, _) = Ids::read(&app.db).await;

    let deleted = app
        .graphql_as(Some(token), DELETE_TASK, json!({ "input": { "id": t1a } }))
        .await;
    assert_eq!(deleted.data()["deleteTask"]["id"], t1a.as_str());
    remove(&mut expected.tasks, &[&t1a]);
    remove(&mut expected.time_logs, &[&l1a_ann, &l1a_bob]);
    assert_eq!(Ids::read(&app.db).await.0, expected, "deleteTask");

    let deleted = app
        .graphql_as(
            Some(token),
            DELETE_PROJECT,
            json!({ "input": { "id": p2 } }),
        )
        .await;
    assert_eq!(deleted.data()["deleteProject"]["id"], p2.as_str());
    remove(&mut expected.projects, &[&p2]);
    remove(&mut expected.tasks, &[&t2]);
    remove(&mut expected.time_logs, &[&l2]);
    assert_eq!(Ids::read(&app.db).await.0, expected, "deleteProject");

    let deleted = app
        .graphql_as(
            Some(token),
            DELETE_CLIENT,
            json!({ "input": { "id": initech } }),
        )
        .await;
    assert_eq!(deleted.data()["deleteClient"]["id"], initech.as_str());
    remove(&mut expected.clients, &[&initech]);
    remove(&mut expected.projects, &[&p3]);
    remove(&mut expected.tasks, &[&t3]);
    remove(&mut expected.time_logs, &[&l3]);
    assert_eq!(Ids::read(&app.db).await.0, expected, "deleteClient");

    let deleted = app
        .graphql_as(
            Some(token),
            DELETE_WORKSPACE,
            json!({ "input": { "id": acme } }),
        )
        .await;
    assert_eq!(deleted.data()["deleteWorkspace"]["id"], acme.as_str());
    remove(&mut expected.workspaces, &[&acme]);
    remove(&mut expected.clients, &[&globex]);
    remove(&mut expected.projects, &[&p1]);
    remove(&mut expected.tasks, &[&t1b]);
    remove(&mut expected.time_logs, &[&l1b]);
    let (left, rows) = Ids::read(&app.db).await;
    assert_eq!(left, expected, "deleteWorkspace");
    assert_eq!(
        left,
        Ids {
            workspaces: set(&[&beta]),
            clients: set(&[&hooli]),
            projects: set(&[&p_beta]),
            tasks: set(&[&t_beta]),
            time_logs: set(&[&l_beta]),
        },
        "only the other workspace is left"
    );
    assert_eq!(rows.workspace_users.len(), 1, "{:?}", rows.workspace_users);
    assert_eq!(rows.project_users.len(), 1, "{:?}", rows.project_users);
    let users = User::find().count(&app.db).await.expect("count users");
    assert_eq!(users, 2, "people outlive the workspaces they worked in");
}
