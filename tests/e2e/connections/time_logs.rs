//! A task's time logs: filters, orders and pages.

use super::*;

const TIME_LOGS: &str = "query Logs($id: ID!, $first: Int, $after: String, $filter: TimeLogFilterInput, $orderBy: TimeLogOrderInput) {
    task(id: $id) {
        totalHours
        timeLogs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
            totalCount
            nodes { id hours loggedAt user { id } }
            pageInfo { hasNextPage endCursor }
        }
    }
}";

fn hours_of(body: &Value) -> Vec<i64> {
    body["data"]["task"]["timeLogs"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|log| log["hours"].as_i64().expect("hours"))
        .collect()
}

#[tokio::test]
async fn time_logs_filter_order_and_page() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let (ann_id, bob_id) = (user_id(&ann), user_id(&bob));
    let seed = Seed::new(&app.db);
    let (acme, client) = seed
        .workspace(&[(ann_id, Role::Owner), (bob_id, Role::User)])
        .await;
    let projects = seed.projects(&acme, client.id, &[None]).await;
    let task = seed.tasks(&projects, 1).await[0].1;
    // Hours 1–6 at minutes 0, 10, …, 50; Bob logged the odd hours. Two logs share minute
    // 20, so the id breaks the tie.
    let minutes = [0, 10, 20, 20, 40, 50];
    let logs: Vec<_> = (1..=6)
        .zip(minutes)
        .map(|(hours, minute)| {
            let user = if hours % 2 == 1 { bob_id } else { ann_id };
            (task, user, hours, minute)
        })
        .collect();
    seed.logs(&logs).await;
    let at = |minute: i64| (seed.now + Duration::minutes(minute)).to_rfc3339();
    let query = |variables: Value| {
        let mut variables = variables;
        variables["id"] = json!(task.to_string());
        app.graphql_as(Some(&ann.token), TIME_LOGS, variables)
    };

    let all = query(json!({})).await;
    assert_eq!(
        hours_of(&all.body),
        [1, 2, 3, 4, 5, 6],
        "LOGGED_AT ascending, ties by id"
    );
    assert_eq!(all.data()["task"]["totalHours"], 21);
    let desc = query(json!({ "orderBy": { "field": "LOGGED_AT", "direction": "DESC" } })).await;
    assert_eq!(hours_of(&desc.body), [6, 5, 4, 3, 2, 1]);

    // From is included, to excluded.
    let window = query(json!({ "filter": { "from": at(10), "to": at(40) } })).await;
    assert_eq!(hours_of(&window.body), [2, 3, 4]);
    assert_eq!(window.data()["task"]["timeLogs"]["totalCount"], 3);
    let bobs = query(json!({ "filter": { "userId": bob.id } })).await;
    assert_eq!(hours_of(&bobs.body), [1, 3, 5]);
    let both = query(json!({ "filter": { "userId": bob.id, "from": at(20) } })).await;
    assert_eq!(hours_of(&both.body), [3, 5]);
    let backwards = query(json!({ "filter": { "from": at(40), "to": at(10) } })).await;
    assert_eq!(backwards.error_code(), "BAD_USER_INPUT");

    // Paging backwards in time across the tie, then past the end: the count still covers
    // the whole list.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = query(json!({
            "first": 2, "after": after,
            "orderBy": { "field": "LOGGED_AT", "direction": "DESC" }
        }))
        .await;
        let logs = &page.data()["task"]["timeLogs"];
        assert_eq!(logs["totalCount"], 6);
        seen.extend(hours_of(&page.body));
        after = logs["pageInfo"]["endCursor"].clone();
        if logs["pageInfo"]["hasNextPage"] == false {
            break;
        }
    }
    assert_eq!(seen, [6, 5, 4, 3, 2, 1]);
    let past_the_end = query(json!({
        "after": after, "orderBy": { "field": "LOGGED_AT", "direction": "DESC" }
    }))
    .await;
    assert_eq!(hours_of(&past_the_end.body), Vec::<i64>::new());
    assert_eq!(past_the_end.data()["task"]["timeLogs"]["totalCount"], 6);
    let ascending_with_it = query(json!({ "after": after })).await;
    assert_eq!(ascending_with_it.error_code(), "BAD_USER_INPUT");
}
