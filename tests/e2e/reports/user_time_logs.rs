//! `User.timeLogs` as each kind of viewer sees it.

use super::*;

const USER_LOGS: &str = "query L($id: ID!, $first: Int, $after: String, $filter: UserTimeLogFilterInput, $orderBy: TimeLogOrderInput) {
    node(id: $id) { ... on User {
        timeLogs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
            totalCount
            nodes { hours }
            pageInfo { hasNextPage endCursor }
        }
    } }
}";

async fn user_logs(app: &TestApp, viewer: &Account, of: &Account, args: Value) -> Value {
    let mut variables = json!({ "id": of.id });
    if let (Some(variables), Some(args)) = (variables.as_object_mut(), args.as_object()) {
        variables.extend(args.clone());
    }
    let response = app
        .graphql_as(Some(&viewer.token), USER_LOGS, variables)
        .await;
    response.data()["node"]["timeLogs"].clone()
}

fn hours(connection: &Value) -> Vec<i64> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {connection}"))
        .iter()
        .map(|node| node["hours"].as_i64().expect("hours"))
        .collect()
}

#[tokio::test]
async fn user_time_logs_show_what_the_viewer_may_read() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // (viewer, whose logs, hours oldest first)
    let table: [(&Account, &Account, &[i64]); 5] = [
        (&w.bob, &w.bob, &[3, 4, 1]),
        (&w.ann, &w.bob, &[3, 4, 7, 1]),
        (&w.cid, &w.bob, &[3, 4, 7, 1]),
        (&w.bob, &w.ann, &[2, 5, 8]),
        (&w.ann, &w.ann, &[2, 5, 8, 6]),
    ];
    for (viewer, of, want) in table {
        let logs = user_logs(&app, viewer, of, json!({})).await;
        assert_eq!(hours(&logs), want, "{} reads {}", viewer.email, of.email);
        assert_eq!(logs["totalCount"], want.len(), "{} counts", viewer.email);
    }
    let mine = app
        .graphql_as(
            Some(&w.bob.token),
            "{ me { timeLogs(orderBy: { field: LOGGED_AT, direction: DESC }) { nodes { hours } } } }",
            json!({}),
        )
        .await;
    assert_eq!(hours(&mine.data()["me"]["timeLogs"]), [1, 4, 3]);

    // Filter by time (half-open), and page forward.
    let from = base() + Duration::minutes(THU);
    let to = base() + Duration::minutes(NEXT_WED + 30);
    let filter = json!({ "filter": { "from": from.to_rfc3339(), "to": to.to_rfc3339() } });
    let window = user_logs(&app, &w.ann, &w.bob, filter).await;
    assert_eq!(hours(&window), [4, 7]);
    assert_eq!(window["totalCount"], 2);
    let first = user_logs(&app, &w.ann, &w.bob, json!({ "first": 3 })).await;
    assert_eq!(hours(&first), [3, 4, 7]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let after = json!({ "first": 3, "after": first["pageInfo"]["endCursor"] });
    let rest = user_logs(&app, &w.ann, &w.bob, after).await;
    assert_eq!(hours(&rest), [1]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    // A task's cursor is not one of a user's list.
    let task_page = app
        .graphql_as(
            Some(&w.ann.token),
            "query T($id: ID!) { node(id: $id) { ... on Project { tasks(first: 1) { nodes { timeLogs(first: 1) { pageInfo { endCursor } } } } } } }",
            json!({ "id": w.projects[0].to_string() }),
        )
        .await;
    let foreign =
        task_page.data()["node"]["tasks"]["nodes"][0]["timeLogs"]["pageInfo"]["endCursor"].clone();
    let refused = app
        .graphql_as(
            Some(&w.ann.token),
            USER_LOGS,
            json!({ "id": w.bob.id, "after": foreign }),
        )
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");

    // Several users' lists in one query, batched: each as this viewer may see it.
    let members = "query W($id: ID!) { workspace(id: $id) { members { nodes {
        user { id timeLogs { totalCount nodes { hours } } } } } } }";
    let response = app
        .graphql_as(
            Some(&w.bob.token),
            members,
            json!({ "id": w.acme.to_string() }),
        )
        .await;
    let listed: HashMap<String, Vec<i64>> = response.data()["workspace"]["members"]["nodes"]
        .as_array()
        .expect("members")
        .iter()
        .map(|member| {
            let logs = &member["user"]["timeLogs"];
            assert_eq!(logs["totalCount"], hours(logs).len());
            let id = member["user"]["id"].as_str().expect("id").to_owned();
            (id, hours(logs))
        })
        .collect();
    assert_eq!(listed[&w.ann.id], [2, 5, 8]);
    assert_eq!(listed[&w.bob.id], [3, 4, 1]);
    assert_eq!(listed[&w.cid.id], Vec::<i64>::new());
}
