//! The proptest strategies the fuzzed requests are drawn from, one family a module; the
//! strange text and JSON values they share are here.

use super::*;

mod bodies;
mod documents;
mod ids;
mod variables;

pub(super) use bodies::{huge_body, raw_body};
pub(super) use documents::malformed_document;
pub(super) use ids::bad_ids_and_cursors;
pub(super) use variables::{hostile_variables, stored_text};

/// Pieces of text that break naive handling: NUL and other controls, lone combining marks,
/// bidi overrides, joiners, 4-byte emoji, noncharacters, a BOM, very long grapheme clusters,
/// Unicode spaces (which trimming removes), quotes and escapes.
fn edgy_piece() -> BoxedStrategy<String> {
    prop_oneof![
        Just("\u{0}".to_owned()),
        Just("\u{1}\u{7}\u{1b}[31m".to_owned()),
        Just("\u{301}".to_owned()),
        Just("\u{202E}evil\u{202C}".to_owned()),
        Just("\u{200D}".to_owned()),
        Just("\u{200B}".to_owned()),
        Just("👩\u{200D}👩\u{200D}👧\u{200D}👦".to_owned()),
        Just("😀".to_owned()),
        Just("𝕏".to_owned()),
        Just("\u{FFFF}".to_owned()),
        Just("\u{FFFE}".to_owned()),
        Just("\u{FEFF}".to_owned()),
        Just("\u{10FFFF}".to_owned()),
        Just(format!("e{}", "\u{301}".repeat(300))),
        Just("ᄀ\u{1161}\u{11A8}".to_owned()),
        Just("\u{3000}".to_owned()),
        Just("\u{A0}".to_owned()),
        Just(" ".to_owned()),
        Just("\t\r\n".to_owned()),
        Just("'\"\\`".to_owned()),
        Just("%_%".to_owned()),
        Just("\\u0000".to_owned()),
        Just("Ωmega".to_owned()),
        Just("日本語".to_owned()),
        Just("עברית".to_owned()),
        "[a-zA-Z0-9 ]{1,12}",
        "(?s).{1,8}",
    ]
    .boxed()
}

/// A string made of [`edgy_piece`]s.
fn edgy_text(max_pieces: usize) -> BoxedStrategy<String> {
    prop::collection::vec(edgy_piece(), 0..max_pieces)
        .prop_map(|pieces| pieces.concat())
        .boxed()
}

/// Text of one repeated character, sized around the limits: a column's, the document's,
/// the body's (just under and over).
fn huge_text() -> BoxedStrategy<String> {
    let len = prop_oneof![
        Just(101usize),
        Just(151),
        Just(501),
        Just(1_001),
        Just(100_001),
        Just(BODY_LIMIT - 2_048),
        Just(BODY_LIMIT + 1),
        1usize..BODY_LIMIT,
    ];
    let piece = prop_oneof![Just("x"), Just("é"), Just("😀"), Just("\u{301}"), Just(" ")];
    (piece, len)
        .prop_map(|(piece, len)| {
            // `len` bytes at most, whole characters only.
            piece.repeat((len / piece.len()).max(1))
        })
        .boxed()
}

/// A JSON literal, as text, of values that fit the variable's type badly: numbers beyond
/// every integer type, floats, `NaN`-like strings, nulls, objects, arrays, bad ids.
fn hostile_json(fixtures: &Fixtures) -> BoxedStrategy<String> {
    let mut ids: Vec<String> = fixtures.ids();
    ids.extend(fixtures.cursors.iter().cloned());
    let quoted = |s: String| Value::String(s).to_string();
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "null",
            "true",
            "false",
            "0",
            "-1",
            "1",
            "24",
            "25",
            "101",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9223372036854775808",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1e400",
            "-1e400",
            "1.5",
            "1.0",
            "-0",
            "1E2",
            "\"NaN\"",
            "\"Infinity\"",
            "\"-inf\"",
            "\"\"",
            "\"1\"",
            "\"PENDING\"",
            "\"OWNER\"",
            "\"00000000-0000-0000-0000-000000000000\"",
            "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"",
            "\"not-a-uuid\"",
            "\"\\u0000\"",
            "\"\\ud800\"",
            "\"2026-13-45T99:99:99Z\"",
            "\"2026-01-01T00:00:00Z\"",
            "{}",
            "[]",
            "[null]",
        ])
        .prop_map(str::to_owned),
        prop::sample::select(ids).prop_map(quoted),
        edgy_text(6).prop_map(move |s| Value::String(s).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |n| n.is_finite())
            .prop_map(|n| format!("{n:e}")),
    ];
    let key = prop_oneof![
        prop::sample::select(vec![
            "id",
            "name",
            "email",
            "password",
            "phone",
            "description",
            "workspaceId",
            "clientId",
            "projectId",
            "taskId",
            "hours",
            "loggedAt",
            "status",
            "content",
            "recipientEmail",
            "input",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_]{1,8}",
    ];
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(key, value)| format!("{}:{value}", Value::String(key)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
    .boxed()
}
