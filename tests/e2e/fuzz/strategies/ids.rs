//! Ids and cursors that are not what they should be.

use super::*;

/// Ids and cursors that are not what they should be: malformed UUIDs, random base64,
/// real cursors cut short or from another connection, ids of another type.
pub(in crate::fuzz) fn bad_ids_and_cursors(fixtures: &Fixtures) -> BoxedStrategy<Case> {
    let mut real: Vec<String> = fixtures.ids();
    real.extend(fixtures.cursors.iter().cloned());
    let cursor = prop_oneof![
        prop::sample::select(fixtures.cursors.clone()),
        (prop::sample::select(real.clone()), any::<Index>())
            .prop_map(|(text, cut)| text[..cut.index(text.len())].to_owned()),
        (
            prop::sample::select(real.clone()),
            any::<Index>(),
            any::<char>()
        )
            .prop_map(|(text, at, c)| {
                let mut chars: Vec<char> = text.chars().collect();
                let at = at.index(chars.len());
                chars[at] = c;
                chars.into_iter().collect()
            }),
        "[A-Za-z0-9+/=_-]{0,120}",
        "[0-9a-fA-F-]{30,40}",
        "\\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\}",
        "urn:uuid:[0-9a-f]{32}",
        edgy_text(6),
    ];
    // Real cursors re-made with another sort value: any text, any instant, a wrong kind.
    let forged = (
        prop::sample::select(fixtures.cursors.clone()),
        prop_oneof![
            edgy_text(6).prop_map(|text| format!("s:{}", URL_SAFE_NO_PAD.encode(text))),
            any::<i64>().prop_map(|micros| format!("t:{micros}")),
            prop::sample::select(vec![
                -8_210_298_412_800_000_000i64,
                -210_000_000_000_000_000,
                8_210_266_876_799_999_999,
                300_000_000_000_000_000,
            ])
            .prop_map(|micros| format!("t:{micros}")),
            Just("i:".to_owned()),
            "[a-z]:[ -~]{0,12}",
        ],
    )
        .prop_map(|(cursor, value)| {
            let plain = URL_SAFE_NO_PAD
                .decode(&cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_default();
            let mut parts: Vec<String> = plain.split('|').map(str::to_owned).collect();
            if let Some(part) = parts.get_mut(4) {
                *part = value;
            }
            URL_SAFE_NO_PAD.encode(parts.join("|"))
        });
    let cursor = prop_oneof![3 => cursor, 2 => forged];
    let (workspace, project, task, peer) = (
        fixtures.workspace.clone(),
        fixtures.project.clone(),
        fixtures.task.clone(),
        fixtures.peer.email.clone(),
    );
    (0usize..9, cursor.clone(), prop::collection::vec(cursor, 0..120), 0i64..120)
        .prop_map(move |(target, value, many, first)| {
            let (query, variables) = match target {
                0 => ("query($id: ID!) { node(id: $id) { id } }", json!({ "id": value })),
                1 => ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": many })),
                2 => ("query($id: ID!) { workspace(id: $id) { id } }", json!({ "id": value })),
                3 => (
                    "query($after: String, $first: Int) { workspaces(first: $first, after: $after) { nodes { id } pageInfo { endCursor } } }",
                    json!({ "after": value, "first": first }),
                ),
                4 => (
                    "query($id: ID!, $after: String) { project(id: $id) { tasks(first: 1, after: $after) { nodes { id } } byName: tasks(first: 1, after: $after, orderBy: { field: NAME }) { nodes { id } } members(after: $after) { totalCount } } }",
                    json!({ "id": project, "after": value }),
                ),
                8 => (
                    "query($id: ID!, $after: String) { task(id: $id) { timeLogs(first: 1, after: $after) { nodes { id } } } }",
                    json!({ "id": task, "after": value }),
                ),
                5 => (
                    "query($with: String!, $after: String, $before: String) { messages(with: $with, first: 1, after: $after) { nodes { id } } older: messages(with: $with, last: 1, before: $before) { nodes { id } } }",
                    json!({ "with": peer, "after": value, "before": value }),
                ),
                6 => (
                    "query($id: ID!, $after: String) { workspace(id: $id) { clients(after: $after) { totalCount } projects(after: $after) { totalCount } members(after: $after) { totalCount } } }",
                    json!({ "id": workspace, "after": value }),
                ),
                _ => (
                    "query($after: String) { conversations(first: 1, after: $after) { nodes { with } } }",
                    json!({ "after": value }),
                ),
            };
            Case::request(query, variables)
        })
        .boxed()
}
