//! Documents that do not parse or do not fit the schema.

use super::*;

/// Well-formed queries of the schema, the raw material of mutated documents.
const VALID_QUERIES: &[&str] = &[
    "{ me { id name email } }",
    "query Ws { workspaces(first: 2) { edges { cursor node { id name } } pageInfo { endCursor hasNextPage } totalCount } }",
    "mutation { createWorkspace(input: { name: \"Mutant\", description: \"d\" }) { id name } }",
    "{ node(id: \"00000000-0000-0000-0000-000000000000\") { id ... on Task { name status } } }",
    "query($id: ID!) { task(id: $id) { id timeLogs(first: 1) { nodes { hours } } } }",
    "fragment F on Workspace { id name } { workspaces { nodes { ...F } } }",
    "{ conversations { nodes { with unreadCount lastMessage { content } } } }",
    "mutation { sendMessage(input: { recipientEmail: \"peer@fuzz.test\", content: \"hi\" }) { id content } }",
    "{ __schema { types { name } } }",
    "{ a: me { id } b: me { id } }",
];

/// Documents that do not parse or do not fit the schema.
pub(in crate::fuzz) fn malformed_document() -> BoxedStrategy<Case> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ":",
            "$",
            "!",
            "...",
            "@",
            "=",
            "|",
            "&",
            ",",
            "query",
            "mutation",
            "subscription",
            "fragment",
            "on",
            "true",
            "false",
            "null",
            "__typename",
            "__schema",
            "me",
            "workspaces",
            "node",
            "nodes",
            "id",
            "first",
            "after",
            "input",
            "createWorkspace",
            "ID",
            "String",
            "Int",
            "\"str\"",
            "\"\"\"block\"\"\"",
            "\"",
            "\"\"\"",
            "1",
            "-0.5e10",
            "1e999",
            "#comment\n",
            "\\",
            "\u{0}",
            "\u{FEFF}",
            "😀",
        ])
        .prop_map(str::to_owned),
        "[_a-zA-Z][_a-zA-Z0-9]{0,10}",
    ];
    let soup = (
        prop::collection::vec(token, 0..60),
        prop::sample::select(vec!["", " ", "\n"]),
    )
        .prop_map(|(tokens, sep)| tokens.join(sep));

    #[derive(Clone, Debug)]
    enum Edit {
        Delete(Index),
        Duplicate(Index, Index),
        Swap(Index, Index),
        Insert(Index, char),
    }
    let edit = prop_oneof![
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (
            any::<Index>(),
            prop::sample::select(vec!['{', '}', '"', '\\', '$', '(', '\0', '…'])
        )
            .prop_map(|(a, c)| Edit::Insert(a, c)),
    ];
    let mutated = (
        prop::sample::select(VALID_QUERIES),
        prop::collection::vec(edit, 1..6),
    )
        .prop_map(|(query, edits)| {
            let mut chars: Vec<char> = query.chars().collect();
            for edit in edits {
                if chars.is_empty() {
                    break;
                }
                match edit {
                    Edit::Delete(i) => {
                        chars.remove(i.index(chars.len()));
                    }
                    Edit::Duplicate(i, len) => {
                        let start = i.index(chars.len());
                        let end = start + len.index(chars.len() - start) + 1;
                        let copy: Vec<char> = chars[start..end].to_vec();
                        chars.splice(start..start, copy);
                    }
                    Edit::Swap(a, b) => {
                        let (a, b) = (a.index(chars.len()), b.index(chars.len()));
                        chars.swap(a, b);
                    }
                    Edit::Insert(i, c) => chars.insert(i.index(chars.len() + 1), c),
                }
            }
            chars.into_iter().collect::<String>()
        });
    let unbalanced = (0usize..300, 0usize..300)
        .prop_map(|(open, close)| format!("{}me {{ id }}{}", "{".repeat(open), "}".repeat(close)));
    let nested = (
        prop::sample::select(vec![
            ("{ a ", "}"),
            ("{ me { ", "} }"),
            (
                "{ node(id: \"x\") { ... on Task { project { tasks { nodes { ",
                "} } } } } }",
            ),
            ("[", "]"),
            ("(a: ", ")"),
            ("...on Query{", "}"),
        ]),
        prop_oneof![1usize..40, 40usize..2_000, Just(20_000)],
        any::<bool>(),
    )
        .prop_map(|((open, close), depth, balanced)| {
            let closes = if balanced { depth } else { depth / 2 };
            format!("{}id{}", open.repeat(depth), close.repeat(closes))
        });
    let long_name = (
        prop_oneof![
            1_000usize..2_000,
            Just(99_990),
            Just(100_001),
            Just(500_000)
        ],
        prop::sample::select(vec![
            "{ %s }",
            "query %s { me { id } }",
            "{ me { id } } fragment %s on User { id }",
            "query($%s: Int) { me { id } }",
        ]),
    )
        .prop_map(|(len, template)| template.replace("%s", &"n".repeat(len)));
    let escapes = (
        prop::collection::vec(
            prop::sample::select(vec![
                "\\u0000",
                "\\uD800",
                "\\uDC00",
                "\\uD83D\\uDE00",
                "\\uFFFF",
                "\\x41",
                "\\u{1F600}",
                "\\",
                "\\q",
                "\\u12",
                "\\u00e9",
                "\\n",
                "\\\"",
                "\u{0}",
                "\n",
                "\u{202E}",
                "a",
            ]),
            0..12,
        ),
        prop::sample::select(vec![
            "{ node(id: \"%s\") { id } }",
            "mutation { createWorkspace(input: { name: \"%s\" }) { id name } }",
            "{ messages(with: \"%s\") { totalCount } }",
            "{ workspaces(after: \"%s\") { totalCount } }",
            "{ me { id } } # %s",
            "{ me { id } } \"\"\" %s \"\"\"",
        ]),
    )
        .prop_map(|(pieces, template)| template.replace("%s", &pieces.concat()));
    prop_oneof![
        4 => soup,
        4 => mutated,
        1 => unbalanced,
        2 => nested,
        1 => long_name,
        2 => escapes,
    ]
    .prop_map(|query| Case::request(&query, json!({})))
    .boxed()
}
