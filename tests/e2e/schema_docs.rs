//! Every type, field, argument, input field and enum value of the schema carries a
//! description: front-end teams read the schema in GraphiQL's docs and in generated
//! TypeScript, not in the Rust source. Checked twice: in what the running server answers to
//! the standard introspection query, and in the committed `schema.graphql` they generate
//! clients from. GraphQL's built-in scalars and the introspection types (`__*`) are
//! described by the spec, not by us, and are left out.

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use async_graphql::parser::{Positioned, types::InputValueDefinition};
use serde_json::{Value, json};
use tests::TestApp;

use crate::query_limits::INTROSPECTION;

/// Types the GraphQL spec defines and describes.
const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn is_exempt(type_name: &str) -> bool {
    type_name.starts_with("__") || BUILT_IN_SCALARS.contains(&type_name)
}

fn is_blank(description: Option<&str>) -> bool {
    description.is_none_or(|text| text.trim().is_empty())
}

/// The schema coordinates (`Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`) in an
/// introspection result's types whose description is missing or blank, and the retired
/// ones whose `@deprecated` gives no reason.
fn undocumented_in_introspection(types: &[Value]) -> Vec<String> {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let mut gaps = Vec::new();
    for ty in types {
        let name = ty["name"].as_str().unwrap_or_default();
        if is_exempt(name) {
            continue;
        }
        if is_blank(text(&ty["description"]).as_deref()) {
            gaps.push(name.to_owned());
        }
        let mut check_values = |values: &Value, path: &dyn Fn(&str) -> String| {
            for value in values.as_array().into_iter().flatten() {
                let item = value["name"].as_str().unwrap_or_default();
                if is_blank(text(&value["description"]).as_deref()) {
                    gaps.push(path(item));
                }
                if value["isDeprecated"] == json!(true)
                    && is_blank(text(&value["deprecationReason"]).as_deref())
                {
                    gaps.push(format!("{} (@deprecated without a reason)", path(item)));
                }
                for arg in value["args"].as_array().into_iter().flatten() {
                    let arg_name = arg["name"].as_str().unwrap_or_default();
                    if is_blank(text(&arg["description"]).as_deref()) {
                        gaps.push(format!("{}({arg_name}:)", path(item)));
                    }
                }
            }
        };
        let member = |item: &str| format!("{name}.{item}");
        check_values(&ty["fields"], &member);
        check_values(&ty["inputFields"], &member);
        check_values(&ty["enumValues"], &member);
    }
    gaps
}

fn described(description: Option<&Positioned<String>>) -> bool {
    !is_blank(description.map(|text| text.node.as_str()))
}

/// Adds to `gaps` the path of each of `inputs` (arguments or input fields) without a
/// description.
fn undocumented_inputs(
    gaps: &mut Vec<String>,
    inputs: &[Positioned<InputValueDefinition>],
    path: impl Fn(&str) -> String,
) {
    for input in inputs {
        if !described(input.node.description.as_ref()) {
            gaps.push(path(input.node.name.node.as_str()));
        }
    }
}

/// The same coordinates as [`undocumented_in_introspection`], read from SDL.
fn undocumented_in_sdl(sdl: &str) -> Vec<String> {
    let document = parse_schema(sdl).unwrap_or_else(|err| panic!("parse the SDL: {err}"));
    let mut gaps = Vec::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            // The schema's roots and the spec's directives (`@skip`, `@include`, …).
            continue;
        };
        let ty = ty.node;
        let name = ty.name.node.as_str();
        if is_exempt(name) {
            continue;
        }
        if !described(ty.description.as_ref()) {
            gaps.push(name.to_owned());
        }
        let fields = match &ty.kind {
            TypeKind::Object(object) => object.fields.as_slice(),
            TypeKind::Interface(interface) => interface.fields.as_slice(),
            TypeKind::Enum(values) => {
                for value in &values.values {
                    if !described(value.node.description.as_ref()) {
                        gaps.push(format!("{name}.{}", value.node.value.node));
                    }
                }
                &[]
            }
            TypeKind::InputObject(input) => {
                undocumented_inputs(&mut gaps, &input.fields, |field| format!("{name}.{field}"));
                &[]
            }
            TypeKind::Scalar | TypeKind::Union(_) => &[],
        };
        for field in fields {
            let field = &field.node;
            let path = format!("{name}.{}", field.name.node);
            if !described(field.description.as_ref()) {
                gaps.push(path.clone());
            }
            undocumented_inputs(&mut gaps, &field.arguments, |arg| format!("{path}({arg}:)"));
        }
    }
    gaps
}

#[tokio::test]
async fn every_part_of_the_served_schema_has_a_description() {
    let app = TestApp::spawn().await;
    let response = app.graphql(INTROSPECTION, json!({})).await;
    let types = response.data()["__schema"]["types"]
        .as_array()
        .expect("introspection lists types");
    assert!(
        types.iter().any(|ty| ty["name"] == "Workspace"),
        "the introspection result holds the schema's types"
    );
    let gaps = undocumented_in_introspection(types);
    assert!(
        gaps.is_empty(),
        "{} parts of the served schema have no description (add a `///` comment or \
         `#[graphql(desc = …)]`):\n{}",
        gaps.len(),
        gaps.join("\n")
    );
}

#[test]
fn every_part_of_schema_graphql_has_a_description() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let sdl = std::fs::read_to_string(path).expect("read schema.graphql");
    assert!(
        sdl.contains("type Workspace"),
        "schema.graphql holds the schema's types"
    );
    let gaps = undocumented_in_sdl(&sdl);
    assert!(
        gaps.is_empty(),
        "{} parts of schema.graphql have no description (document them in the Rust source, \
         then `cargo run -q -- export-schema > schema.graphql`):\n{}",
        gaps.len(),
        gaps.join("\n")
    );
}

/// The checks themselves find what is missing, so a passing run means something.
#[test]
fn the_checks_find_an_undocumented_argument_field_and_value() {
    let sdl = r#"
        "A thing." type Thing { "Its name." name(short: Boolean): String  size: Int }
        "Kinds." enum Kind { "The first." A B }
        "What to make." input MakeInput { "   " name: String }
        scalar Opaque
        "Built in." type __Hidden { x: Int }
    "#;
    let mut gaps = undocumented_in_sdl(sdl);
    gaps.sort();
    assert_eq!(
        gaps,
        [
            "Kind.B",
            "MakeInput.name",
            "Opaque",
            "Thing.name(short:)",
            "Thing.size"
        ]
    );

    let types = json!([
        { "name": "Thing", "description": "A thing.", "fields": [
            { "name": "name", "description": "Its name.", "args": [
                { "name": "short", "description": null }
            ] },
            { "name": "old", "description": "Was.", "isDeprecated": true,
              "deprecationReason": "" },
            { "name": "size", "description": " " }
        ] },
        { "name": "Kind", "description": null, "enumValues": [
            { "name": "A", "description": "The first." }
        ] },
        { "name": "String", "description": null },
        { "name": "__Type", "description": null, "fields": [{ "name": "kind" }] }
    ]);
    let mut gaps = undocumented_in_introspection(types.as_array().expect("an array"));
    gaps.sort();
    assert_eq!(
        gaps,
        [
            "Kind",
            "Thing.name(short:)",
            "Thing.old (@deprecated without a reason)",
            "Thing.size"
        ]
    );
}
