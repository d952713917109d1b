//! `schema.graphql` is what front-end teams generate clients from: it must match the schema
//! the server serves.

#[test]
fn schema_graphql_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = graph::sdl();
    assert!(
        committed == current,
        "schema.graphql is stale; regenerate it with `cargo run -- export-schema > schema.graphql`"
    );
}
