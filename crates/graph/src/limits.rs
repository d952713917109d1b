//! Limits that refuse a hostile document before anything executes: its size, aliases,
//! depth, directives per field and cost (complexity).
//!
//! Size, aliases and depth are checked here on the parsed document by [`Limits::check`],
//! which [`crate::Api`] runs before handing the request to async-graphql; complexity and
//! directives are async-graphql's own validation (`limit_complexity`, `limit_directives`),
//! with connection fields weighted by their page size ([`connection_cost`]).

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError};

use crate::connection::DEFAULT_FIRST;
use crate::error::code;

/// The limits on one document. `Default` is what the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest field nesting of an ordinary query (`{ a { b } }` is 2).
    pub max_depth: usize,
    /// Deepest nesting below `__schema` / `__type`: the standard introspection query of
    /// GraphiQL and code generators needs 13.
    pub max_introspection_depth: usize,
    /// Highest cost: every field costs 1 plus its children, a connection
    /// `first × children` ([`connection_cost`]).
    pub max_complexity: usize,
    /// Most aliases in the document.
    pub max_aliases: usize,
    /// Longest document, in characters.
    pub max_document_chars: usize,
    /// Most directives on one field.
    pub max_directives_per_field: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_introspection_depth: 20,
            max_complexity: 50_000,
            max_aliases: 30,
            max_document_chars: 100_000,
            max_directives_per_field: 4,
        }
    }
}

/// The cost of a connection field: its page size (`first`, else 50) times what one item
/// of its selection costs. `first` outside 0–100 is refused by the resolver; here it is
/// only clamped so the arithmetic stays sane.
pub fn connection_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first.map_or(DEFAULT_FIRST as usize, |n| {
        usize::try_from(n.clamp(0, 1_000)).unwrap_or(0)
    });
    first.max(1).saturating_mul(child_complexity).max(1)
}

fn refusal(code: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

impl Limits {
    /// Refuses `request` when its document is too long, has too many aliases or nests
    /// too deep. A document that does not parse passes: async-graphql reports it.
    pub fn check(&self, request: &mut async_graphql::Request) -> Result<(), ServerError> {
        let chars = request.query.chars().count();
        if chars > self.max_document_chars {
            return Err(refusal(
                code::QUERY_TOO_LARGE,
                format!(
                    "the document has {chars} characters; at most {} are allowed",
                    self.max_document_chars
                ),
            ));
        }
        let Ok(doc) = request.parsed_query() else {
            return Ok(());
        };
        let aliases = count_aliases(doc);
        if aliases > self.max_aliases {
            return Err(refusal(
                code::TOO_MANY_ALIASES,
                format!(
                    "the document has {aliases} aliases; at most {} are allowed",
                    self.max_aliases
                ),
            ));
        }
        let mut heights = Heights {
            doc,
            fragments: HashMap::new(),
        };
        for (_, operation) in doc.operations.iter() {
            let height = heights.of(&operation.node.selection_set.node);
            let too_deep = if height.ordinary > self.max_depth {
                Some(self.max_depth)
            } else if height.introspection > self.max_introspection_depth {
                Some(self.max_introspection_depth)
            } else {
                None
            };
            if let Some(limit) = too_deep {
                return Err(refusal(
                    code::QUERY_TOO_DEEP,
                    format!("the query is nested more than {limit} levels deep"),
                ));
            }
        }
        Ok(())
    }
}

/// Aliases as written in the operations and fragment definitions.
fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
                }
                Selection::InlineFragment(inline) => count(&inline.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .chain(
            doc.fragments
                .values()
                .map(|fragment| count(&fragment.node.selection_set.node)),
        )
        .sum()
}

/// How deep a selection nests: ordinary fields, and separately the deepest `__schema` /
/// `__type` subtree (introspection has its own limit).
#[derive(Debug, Clone, Copy, Default)]
struct Height {
    ordinary: usize,
    introspection: usize,
}

impl Height {
    fn max(self, other: Self) -> Self {
        Self {
            ordinary: self.ordinary.max(other.ordinary),
            introspection: self.introspection.max(other.introspection),
        }
    }
}

/// Heights of selection sets, each fragment measured once however often it is spread, so
/// a document of fragments spreading each other twice costs linear time, not exponential.
struct Heights<'a> {
    doc: &'a ExecutableDocument,
    /// `None` while a fragment is being measured: a cycle (refused later by validation)
    /// counts as nothing.
    fragments: HashMap<&'a str, Option<Height>>,
}

impl<'a> Heights<'a> {
    fn of(&mut self, set: &'a SelectionSet) -> Height {
        let mut height = Height::default();
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let child = self.of(&field.node.selection_set.node);
                    let name = field.node.name.node.as_str();
                    if name == "__schema" || name == "__type" {
                        Height {
                            ordinary: 0,
                            introspection: 1 + child.ordinary.max(child.introspection),
                        }
                    } else {
                        Height {
                            ordinary: 1 + child.ordinary,
                            introspection: child.introspection,
                        }
                    }
                }
                Selection::InlineFragment(inline) => self.of(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.fragments.get(name) {
                        Some(known) => known.unwrap_or_default(),
                        None => match self.doc.fragments.get(&spread.node.fragment_name.node) {
                            Some(fragment) => {
                                self.fragments.insert(name, None);
                                let measured = self.of(&fragment.node.selection_set.node);
                                self.fragments.insert(name, Some(measured));
                                measured
                            }
                            None => Height::default(),
                        },
                    }
                }
            };
            height = height.max(inner);
        }
        height
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<(), String> {
        let mut request = async_graphql::Request::new(query);
        Limits::default().check(&mut request).map_err(|err| {
            err.extensions
                .unwrap_or_default()
                .get("code")
                .map(ToString::to_string)
                .unwrap_or_default()
        })
    }

    #[test]
    fn depth_counts_fields_through_fragments() {
        let nested = |levels: usize| format!("{}{}", "{ a ".repeat(levels), "}".repeat(levels));
        assert!(check(&nested(12)).is_ok());
        assert!(check(&nested(13)).is_err());
        assert!(check("query { ...F } fragment F on Query { a { b { c } } }").is_ok());
    }

    /// Whether the schema under the default complexity limit refuses `query` as too complex
    /// (validation only: nothing here has a database to run against).
    fn too_complex(query: &str) -> bool {
        let schema = crate::schema()
            .limit_complexity(Limits::default().max_complexity)
            .finish();
        let response = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(schema.execute(query));
        response
            .errors
            .iter()
            .any(|error| error.message == "Query is too complex.")
    }

    #[test]
    fn the_benchmark_tree_fits_and_four_levels_of_100_do_not() {
        // Costs 18,603.
        assert!(!too_complex(
            "{ workspace(id: \"x\") { id name projects(first: 20) { totalCount nodes { id name
                deadline tasks(first: 25) { totalCount nodes { id name status
                timeLogs(first: 8) { nodes { id hours loggedAt } } } } } } } }"
        ));
        // Costs 201,010,100.
        assert!(too_complex(
            "{ workspaces(first: 100) { nodes { projects(first: 100) { nodes {
                tasks(first: 100) { nodes { timeLogs(first: 100) { nodes { hours } } } } } } } } }"
        ));
    }

    #[test]
    fn introspection_has_its_own_depth_limit() {
        let nested = |levels: usize| {
            format!(
                "{{ __schema {{ types {{ {}name{} }} }} }}",
                "fields { type { ".repeat(levels),
                " } }".repeat(levels)
            )
        };
        // 2 + 2 × 8 + 1 = 19 levels.
        assert!(check(&nested(8)).is_ok());
        assert!(check(&nested(9)).is_err());
    }

    #[test]
    fn fragments_spread_many_times_are_measured_once() {
        let mut query = String::from("{ ...F0 }");
        for i in 0..40 {
            query.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        query.push_str(" fragment F40 on Query { a { b } }");
        assert!(check(&query).is_ok());
    }

    #[test]
    fn aliases_are_counted() {
        let query = |n: usize| {
            format!(
                "{{ {} }}",
                (0..n)
                    .map(|i| format!("a{i}: __typename"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        assert!(check(&query(30)).is_ok());
        assert!(check(&query(31)).is_err());
    }
}
