//! Bodies that are not a GraphQL request, and bodies around the size limit.

use super::*;

/// Bodies that are not a GraphQL request: not JSON, JSON of the wrong shape, the wrong
/// `Content-Type`, nothing at all.
pub(in crate::fuzz) fn raw_body() -> BoxedStrategy<Case> {
    let shapes = prop::sample::select(vec![
        "",
        " ",
        "null",
        "0",
        "\"{ me { id } }\"",
        "[]",
        "{}",
        "[[]]",
        "[{}]",
        "{\"query\":1}",
        "{\"query\":null}",
        "{\"query\":[\"{ me { id } }\"]}",
        "{\"query\":\"{ me { id } }\",\"variables\":\"x\"}",
        "{\"query\":\"{ me { id } }\",\"variables\":[1]}",
        "{\"query\":\"{ me { id } }\",\"operationName\":5}",
        "{\"query\":\"{ me { id } }\",\"operationName\":\"Nope\"}",
        "{\"query\":\"query A { me { id } } query B { me { id } }\"}",
        "{\"query\":\"{ me { id } }\",\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"abc\"}}}",
        "{\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}}}",
        "{\"extensions\":{\"persistedQuery\":{\"version\":2}}}",
        "{\"extensions\":\"x\"}",
        "[{\"query\":\"{ me { id } }\"},5]",
        "[{\"query\":\"{ me { id } }\"},{\"query\":\"{\"}]",
        "{\"query\":\"{ me { id } }\",\"query\":\"{ __typename }\"}",
        "{\"query\":\"{ me { id } }\"",
        "{\"query\":\"\\ud800\"}",
        "{\"query\":\"{ me { id } }\"}garbage",
        "\u{FEFF}{\"query\":\"{ me { id } }\"}",
    ])
    .prop_map(|body| body.as_bytes().to_vec());
    let deep_json = (
        1usize..100_000,
        prop::sample::select(vec![("[", "]"), ("{\"a\":", "}")]),
    )
        .prop_map(|(depth, (open, close))| {
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        });
    let bytes = prop::collection::vec(any::<u8>(), 0..300);
    let body = prop_oneof![4 => shapes, 1 => deep_json, 2 => bytes];
    let content_type = prop_oneof![
        6 => Just(Some("application/json")),
        1 => Just(Some("application/graphql-response+json")),
        1 => Just(Some("application/json; charset=latin1")),
        1 => Just(Some("text/plain")),
        1 => Just(Some("application/graphql")),
        1 => Just(Some("multipart/form-data; boundary=x")),
        1 => Just(Some("application/jsonx")),
        1 => Just(None),
    ];
    (body, content_type, any::<bool>())
        .prop_map(|(body, content_type, signed_in)| Case {
            content_type,
            signed_in,
            body,
            round_trip: None,
        })
        .boxed()
}

/// Bodies around the size limit: a huge value in every position a client may put one.
pub(in crate::fuzz) fn huge_body(fixtures: &Fixtures) -> BoxedStrategy<Case> {
    let peer = fixtures.peer.email.clone();
    (0usize..6, huge_text())
        .prop_map(move |(target, text)| match target {
            0 => Case::request(
                "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
                json!({ "input": { "name": text } }),
            ),
            1 => Case::request(
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
                json!({ "input": { "recipientEmail": peer, "content": text } }),
            ),
            2 => Case::request("{ me { id } }", json!({ "pad": text })),
            3 => Case::request(&format!("{{ me {{ id }} }} #{text}"), json!({})),
            4 => Case::request(
                "mutation($input: LogInInput!) { logIn(input: $input) { token } }",
                json!({ "input": { "email": text, "password": text } }),
            ),
            _ => Case::request(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": text }),
            ),
        })
        .boxed()
}
