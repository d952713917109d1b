//! Hostile documents are refused before anything runs: too deep, too costly, too many
//! aliases, too long. Each refusal has its own code, runs no resolver (a mutation in it
//! creates nothing) and leaves the server answering the next request.

use serde_json::{Value, json};
use tests::{Account, InitOutcome, TestApp, WsProtocol, bearer};

/// graphql-js's `getIntrospectionQuery()` (descriptions, `specifiedByURL`,
/// `isRepeatable`), as GraphiQL and code generators send it.
pub(crate) const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    description
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name
    ofType { kind name
      ofType { kind name
        ofType { kind name
          ofType { kind name
            ofType { kind name
              ofType { kind name
                ofType { kind name }
              }
            }
          }
        }
      }
    }
  }
}";

/// The nested-reads benchmark's tree: a few fields per level.
const BENCHMARK_TREE: &str = "query Tree($id: ID!) { workspace(id: $id) { id name
    projects(first: 20) { totalCount nodes { id name deadline
        tasks(first: 25) { totalCount nodes { id name status
            timeLogs(first: 8) { nodes { id hours loggedAt } } } } } } } }";

const CREATE: &str = "createWorkspace(input: { name: \"Should not exist\" }) { id }";

async fn workspace_count(app: &TestApp, account: &Account) -> u64 {
    let response = app
        .graphql_as(
            Some(&account.token),
            "{ workspaces { totalCount } }",
            json!({}),
        )
        .await;
    response.data()["workspaces"]["totalCount"]
        .as_u64()
        .expect("totalCount")
}

/// Sends `query` as `account`, asserts it was refused with `code` before anything ran
/// (no data, at most the session lookup in SQL, no workspace created), and that a normal
/// request succeeds right after.
async fn assert_refused(app: &TestApp, account: &Account, query: &str, code: &str) -> Value {
    let before = workspace_count(app, account).await;
    let response = app.graphql_as(Some(&account.token), query, json!({})).await;
    assert_eq!(response.error_code(), code, "{}", response.body);
    assert!(
        response.body.get("data").is_none_or(Value::is_null),
        "nothing ran: {}",
        response.body
    );
    assert!(
        response.sql_statements() <= 1,
        "only the session lookup ran: {}",
        response.body
    );
    assert_eq!(
        workspace_count(app, account).await,
        before,
        "nothing was created"
    );
    let me = app
        .graphql_as(Some(&account.token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(me.data()["me"]["id"], account.id.as_str());
    response.body
}

#[tokio::test]
async fn a_too_deep_query_is_refused_with_query_too_deep() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    // createWorkspace, clients, nodes, then three fields per round: 3 + 3 × 4 = 15 levels.
    let rounds = 4;
    let query = format!(
        "mutation {{ createWorkspace(input: {{ name: \"Deep\" }}) {{ clients {{ nodes {{ {} id {} }} }} }} }}",
        "projects { nodes { client { ".repeat(rounds),
        "} } } ".repeat(rounds),
    );
    assert_refused(&app, &ann, &query, "QUERY_TOO_DEEP").await;

    // Twelve levels pass.
    let ok = "{ workspaces(first: 1) { nodes { projects(first: 1) { nodes { tasks(first: 1) {
        nodes { timeLogs(first: 1) { nodes { task { project { client { id } } } } } } } } } } } }";
    let response = app.graphql_as(Some(&ann.token), ok, json!({})).await;
    response.data();
}

#[tokio::test]
async fn a_cost_bomb_is_refused_with_query_too_complex() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    // Four connections of 100 below each other: 100⁴ time logs.
    let query = format!(
        "mutation {{ {CREATE} w: createWorkspace(input: {{ name: \"Bomb\" }}) {{
            clients(first: 100) {{ nodes {{ projects(first: 100) {{ nodes {{
                tasks(first: 100) {{ nodes {{ timeLogs(first: 100) {{ nodes {{ hours }} }} }} }} }} }} }} }} }} }}"
    );
    assert_refused(&app, &ann, &query, "QUERY_TOO_COMPLEX").await;

    // The same as a query, without a mutation in it.
    let query = "{ workspaces(first: 100) { nodes { projects(first: 100) { nodes {
        tasks(first: 100) { nodes { timeLogs(first: 100) { nodes { hours } } } } } } } } }";
    assert_refused(&app, &ann, query, "QUERY_TOO_COMPLEX").await;
}

#[tokio::test]
async fn an_alias_bomb_is_refused_with_too_many_aliases() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let aliases = |n: usize| {
        (0..n)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let query = format!("mutation {{ {CREATE} {} }}", aliases(3_000));
    let body = assert_refused(&app, &ann, &query, "TOO_MANY_ALIASES").await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("3000 aliases")),
        "{body}"
    );

    // Thirty aliases are fine.
    let response = app
        .graphql_as(
            Some(&ann.token),
            &format!("{{ {} }}", aliases(30)),
            json!({}),
        )
        .await;
    assert_eq!(response.data()["a29"], "Query");
}

#[tokio::test]
async fn fifty_thousand_aliased_typenames_are_refused() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    // The classic bomb: cheap per field, so a stock complexity limit lets it through.
    let query = format!("{{ {} }}", "a: __typename ".repeat(50_000));
    let response = app
        .http()
        .post(app.url("/graphql"))
        .bearer_auth(&ann.token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status().as_u16();
    if status != 413 {
        // Under the server's body limit, the document limit refuses it.
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "QUERY_TOO_LARGE",
            "{body}"
        );
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    }
    // Just under the document limit, the alias limit refuses it.
    let query = format!("{{ {} }}", "a: __typename ".repeat(7_000));
    assert!(query.len() < 100_000);
    assert_refused(&app, &ann, &query, "TOO_MANY_ALIASES").await;
}

#[tokio::test]
async fn too_many_directives_on_a_field_are_refused() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let query = format!(
        "mutation {{ createWorkspace(input: {{ name: \"Directives\" }}) {{ id {} }} }}",
        "@include(if: true) ".repeat(5)
    );
    assert_refused(&app, &ann, &query, "QUERY_TOO_COMPLEX").await;
}

#[tokio::test]
async fn the_standard_introspection_query_passes() {
    let app = TestApp::spawn().await;
    let response = app.graphql(INTROSPECTION, json!({})).await;
    let types = response.data()["__schema"]["types"]
        .as_array()
        .expect("types");
    assert!(types.iter().any(|ty| ty["name"] == "Workspace"));
}

#[tokio::test]
async fn the_benchmark_tree_passes() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let created = app
        .graphql_as(
            Some(&ann.token),
            "mutation { createWorkspace(input: { name: \"Acme\" }) { id } }",
            json!({}),
        )
        .await;
    let id = created.data()["createWorkspace"]["id"].clone();
    let response = app
        .graphql_as(Some(&ann.token), BENCHMARK_TREE, json!({ "id": id }))
        .await;
    assert_eq!(response.data()["workspace"]["projects"]["totalCount"], 0);
    // timeLogs: 8 × (nodes 1 + 3) = 32; tasks: 25 × (totalCount + nodes(1 + 3 + 32)) = 925;
    // projects: 20 × (totalCount + nodes(1 + 3 + 925)) = 18,600; plus workspace, id, name.
    assert_eq!(
        response.body["extensions"]["cost"],
        json!({ "requestedQueryCost": 18_603, "maximumAvailable": 50_000 })
    );
}

#[tokio::test]
async fn every_response_reports_its_cost_with_variables_filled_in() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let query = "query Q($n: Int) { workspaces(first: $n) { nodes { id name } } }";
    for (n, cost) in [(1, 3), (10, 30), (100, 300)] {
        let response = app
            .graphql_as(Some(&ann.token), query, json!({ "n": n }))
            .await;
        response.data();
        assert_eq!(
            response.body["extensions"]["cost"]["requestedQueryCost"], cost,
            "first: {n}"
        );
    }
    // A refusal for cost says what the query would have cost.
    let bomb = "{ workspaces(first: 100) { nodes { projects(first: 100) { nodes {
        tasks(first: 100) { nodes { timeLogs(first: 100) { nodes { hours } } } } } } } } }";
    let body = assert_refused(&app, &ann, bomb, "QUERY_TOO_COMPLEX").await;
    assert_eq!(
        body["errors"][0]["extensions"]["cost"]["requestedQueryCost"], 201_010_100u64,
        "{body}"
    );
}

#[tokio::test]
async fn fragments_spreading_each_other_twice_are_refused_for_their_cost() {
    // Forty fragments, each spreading the next one twice: 2^40 selections once inlined. The
    // document is short, shallow and has no alias; walking it spread by spread would never
    // finish.
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    // Down to a field that costs something, and down to `__typename`, which costs nothing
    // but would still be walked 2^40 times.
    for leaf in ["me { id }", "__typename"] {
        let mut query = String::from("{ ...F0 }");
        for i in 0..40 {
            query.push_str(&format!(
                " fragment F{i} on Query {{ ...F{next} ...F{next} }}",
                next = i + 1
            ));
        }
        query.push_str(&format!(" fragment F40 on Query {{ {leaf} }}"));
        assert_refused(&app, &ann, &query, "QUERY_TOO_COMPLEX").await;
    }
}

#[tokio::test]
async fn the_limits_hold_over_the_websocket_too() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let mut ws = app.ws(WsProtocol::TransportWs).await;
    let init = ws.init(bearer(&ann.token)).await;
    assert!(matches!(init, InitOutcome::Ack));
    let aliases = (0..31)
        .map(|i| format!("a{i}: __typename"))
        .collect::<Vec<_>>()
        .join(" ");
    ws.subscribe("1", &format!("subscription {{ {aliases} }}"))
        .await;
    let refused = ws.next_json().await.expect("an answer");
    assert_eq!(refused["id"], "1", "{refused}");
    // graphql-transport-ws sends a document refused before it runs as `error` (a list of
    // errors); a result with errors would be `next`.
    let errors = if refused["type"] == "error" {
        &refused["payload"]
    } else {
        &refused["payload"]["errors"]
    };
    assert_eq!(
        errors[0]["extensions"]["code"], "TOO_MANY_ALIASES",
        "{refused}"
    );

    ws.subscribe("2", "{ __typename }").await;
    loop {
        let next = ws.next_json().await.expect("a result");
        if next["id"] == "2" {
            assert_eq!(next["payload"]["data"]["__typename"], "Query", "{next}");
            break;
        }
    }
}
