//! A project's tasks: pages forward by cursor, page sizes, cursors from elsewhere or forged,
//! filters and orders.

use super::*;

#[tokio::test]
async fn tasks_page_forward_by_cursor() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a", "b", "c", "d", "e"]).await;
    let id = projects[0].to_string();
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let response = app
            .graphql_as(
                Some(&ann.token),
                TASKS,
                json!({ "id": id, "first": 2, "after": after }),
            )
            .await;
        let tasks = &response.data()["project"]["tasks"];
        assert_eq!(tasks["totalCount"], 5, "the count covers every page");
        assert_eq!(tasks["pageInfo"]["hasPreviousPage"], pages > 0);
        seen.extend(names(&response.body));
        pages += 1;
        if tasks["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = tasks["pageInfo"]["endCursor"].clone();
        assert!(pages < 5, "paging terminates");
    }
    assert_eq!(pages, 3, "2 + 2 + 1");
    assert_eq!(seen, ["a", "b", "c", "d", "e"], "oldest first, each once");
}

#[tokio::test]
async fn page_sizes_are_capped_and_empty_pages_are_fine() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a", "b"]).await;
    let id = projects[0].to_string();
    let over = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id, "first": 101 }))
        .await;
    assert_eq!(over.error_code(), "BAD_USER_INPUT");
    assert_eq!(over.body["errors"][0]["extensions"]["field"], "first");
    let zero = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id, "first": 0 }))
        .await;
    let tasks = &zero.data()["project"]["tasks"];
    assert_eq!(tasks["edges"], json!([]));
    assert_eq!(tasks["pageInfo"]["hasNextPage"], true);
    assert_eq!(tasks["pageInfo"]["endCursor"], Value::Null);

    let all = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id }))
        .await;
    let end = all.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
    let past_the_end = app
        .graphql_as(Some(&ann.token), TASKS, json!({ "id": id, "after": end }))
        .await;
    assert_eq!(names(&past_the_end.body), Vec::<String>::new());
    assert_eq!(
        past_the_end.data()["project"]["tasks"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn cursors_from_another_connection_are_rejected() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 2, &["a", "b", "c"]).await;
    let first_page = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[0].to_string(), "first": 1 }),
        )
        .await;
    let cursor = first_page.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
    let other_project = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[1].to_string(), "after": cursor }),
        )
        .await;
    assert_eq!(other_project.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        other_project.body["errors"][0]["extensions"]["field"],
        "after"
    );
    let other_order = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[0].to_string(), "after": cursor, "orderBy": { "field": "NAME" } }),
        )
        .await;
    assert_eq!(other_order.error_code(), "BAD_USER_INPUT");
    let garbage = app
        .graphql_as(
            Some(&ann.token),
            TASKS,
            json!({ "id": projects[0].to_string(), "after": "bm90IGEgY3Vyc29y" }),
        )
        .await;
    assert_eq!(garbage.error_code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn tasks_filter_and_order() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    // Statuses cycle PENDING, IN_PROGRESS, COMPLETED by position.
    let names_in = ["Write spec", "review SPEC", "Ship", "Spec 100%", "Specs_2"];
    let projects = seed(&app.db, &ann, 1, &names_in).await;
    let id = projects[0].to_string();
    let query = |variables: Value| app.graphql_as(Some(&ann.token), TASKS, variables);

    let by_name =
        query(json!({ "id": id, "orderBy": { "field": "NAME", "direction": "DESC" } })).await;
    let mut expected: Vec<&str> = names_in.to_vec();
    expected.sort_unstable();
    expected.reverse();
    assert_eq!(names(&by_name.body), expected);

    let spec = query(json!({ "id": id, "filter": { "nameContains": "SPEC" } })).await;
    assert_eq!(
        names(&spec.body),
        ["Write spec", "review SPEC", "Spec 100%", "Specs_2"]
    );
    assert_eq!(
        spec.data()["project"]["tasks"]["totalCount"],
        4,
        "the count follows the filter"
    );

    let literal = query(json!({ "id": id, "filter": { "nameContains": "0%" } })).await;
    assert_eq!(names(&literal.body), ["Spec 100%"], "% matches itself");
    let underscore = query(json!({ "id": id, "filter": { "nameContains": "s_" } })).await;
    assert_eq!(names(&underscore.body), ["Specs_2"], "_ matches itself");

    let pending = query(json!({ "id": id, "filter": { "status": "PENDING" } })).await;
    assert_eq!(names(&pending.body), ["Write spec", "Spec 100%"]);

    // Paging by name descending continues where it left off.
    let first =
        query(json!({ "id": id, "first": 2, "orderBy": { "field": "NAME", "direction": "DESC" } }))
            .await;
    let after = first.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
    let rest = query(
        json!({ "id": id, "after": after, "orderBy": { "field": "NAME", "direction": "DESC" } }),
    )
    .await;
    let mut paged = names(&first.body);
    paged.extend(names(&rest.body));
    assert_eq!(paged, expected);
}

/// `cursor` (a real one) with its sort value replaced by `value`, as a client may forge it.
fn forged(cursor: &Value, value: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let plain = URL_SAFE_NO_PAD
        .decode(cursor.as_str().expect("a cursor"))
        .expect("cursors are base64");
    let plain = String::from_utf8(plain).expect("cursors are text");
    let mut parts: Vec<&str> = plain.split('|').collect();
    parts[4] = value;
    URL_SAFE_NO_PAD.encode(parts.join("|"))
}

#[tokio::test]
async fn a_forged_cursor_value_is_refused_or_read_by_id_never_an_internal_error() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let projects = seed(&app.db, &ann, 1, &["a", "b", "c"]).await;
    let id = projects[0].to_string();
    for order in [json!(null), json!({ "field": "NAME" })] {
        let page = app
            .graphql_as(
                Some(&ann.token),
                TASKS,
                json!({ "id": id, "first": 1, "orderBy": order }),
            )
            .await;
        let cursor = page.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
        // The other kind of value than the order's: read as a position by id alone.
        for value in ["s:YQ", "t:1790000000000000"] {
            let response = app
                .graphql_as(
                    Some(&ann.token),
                    TASKS,
                    json!({ "id": id, "after": forged(&cursor, value), "orderBy": order }),
                )
                .await;
            assert!(
                response.data()["project"]["tasks"]["edges"].is_array(),
                "{order} after {value}: {}",
                response.body
            );
        }
        // Values no stored row can have: NUL in text, instants outside years 0–9999.
        for value in ["s:YQBi", "t:-210000000000000000", "t:300000000000000000"] {
            let response = app
                .graphql_as(
                    Some(&ann.token),
                    TASKS,
                    json!({ "id": id, "after": forged(&cursor, value), "orderBy": order }),
                )
                .await;
            assert_eq!(
                response.error_code(),
                "BAD_USER_INPUT",
                "{order} after {value}: {}",
                response.body
            );
        }
    }
}
