//! Chat through the API: conversations and their pages, who may write to and read whom,
//! what a message may hold, the send limit, and the statements `conversations` takes.
//! Encryption at rest is in `chat_at_rest`, subscriptions in `chat_live`; the helpers
//! here serve all three.

// Just over 450 lines, a quarter of them the helpers that `chat_at_rest`, `chat_live`,
// `db_outage` and `global_ids` use as `crate::chat::…`; the five tests are one topic, so a
// split would be artificial.

use entity::chat_message;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{Account, GqlResponse, Instance, TestApp};

pub const SEND: &str = "mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) { id content recipientEmail readAt sender { id } }
}";
pub const MESSAGES: &str = "query Messages(
    $with: String!, $first: Int, $after: String, $last: Int, $before: String
) {
    messages(with: $with, first: $first, after: $after, last: $last, before: $before) {
        totalCount
        nodes { id content readAt recipientEmail sender { id } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";
const CONVERSATIONS: &str = "query Conversations($first: Int, $after: String) {
    conversations(first: $first, after: $after) {
        totalCount
        nodes { with counterpart { id } unreadCount lastMessage { id content } }
        pageInfo { hasNextPage endCursor }
    }
}";
const MARK_READ: &str =
    "mutation Read($with: String!) { markConversationRead(input: { with: $with }) }";

/// Ann (OWNER) and Bo (USER) share the workspace `workspace`; Cy has one of her own.
pub struct Trio {
    pub ann: Account,
    pub bo: Account,
    pub cy: Account,
    pub workspace: String,
}

/// Signs up Ann, Bo and Cy and puts Ann and Bo in one workspace through the API.
pub async fn trio(app: &TestApp) -> Trio {
    let ann = app.sign_up("ann@example.io").await;
    let bo = app.sign_up("bo@example.io").await;
    let cy = app.sign_up("cy@example.io").await;
    let workspace = app.create_workspace(&ann, "Acme").await;
    app.add_workspace_member(&ann, &workspace, &bo, "USER")
        .await;
    app.create_workspace(&cy, "Elsewhere").await;
    Trio {
        ann,
        bo,
        cy,
        workspace,
    }
}

/// A client of `workspace` whose contact is `email` (who has no account).
pub async fn create_contact(app: &TestApp, owner: &Account, workspace: &str, email: &str) {
    app.create(
        owner,
        "createClient",
        json!({ "workspaceId": workspace, "name": email, "contactEmail": email }),
    )
    .await;
}

/// `sendMessage` as `token` (anonymous when `None`).
pub async fn try_send(
    instance: &Instance,
    token: Option<&str>,
    to: &str,
    content: &str,
) -> GqlResponse {
    instance
        .graphql_as(
            token,
            SEND,
            json!({ "input": { "recipientEmail": to, "content": content } }),
        )
        .await
}

/// Sends a message that must go through; returns what `sendMessage` answered.
pub async fn send(instance: &Instance, from: &Account, to: &str, content: &str) -> Value {
    try_send(instance, Some(&from.token), to, content)
        .await
        .data()["sendMessage"]
        .clone()
}

/// `messages` as `viewer` with `variables`; returns the connection.
pub async fn messages(instance: &Instance, viewer: &Account, variables: Value) -> Value {
    instance
        .graphql_as(Some(&viewer.token), MESSAGES, variables)
        .await
        .data()["messages"]
        .clone()
}

async fn conversations(app: &TestApp, viewer: &Account, variables: Value) -> Value {
    app.graphql_as(Some(&viewer.token), CONVERSATIONS, variables)
        .await
        .data()["conversations"]
        .clone()
}

pub fn str_at(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}

/// The `content` of each node of a connection, in order.
pub fn contents(connection: &Value) -> Vec<&str> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {connection}"))
        .iter()
        .map(|node| str_at(&node["content"]))
        .collect()
}

/// Asserts the first error's `extensions.code`, and its `extensions.field` when given.
pub fn assert_error(response: &GqlResponse, code: &str, field: Option<&str>, what: &str) {
    let extensions = &response.body["errors"][0]["extensions"];
    assert_eq!(extensions["code"], code, "{what}: {}", response.body);
    if let Some(field) = field {
        assert_eq!(extensions["field"], field, "{what}: {}", response.body);
    }
    assert!(
        response.body["data"].is_null(),
        "{what}: nothing answered: {}",
        response.body
    );
}

pub async fn stored_messages(app: &TestApp) -> u64 {
    chat_message::Entity::find()
        .count(&app.db)
        .await
        .expect("count chat messages")
}

#[tokio::test]
async fn a_conversation_sums_up_pages_both_ways_and_is_marked_read() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, cy, .. } = trio(&app).await;
    let mut ids = Vec::new();
    for content in ["one", "two", "three"] {
        let sent = send(&app, &ann, &bo.email, content).await;
        assert_eq!(sent["content"], content);
        assert_eq!(sent["recipientEmail"], bo.email.as_str());
        assert_eq!(sent["sender"]["id"], ann.id.as_str());
        ids.push(str_at(&sent["id"]).to_owned());
    }

    let inbox = conversations(&app, &bo, json!({})).await;
    assert_eq!(inbox["totalCount"], 1, "{inbox}");
    assert_eq!(inbox["nodes"].as_array().map(Vec::len), Some(1), "{inbox}");
    let with_ann = &inbox["nodes"][0];
    assert_eq!(with_ann["with"], ann.email.as_str());
    assert_eq!(with_ann["counterpart"]["id"], ann.id.as_str());
    assert_eq!(with_ann["unreadCount"], 3);
    assert_eq!(with_ann["lastMessage"]["id"], ids[2].as_str());
    assert_eq!(with_ann["lastMessage"]["content"], "three");
    let outbox = conversations(&app, &ann, json!({})).await;
    assert_eq!(outbox["nodes"][0]["with"], bo.email.as_str());
    assert_eq!(
        outbox["nodes"][0]["unreadCount"], 0,
        "what Ann sent is not unread for her"
    );

    // Newest first; `first`/`after` go back in time.
    let newest = messages(&app, &bo, json!({ "with": ann.email, "first": 2 })).await;
    assert_eq!(contents(&newest), ["three", "two"]);
    assert_eq!(newest["totalCount"], 3);
    assert_eq!(newest["pageInfo"]["hasNextPage"], true);
    assert_eq!(newest["pageInfo"]["hasPreviousPage"], false);
    let end = str_at(&newest["pageInfo"]["endCursor"]).to_owned();
    let older = messages(
        &app,
        &bo,
        json!({ "with": ann.email, "first": 2, "after": end }),
    )
    .await;
    assert_eq!(contents(&older), ["one"]);
    assert_eq!(older["pageInfo"]["hasNextPage"], false);
    assert_eq!(older["pageInfo"]["hasPreviousPage"], true);

    // `last` starts from the oldest, still listed newest first; `before` pages forward.
    let oldest = messages(&app, &bo, json!({ "with": ann.email, "last": 2 })).await;
    assert_eq!(contents(&oldest), ["two", "one"]);
    assert_eq!(oldest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(oldest["pageInfo"]["hasNextPage"], false);
    let start = str_at(&oldest["pageInfo"]["startCursor"]).to_owned();
    let newer = messages(
        &app,
        &bo,
        json!({ "with": ann.email, "last": 2, "before": start }),
    )
    .await;
    assert_eq!(contents(&newer), ["three"]);
    assert_eq!(newer["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(newer["pageInfo"]["hasNextPage"], true);

    // A cursor belongs to its conversation.
    for (variables, field) in [
        (
            json!({ "with": cy.email, "first": 2, "after": end }),
            "after",
        ),
        (
            json!({ "with": cy.email, "last": 2, "before": start }),
            "before",
        ),
    ] {
        let response = app.graphql_as(Some(&bo.token), MESSAGES, variables).await;
        assert_error(&response, "BAD_USER_INPUT", Some(field), "a foreign cursor");
    }

    let read = app
        .graphql_as(Some(&bo.token), MARK_READ, json!({ "with": ann.email }))
        .await;
    assert_eq!(read.data()["markConversationRead"], 3);
    let inbox = conversations(&app, &bo, json!({})).await;
    assert_eq!(inbox["nodes"][0]["unreadCount"], 0);
    let all = messages(&app, &bo, json!({ "with": ann.email })).await;
    for node in all["nodes"].as_array().expect("nodes") {
        assert!(node["readAt"].is_string(), "readAt is set: {node}");
    }
    let again = app
        .graphql_as(Some(&bo.token), MARK_READ, json!({ "with": ann.email }))
        .await;
    assert_eq!(again.data()["markConversationRead"], 0);

    // Cursors are positions: a message that arrives between two pages shifts neither.
    let first = messages(&app, &bo, json!({ "with": ann.email, "first": 2 })).await;
    assert_eq!(contents(&first), ["three", "two"]);
    let end = str_at(&first["pageInfo"]["endCursor"]).to_owned();
    send(&app, &ann, &bo.email, "four").await;
    let next = messages(
        &app,
        &bo,
        json!({ "with": ann.email, "first": 2, "after": end }),
    )
    .await;
    assert_eq!(contents(&next), ["one"], "the next page did not shift");
    let head = messages(&app, &bo, json!({ "with": ann.email, "first": 2 })).await;
    assert_eq!(contents(&head), ["four", "three"]);
    assert_eq!(
        head["nodes"][0]["readAt"],
        Value::Null,
        "a new message is unread"
    );
    let inbox = conversations(&app, &bo, json!({})).await;
    assert_eq!(inbox["nodes"][0]["unreadCount"], 1);
}

#[tokio::test]
async fn only_the_two_parties_see_a_conversation_and_only_reachable_addresses_are_written_to() {
    let app = TestApp::spawn().await;
    let Trio {
        ann,
        bo,
        cy,
        workspace,
    } = trio(&app).await;
    send(&app, &ann, &bo.email, "for Bo only").await;

    let outsider = conversations(&app, &cy, json!({})).await;
    assert_eq!(outsider["totalCount"], 0, "{outsider}");
    assert_eq!(outsider["nodes"], json!([]));
    for with in [&ann.email, &bo.email] {
        let theirs = messages(&app, &cy, json!({ "with": with })).await;
        assert_eq!(theirs["totalCount"], 0, "{theirs}");
        assert_eq!(theirs["nodes"], json!([]));
    }
    let refused = try_send(&app, Some(&cy.token), &ann.email, "hi Ann").await;
    assert_error(&refused, "FORBIDDEN", None, "no shared workspace");
    assert_eq!(
        stored_messages(&app).await,
        1,
        "nothing stored when refused"
    );

    // A client contact of one of Ann's workspaces, without an account.
    create_contact(&app, &ann, &workspace, "buyer@globex.example").await;
    let sent = send(&app, &ann, "Buyer@Globex.example", "Your invoice").await;
    assert_eq!(
        sent["recipientEmail"], "buyer@globex.example",
        "addresses are lower-cased"
    );
    let first = conversations(&app, &ann, json!({ "first": 1 })).await;
    assert_eq!(first["totalCount"], 2);
    let contact = &first["nodes"][0];
    assert_eq!(contact["with"], "buyer@globex.example", "most recent first");
    assert_eq!(contact["counterpart"], Value::Null, "no account");
    assert_eq!(contact["lastMessage"]["content"], "Your invoice");
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let after = str_at(&first["pageInfo"]["endCursor"]).to_owned();
    let rest = conversations(&app, &ann, json!({ "first": 1, "after": after })).await;
    assert_eq!(rest["nodes"][0]["with"], bo.email.as_str());
    assert_eq!(rest["nodes"][0]["counterpart"]["id"], bo.id.as_str());
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    // Bo shares the workspace but not the conversation; Cy can't reach the contact.
    let not_bos = messages(&app, &bo, json!({ "with": "buyer@globex.example" })).await;
    assert_eq!(not_bos["totalCount"], 0, "{not_bos}");
    let refused = try_send(&app, Some(&cy.token), "buyer@globex.example", "hello").await;
    assert_error(&refused, "FORBIDDEN", None, "not Cy's contact");

    let anonymous = [
        try_send(&app, None, &bo.email, "hi").await,
        app.graphql(CONVERSATIONS, json!({})).await,
        app.graphql(MESSAGES, json!({ "with": bo.email })).await,
        app.graphql(MARK_READ, json!({ "with": bo.email })).await,
    ];
    for response in &anonymous {
        assert_eq!(
            response.error_code(),
            "UNAUTHENTICATED",
            "{}",
            response.body
        );
    }
    assert_eq!(stored_messages(&app).await, 2);
}

#[tokio::test]
async fn content_is_one_to_a_thousand_characters_and_not_to_oneself() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, .. } = trio(&app).await;
    let letters = "a".repeat(1000);
    // Four bytes each in UTF-8: the limit counts characters, and the ciphertext holds them.
    let emoji = "\u{1F600}".repeat(1000);
    for content in [&letters, &emoji] {
        let sent = send(&app, &ann, &bo.email, content).await;
        assert_eq!(str_at(&sent["content"]), content.as_str());
    }
    let stored = messages(&app, &bo, json!({ "with": ann.email })).await;
    assert_eq!(contents(&stored), [emoji.as_str(), letters.as_str()]);

    let refusals = [
        (
            format!("{letters}a"),
            &bo.email,
            "content",
            "1,001 characters",
        ),
        (
            format!("{emoji}\u{1F600}"),
            &bo.email,
            "content",
            "1,001 emoji",
        ),
        (" \n\t ".to_owned(), &bo.email, "content", "blank"),
        (String::new(), &bo.email, "content", "empty"),
        ("hi me".to_owned(), &ann.email, "recipientEmail", "oneself"),
    ];
    for (content, to, field, what) in &refusals {
        let response = try_send(&app, Some(&ann.token), to, content).await;
        assert_error(&response, "BAD_USER_INPUT", Some(field), what);
    }
    let shouted = try_send(&app, Some(&ann.token), "ANN@Example.io", "hi me").await;
    assert_error(
        &shouted,
        "BAD_USER_INPUT",
        Some("recipientEmail"),
        "oneself, in capitals",
    );
    assert_eq!(stored_messages(&app).await, 2, "only the two valid ones");
}

#[tokio::test]
async fn the_thirty_first_message_in_a_minute_is_rate_limited_and_not_stored() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, .. } = trio(&app).await;
    for n in 1..=30 {
        send(&app, &ann, &bo.email, &format!("message {n}")).await;
    }
    let limited = try_send(&app, Some(&ann.token), &bo.email, "message 31").await;
    assert_error(&limited, "RATE_LIMITED", None, "the 31st");
    let retry_after = limited.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("retryAfter in seconds: {}", limited.body));
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        stored_messages(&app).await,
        30,
        "the refused one is not stored"
    );
    // The limit is per sender.
    send(&app, &bo, &ann.email, "my turn").await;
    assert_eq!(stored_messages(&app).await, 31);
}

#[tokio::test]
async fn conversations_take_as_many_statements_for_six_counterparts_as_for_two() {
    const QUERY: &str = "{ conversations(first: 20) { totalCount
        nodes { with unreadCount counterpart { id name email }
            lastMessage { id content createdAt readAt recipientEmail sender { id name } } } } }";
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let workspace = app.create_workspace(&ann, "Acme").await;
    let mut people = Vec::new();
    for email in ["u1@example.io", "u2@example.io", "u3@example.io"] {
        let person = app.sign_up(email).await;
        app.add_workspace_member(&ann, &workspace, &person, "USER")
            .await;
        people.push(person);
    }
    for contact in [
        "c1@globex.example",
        "c2@globex.example",
        "c3@globex.example",
    ] {
        create_contact(&app, &ann, &workspace, contact).await;
    }
    let statements = |count: u64| {
        let app = &app;
        let token = ann.token.clone();
        async move {
            let response = app
                .graphql_fewest_statements(Some(&token), QUERY, json!({}))
                .await;
            assert_eq!(response.data()["conversations"]["totalCount"], count);
            for node in response.data()["conversations"]["nodes"]
                .as_array()
                .expect("nodes")
            {
                assert!(node["lastMessage"]["content"].is_string(), "{node}");
            }
            response.sql_statements()
        }
    };

    // One received from a user, one sent to a contact...
    send(&app, &people[0], &ann.email, "from u1").await;
    send(&app, &ann, "c1@globex.example", "to c1").await;
    let two = statements(2).await;
    // ...and four more of both kinds.
    send(&app, &ann, &people[1].email, "to u2").await;
    send(&app, &people[2], &ann.email, "from u3").await;
    send(&app, &ann, "c2@globex.example", "to c2").await;
    send(&app, &ann, "c3@globex.example", "to c3").await;
    let six = statements(6).await;
    assert_eq!(
        two, six,
        "statements depend on the query's shape, not on how many conversations"
    );
    assert!(six <= 8, "{six} statements");
}
