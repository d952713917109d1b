//! Hand-written selections: every shape the plan knows, what the plan hides, what falls
//! back to the resolvers, and the statements a planned tree takes.

use super::*;

/// Selections over every shape the plan knows; each must be planned (and, by the
/// harness, answer as the resolvers do).
#[tokio::test]
async fn planned_reads_answer_as_the_resolvers_do() {
    let world = World::new().await;
    let queries = [
        // The tree, every scalar.
        "query($w: ID!) { workspace(id: $w) { __typename id name description createdAt updatedAt
            projects(first: 5) { __typename totalCount
                pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
                edges { __typename cursor node { id name description deadline createdAt updatedAt
                    tasks { totalCount nodes { __typename id name description status createdAt updatedAt
                        timeLogs(first: 1) { totalCount pageInfo { hasNextPage endCursor }
                            nodes { id hours description loggedAt createdAt updatedAt } } } } } } } } }",
        // Aliases, a key asked twice (merged), and roots side by side.
        "query($w: ID!, $p: ID!, $t: ID!) { __typename
            a: workspace(id: $w) { n: name projects(first: 2) { totalCount } projects(first: 2) { nodes { id } } }
            b: project(id: $p) { id x: name x: name tasks(first: 2) { c: totalCount } }
            c: task(id: $t) { status timeLogs { nodes { hours } } }
            d: task(id: $t) { id } }",
        // Fragments: named, inline, on the interface, nested.
        "query($p: ID!) { project(id: $p) { ...P ... on Node { id } tasks(first: 2) { ...Page } } }
         fragment P on Project { name ... on Project { deadline } }
         fragment Page on TaskConnection { totalCount nodes { ...T } edges { cursor } }
         fragment T on Task { id ... on Node { id } name }",
        // Directives on fields and fragments, with variables as sent and as not sent.
        "query($p: ID!, $yes: Boolean!, $no: Boolean!, $unsent: Boolean = true) {
            project(id: $p) { id @skip(if: $yes) name @include(if: $yes) deadline @include(if: $no)
                description @include(if: $unsent) ... on Project @skip(if: $no) { createdAt }
                tasks @include(if: true) { totalCount @skip(if: false) } } }",
        // Variables in page arguments, with defaults; an empty page.
        "query($t: ID!, $n: Int = 1, $none: Int) { task(id: $t) {
            timeLogs(first: $n) { nodes { id } } other: timeLogs(first: $none) { nodes { id } }
            empty: timeLogs(first: 0) { totalCount nodes { id } pageInfo { hasNextPage startCursor } } } }",
        // Filters and orders, literal and from variables; their cursors.
        "query($w: ID!, $status: TaskStatus, $order: TaskOrderInput, $c: ID) { workspace(id: $w) {
            projects(filter: { clientId: $c }) { totalCount nodes { id
                byName: tasks(orderBy: { field: NAME, direction: DESC }) { edges { cursor node { name } } }
                byStatus: tasks(orderBy: { field: STATUS }, filter: { nameContains: \"t\" }) { pageInfo { endCursor } nodes { status } }
                open: tasks(filter: { status: $status }, orderBy: $order) { totalCount nodes { id } }
                tasks(first: 1) { nodes { timeLogs(orderBy: { field: LOGGED_AT, direction: DESC },
                    filter: { from: \"2000-01-01T00:00:00Z\" }) { totalCount edges { cursor node { loggedAt } } } } } } }
            none: projects(filter: { deadlineBefore: \"2000-01-01T00:00:00Z\" }) { totalCount nodes { id } } } }",
        // The viewer's workspaces, their clients and the clients' projects.
        "{ workspaces(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name
            clients(first: 5) { totalCount edges { cursor node { name contactEmail
                projects(first: 5) { totalCount nodes { id client { name } } } } } pageInfo { startCursor } } } } } }",
        // Who logged the time, their contact shown by the policy's rule.
        "query($t: ID!) { task(id: $t) { timeLogs { nodes { user { __typename id name email phone createdAt updatedAt } } } } }",
        // The viewer's roles.
        "query($w: ID!) { workspace(id: $w) { viewerRole projects { nodes { viewerRole task: tasks(first: 1) { nodes { project { viewerRole workspace { viewerRole } } } } } } } }",
        // Hours, over every range and scope.
        "query($w: ID!) { workspace(id: $w) { totalHours all: totalHours(from: \"2000-01-01T00:00:00Z\", to: \"2100-01-01T00:00:00Z\")
            none: totalHours(to: \"2000-01-01T00:00:00Z\") clients { nodes { totalHours } }
            projects { nodes { totalHours tasks { nodes { totalHours project { totalHours } } } } } } }",
        // What objects belong to, level by level.
        "query($t: ID!, $p: ID!) { task(id: $t) { project { name client { __typename id name contactEmail contactPhone
                workspace { id name } createdAt updatedAt } workspace { id } }
            timeLogs { nodes { task { id project { id tasks(first: 2) { nodes { id project { id } } } } } } } }
          project(id: $p) { tasks { nodes { project { client { workspace { projects(first: 1) { nodes { client { name } } } } } } } } } }",
        // totalCount alone, and nothing but __typename under a connection.
        "query($w: ID!) { workspace(id: $w) { projects { totalCount } again: projects { __typename } } }",
    ];
    for query in queries {
        let response = world.ask(&world.owner, query, world.variables()).await;
        response.data();
        assert!(planned(&response), "{query} is planned: {}", response.body);
    }

    // Paging on: the end cursor of one page is the start of the next, planned too.
    let page = |after: Value| {
        let world = &world;
        async move {
            world
                .ask(
                    &world.owner,
                    "query($w: ID!, $after: String) { workspace(id: $w) {
                        projects(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } } }",
                    json!({ "w": world.workspace, "after": after }),
                )
                .await
        }
    };
    let first = page(Value::Null).await;
    assert!(planned(&first));
    let connection = &first.data()["workspace"]["projects"];
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    let second = page(connection["pageInfo"]["endCursor"].clone()).await;
    assert!(planned(&second));
    let rest = &second.data()["workspace"]["projects"];
    assert_eq!(rest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    let ids: Vec<&Value> = [connection, rest]
        .iter()
        .flat_map(|page| page["nodes"].as_array().expect("nodes"))
        .map(|node| &node["id"])
        .collect();
    let expected: Vec<Value> = world.projects.iter().map(|id| json!(id)).collect();
    assert_eq!(ids, expected.iter().collect::<Vec<_>>());
}

/// What a workspace USER sees through the plan: only their project, counted alone.
#[tokio::test]
async fn hidden_projects_are_neither_listed_nor_counted_by_the_plan() {
    let world = World::new().await;
    let query = "query($w: ID!) { workspace(id: $w) { projects { totalCount nodes { id } } } }";
    let seen = |viewer: &Account| {
        let world = &world;
        let viewer = viewer.clone();
        async move {
            let response = world.ask(&viewer, query, world.variables()).await;
            assert!(planned(&response), "{}", response.body);
            response.data()["workspace"]["projects"].clone()
        }
    };
    let user = seen(&world.user).await;
    assert_eq!(user["totalCount"], 1);
    assert_eq!(user["nodes"], json!([{ "id": world.projects[0] }]));
    let admin = seen(&world.admin).await;
    assert_eq!(admin["totalCount"], 3);
}

/// A user's email through the plan: shown to themself and to who shares a workspace with
/// them, `null` to anyone else.
#[tokio::test]
async fn who_logged_time_shows_their_contact_as_the_policy_says() {
    let world = World::new().await;
    let response = world
        .ask(
            &world.admin,
            "query($t: ID!) { task(id: $t) { timeLogs { nodes { user { id email } } } } }",
            world.variables(),
        )
        .await;
    assert!(planned(&response), "{}", response.body);
    let logs = response.data()["task"]["timeLogs"]["nodes"]
        .as_array()
        .expect("logs")
        .clone();
    let email_of = |account: &Account| {
        logs.iter()
            .find(|log| log["user"]["id"] == account.id.as_str())
            .map(|log| log["user"]["email"].clone())
            .expect("a log by them")
    };
    assert_eq!(email_of(&world.owner), json!(world.owner.email));
    assert_eq!(email_of(&world.outsider), Value::Null);
}

/// Errors are the resolvers' to write, with their code and path: the plan steps aside.
#[tokio::test]
async fn errors_and_unplanned_fields_are_answered_by_the_resolvers() {
    let world = World::new().await;
    let cases: [(&Account, &str, &str, &[&str]); 5] = [
        (
            &world.outsider,
            "query($w: ID!) { workspace(id: $w) { id } }",
            "NOT_FOUND",
            &["workspace"],
        ),
        (
            &world.user,
            "query($hidden: ID!) { project(id: $hidden) { id } }",
            "NOT_FOUND",
            &["project"],
        ),
        (
            &world.owner,
            "query($p: ID!) { project(id: $p) { tasks(first: 101) { totalCount } } }",
            "BAD_USER_INPUT",
            &["project", "tasks"],
        ),
        (
            &world.owner,
            "query($p: ID!) { project(id: $p) { tasks(after: \"bm90IGEgY3Vyc29y\") { totalCount } } }",
            "BAD_USER_INPUT",
            &["project", "tasks"],
        ),
        (
            &world.owner,
            "{ project(id: \"not a uuid\") { id } }",
            "BAD_USER_INPUT",
            &["project"],
        ),
    ];
    for (viewer, query, code, path) in cases {
        let response = world.ask(viewer, query, world.variables()).await;
        assert!(!planned(&response), "{query}: {}", response.body);
        assert_eq!(response.error_code(), code, "{query}: {}", response.body);
        assert_eq!(response.body["errors"][0]["path"], json!(path), "{query}");
    }

    // A cursor of one project's tasks under every project of a workspace: valid for one,
    // refused for the others, each at its own path.
    let first = world
        .ask(
            &world.owner,
            "query($p: ID!) { project(id: $p) { tasks(first: 1) { pageInfo { endCursor } } } }",
            world.variables(),
        )
        .await;
    let cursor = first.data()["project"]["tasks"]["pageInfo"]["endCursor"].clone();
    let nested = world
        .ask(
            &world.owner,
            "query($w: ID!, $c: String) { workspace(id: $w) { projects { nodes { tasks(after: $c) { totalCount } } } } }",
            json!({ "w": world.workspace, "c": cursor }),
        )
        .await;
    assert!(!planned(&nested));
    let errors = nested.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{}", nested.body);
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");

    // Fields the plan does not cover yet run on the resolvers, answered in full.
    let members = world
        .ask(
            &world.owner,
            "query($w: ID!) { workspace(id: $w) { name members { totalCount } } }",
            world.variables(),
        )
        .await;
    assert!(!planned(&members));
    assert_eq!(members.data()["workspace"]["members"]["totalCount"], 3);
}

/// The tree takes a statement per level whatever its size: the root with the viewer's
/// roles, then one page statement per level (and none for a session already known).
#[tokio::test]
async fn a_planned_tree_takes_one_statement_per_level() {
    let world = World::new().await;
    let query = "query($w: ID!) { workspace(id: $w) { projects(first: 10) { nodes { id
        tasks(first: 10) { totalCount nodes { id timeLogs(first: 10) { nodes { hours } } } } } } } }";
    let response = world
        .app
        .graphql_fewest_statements(Some(&world.owner.token), query, world.variables())
        .await;
    assert!(planned(&response), "{}", response.body);
    // The session is known by the second attempt (it is kept in memory).
    assert_eq!(
        response.sql_statements(),
        4,
        "workspace, projects, tasks, logs: {}",
        response.body
    );
}

/// Pages whose items are all scalars (the leaves of a tree; on PostgreSQL they come as one
/// row of arrays per parent): odd text, nulls, every status, instants with 0, 3, 6 and 9
/// fraction digits are planned and answer as the resolvers do (the harness compares each
/// planned answer).
#[tokio::test]
async fn leaf_pages_answer_as_the_resolvers_do() {
    use chrono::TimeZone as _;
    use sea_orm::{ColumnTrait, QueryFilter};

    let world = World::new().await;
    let db = &world.app.db;
    let texts = [
        Some("quote \" backslash \\ tab \t control \u{1} \u{1f} del \u{7f}"),
        Some("crab 🦀 </script> \u{2028} ünï"),
        None,
        Some(""),
    ];
    let base = chrono::Utc
        .with_ymd_and_hms(2026, 3, 1, 9, 5, 7)
        .single()
        .expect("an instant");
    let fractions = [0, 7_000_000, 120_000, 123_456_789];
    let logs = time_log::Entity::find()
        .filter(time_log::Column::TaskId.is_in(world.tasks.clone()))
        .all(db)
        .await
        .expect("read the logs");
    for (index, log) in logs.into_iter().enumerate() {
        let mut log: time_log::ActiveModel = log.into();
        log.description = Set(texts[index % texts.len()].map(str::to_owned));
        log.logged_at = Set(base + chrono::Duration::nanoseconds(fractions[index % 4]));
        log.update(db).await.expect("update a log");
    }
    let statuses = [
        task::TaskStatus::Pending,
        task::TaskStatus::InProgress,
        task::TaskStatus::Completed,
    ];
    for (index, id) in world.tasks.iter().enumerate() {
        let found = task::Entity::find_by_id(*id)
            .one(db)
            .await
            .expect("read a task")
            .expect("the task");
        let mut found: task::ActiveModel = found.into();
        found.status = Set(statuses[index % statuses.len()]);
        found.description = Set(texts[(index + 1) % texts.len()].map(str::to_owned));
        found.update(db).await.expect("update a task");
    }
    let queries = [
        "query($p: ID!) { project(id: $p) { tasks(first: 10) { totalCount
            pageInfo { __typename hasNextPage hasPreviousPage }
            nodes { __typename id name description status createdAt updatedAt } } } }",
        "query($w: ID!) { workspace(id: $w) { clients(first: 5) { nodes { name contactEmail contactPhone } }
            projects(first: 5) { nodes { id deadline tasks(first: 5) { nodes { id
                one: timeLogs(first: 1) { totalCount pageInfo { hasNextPage } nodes { id hours loggedAt } }
                timeLogs(first: 5) { nodes { __typename id hours description loggedAt createdAt updatedAt } }
                none: timeLogs(first: 0) { totalCount nodes { id } } } } } } } }",
    ];
    for query in queries {
        let response = world.ask(&world.owner, query, world.variables()).await;
        response.data();
        assert!(planned(&response), "{query} is planned: {}", response.body);
    }
    let ask_logs = || {
        world.ask(
            &world.owner,
            "query($t: ID!) { task(id: $t) { timeLogs { nodes { id description loggedAt } } } }",
            world.variables(),
        )
    };
    let answer = ask_logs().await;
    let written: Vec<&Value> = answer.data()["task"]["timeLogs"]["nodes"]
        .as_array()
        .expect("logs")
        .iter()
        .map(|log| &log["description"])
        .collect();
    assert!(
        written.contains(&&json!(texts[0])),
        "the odd text is written whole: {}",
        answer.body
    );
}
