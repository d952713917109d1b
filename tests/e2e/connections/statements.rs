//! The statement budget: sibling lists, reads by id, a page with its count.

use super::*;

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
