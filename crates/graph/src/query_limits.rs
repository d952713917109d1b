//! Limits that refuse a hostile document before anything executes: its size, aliases,
//! depth, directives per field and cost (complexity).
//!
//! Size, aliases, depth and cost are checked here on the parsed document by
//! [`Limits::check`], which [`crate::Api`] runs before handing the request to async-graphql
//! and whose cost every response reports (`extensions.cost`). async-graphql's own
//! validation enforces the same cost again (`limit_complexity`, with connection fields
//! weighted by their page size, [`connection_cost`]) and the directives per field
//! (`limit_directives`).
//!
//! The cost is computed here as well, not only by async-graphql, for two reasons: its
//! validation walks every fragment spread anew, so a document of fragments spreading each
//! other twice takes exponential time there, while [`Costs`] measures each fragment once;
//! and async-graphql only hands the figure to schema extensions, whose presence alone
//! slows every field's resolution.

// Over ~450 lines with its unit tests (the tests of the cost and depth limits), which stay
// beside the code they pin.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentSpread, OperationDefinition, Selection,
    SelectionSet,
};
use async_graphql::{Positioned, ServerError, Value, Variables};

use crate::connection::DEFAULT_FIRST;
use crate::error::{code, refusal, too_complex_message};

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
    /// Whether `__schema` and `__type` may be asked for; when not, a document that does is
    /// refused with `INTROSPECTION_DISABLED` (`__typename` stays allowed: clients need it).
    pub introspection: bool,
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
            introspection: true,
        }
    }
}

/// The fields that are connections, paged by `first` (and `messages` also by `last`):
/// [`connection_cost`] weighs them in the schema, and [`Costs`] by these names, which no
/// other field carries (a test holds both to the schema).
pub const CONNECTION_FIELDS: &[&str] = &[
    "clients",
    "conversations",
    "members",
    "messages",
    "projects",
    "tasks",
    "timeLogs",
    "workspaces",
];

/// The cost of a connection field: its page size (`first`, else 50) times what one item
/// of its selection costs. `first` outside 0–100 is refused by the resolver; here it is
/// only clamped so the arithmetic stays sane.
pub fn connection_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first.map_or(DEFAULT_FIRST as usize, |n| {
        usize::try_from(n.clamp(0, 1_000)).unwrap_or(0)
    });
    first.max(1).saturating_mul(child_complexity).max(1)
}

impl Limits {
    /// Refuses `request` when its document is too long, has too many aliases, nests too
    /// deep, asks for introspection while it is off, or costs too much (or would take
    /// validation more than that many selections to walk); otherwise answers its cost
    /// (`None` for a document that does not parse: async-graphql reports it).
    pub fn check(
        &self,
        request: &mut async_graphql::Request,
    ) -> Result<Option<usize>, ServerError> {
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
        // Lent out while the document (borrowed from the request) is measured, not copied.
        let variables = std::mem::take(&mut request.variables);
        let checked = match request.parsed_query() {
            Ok(doc) => self.check_document(doc, &variables).map(Some),
            Err(_) => Ok(None),
        };
        request.variables = variables;
        checked
    }

    /// [`Limits::check`] of a parsed document; answers its cost.
    fn check_document(
        &self,
        doc: &ExecutableDocument,
        variables: &Variables,
    ) -> Result<usize, ServerError> {
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
            memo: Memo::new(doc),
        };
        for (_, operation) in doc.operations.iter() {
            let height = heights.of(&operation.node.selection_set.node);
            if !self.introspection && height.introspection > 0 {
                return Err(refusal(
                    code::INTROSPECTION_DISABLED,
                    "introspection is turned off on this server; the schema is published as \
                     schema.graphql"
                        .to_owned(),
                ));
            }
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
        // `walked` is what validation will walk: every selection with fragments inlined.
        // Free fields (`__typename`) cost nothing, but a document of fragments spreading
        // each other twice down to one would still take validation exponential time.
        let Cost { cost, walked } = query_cost(doc, variables);
        if cost > self.max_complexity || walked > self.max_complexity {
            let mut error = refusal(code::QUERY_TOO_COMPLEX, too_complex_message());
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("cost", cost_report(cost, self.max_complexity));
            }
            return Err(error);
        }
        Ok(cost)
    }
}

/// `extensions.cost` of a response: the query's cost and the most a query may cost.
pub fn cost_report(cost: usize, maximum: usize) -> Value {
    let number = |n: usize| Value::from(u64::try_from(n).unwrap_or(u64::MAX));
    Value::Object(
        [
            (async_graphql::Name::new("requestedQueryCost"), number(cost)),
            (
                async_graphql::Name::new("maximumAvailable"),
                number(maximum),
            ),
        ]
        .into_iter()
        .collect(),
    )
}

/// The cost of every operation in `doc` together, as async-graphql's validation computes
/// it: a field costs 1 plus its children, a connection [`connection_cost`] of its `first`
/// (a literal or a variable) and its children, fragments counted where they are spread.
fn query_cost(doc: &ExecutableDocument, variables: &Variables) -> Cost {
    doc.operations
        .iter()
        .map(|(_, operation)| {
            let mut costs = Costs {
                memo: Memo::new(doc),
                operation: &operation.node,
                variables,
            };
            costs.of(&operation.node.selection_set.node)
        })
        .fold(Cost::default(), Cost::add)
}

/// What a [`Measure`] has measured of each fragment; `None` while one is being measured.
struct Memo<'a, T> {
    doc: &'a ExecutableDocument,
    fragments: HashMap<&'a str, Option<T>>,
}

impl<'a, T> Memo<'a, T> {
    fn new(doc: &'a ExecutableDocument) -> Self {
        Self {
            doc,
            fragments: HashMap::new(),
        }
    }
}

/// A measure of selection sets in which each fragment is measured once however often it
/// is spread, so a document of fragments spreading each other twice takes linear time, not
/// exponential.
trait Measure<'a> {
    type Value: Copy + Default;

    fn memo(&mut self) -> &mut Memo<'a, Self::Value>;

    fn of(&mut self, set: &'a SelectionSet) -> Self::Value;

    /// The measure of a spread fragment, taken once and then remembered. An unknown
    /// fragment, or one spread inside itself (a cycle, refused later by validation),
    /// measures as nothing.
    fn spread(&mut self, spread: &'a FragmentSpread) -> Self::Value {
        let name = spread.fragment_name.node.as_str();
        let memo = self.memo();
        if let Some(known) = memo.fragments.get(name) {
            return known.unwrap_or_default();
        }
        let Some(fragment) = memo.doc.fragments.get(&spread.fragment_name.node) else {
            return Self::Value::default();
        };
        memo.fragments.insert(name, None);
        let measured = self.of(&fragment.node.selection_set.node);
        self.memo().fragments.insert(name, Some(measured));
        measured
    }
}

/// A selection's cost, and how many selections validation walks for it (fragments
/// inlined, free fields included).
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    cost: usize,
    walked: usize,
}

impl Cost {
    fn add(self, other: Self) -> Self {
        Self {
            cost: self.cost.saturating_add(other.cost),
            walked: self.walked.saturating_add(other.walked),
        }
    }
}

/// Costs of selection sets within one operation, whose variables fill in `first`
/// ([`Measure`]).
struct Costs<'a> {
    memo: Memo<'a, Cost>,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
}

impl<'a> Measure<'a> for Costs<'a> {
    type Value = Cost;

    fn memo(&mut self) -> &mut Memo<'a, Cost> {
        &mut self.memo
    }

    fn of(&mut self, set: &'a SelectionSet) -> Cost {
        let mut total = Cost::default();
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let children = self.of(&field.node.selection_set.node);
                    let name = field.node.name.node.as_str();
                    let cost = if name == "__typename" {
                        // Free, as in validation: answered without resolving anything.
                        0
                    } else if CONNECTION_FIELDS.contains(&name) {
                        let page = ["first", "last"]
                            .iter()
                            .find_map(|argument| self.int_argument(&field.node, argument));
                        connection_cost(page, children.cost)
                    } else {
                        children.cost.saturating_add(1)
                    };
                    Cost {
                        cost,
                        walked: children.walked,
                    }
                }
                Selection::InlineFragment(inline) => self.of(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => self.spread(&spread.node),
            };
            total = total.add(Cost {
                cost: inner.cost,
                walked: inner.walked.saturating_add(1),
            });
        }
        total
    }
}

impl Costs<'_> {
    /// The integer value of `field`'s argument `name`: a literal, or a variable's value
    /// from the request, else its default in the operation.
    fn int_argument(&self, field: &async_graphql::parser::types::Field, name: &str) -> Option<i32> {
        let value = field.get_argument(name)?;
        let resolved = value.node.clone().into_const_with(|variable| {
            self.variables
                .get(&variable)
                .cloned()
                .or_else(|| {
                    self.operation
                        .variable_definitions
                        .iter()
                        .find(|definition| definition.node.name.node == variable)
                        .and_then(|definition| definition.node.default_value.as_ref())
                        .map(|default| default.node.clone())
                })
                .ok_or(())
        });
        let Ok(Value::Number(number)) = resolved else {
            return None;
        };
        let number = number.as_i64()?;
        Some(i32::try_from(number.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0))
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

/// Heights of selection sets ([`Measure`]).
struct Heights<'a> {
    memo: Memo<'a, Height>,
}

impl<'a> Measure<'a> for Heights<'a> {
    type Value = Height;

    fn memo(&mut self) -> &mut Memo<'a, Height> {
        &mut self.memo
    }

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
                Selection::FragmentSpread(spread) => self.spread(&spread.node),
            };
            height = height.max(inner);
        }
        height
    }
}

/// The operation `request` selects, with its document, parsed as execution would parse it
/// (and kept in the request): `None` for a document over `max_chars` (the limits refuse it
/// unparsed; bytes bound characters from above, so a fitting one is never passed over),
/// one that does not parse, or one naming no operation it has.
pub fn selected_operation(
    request: &mut async_graphql::Request,
    max_chars: usize,
) -> Option<(&ExecutableDocument, &Positioned<OperationDefinition>)> {
    if request.query.len() > max_chars && request.query.chars().count() > max_chars {
        return None;
    }
    let name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    }?;
    Some((document, operation))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(query: &str) -> Result<(), String> {
        let mut request = async_graphql::Request::new(query);
        Limits::default()
            .check(&mut request)
            .map(|_| ())
            .map_err(|err| {
                err.extensions
                    .unwrap_or_default()
                    .get("code")
                    .and_then(|code| match code {
                        Value::String(code) => Some(code.clone()),
                        _ => None,
                    })
                    .unwrap_or_default()
            })
    }

    fn cost(query: &str, variables: serde_json::Value) -> Option<usize> {
        let mut request =
            async_graphql::Request::new(query).variables(Variables::from_json(variables));
        Limits {
            max_complexity: usize::MAX,
            ..Limits::default()
        }
        .check(&mut request)
        .ok()
        .flatten()
    }

    /// async-graphql's own figure for `query` (its `Analyzer` extension; validation only,
    /// nothing here has a database to run against).
    fn their_cost(query: &str, variables: serde_json::Value) -> Option<usize> {
        let schema = crate::schema()
            .extension(async_graphql::extensions::Analyzer)
            .finish();
        let request = async_graphql::Request::new(query).variables(Variables::from_json(variables));
        let response = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(schema.execute(request));
        match response.extensions.get("analyzer") {
            Some(Value::Object(analyzer)) => match analyzer.get("complexity") {
                Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn the_cost_is_what_validation_computes() {
        let queries = [
            (
                "{ workspace(id: \"x\") { id name projects(first: 20) { totalCount nodes { id
                    tasks(first: 25) { nodes { id timeLogs(first: 8) { nodes { id hours } } } }
                    } } } }",
                json!({}),
            ),
            (
                "query Q($n: Int, $m: Int = 7) { workspaces(first: $n) { nodes { ...W } } }
                 fragment W on Workspace { members(first: $m) { nodes { id } } clients { totalCount }
                   ... on Workspace { projects { nodes { __typename id } } } }",
                json!({ "n": 3 }),
            ),
            (
                "{ messages(with: \"a@b.c\", last: 4) { nodes { id content } }
                   conversations { nodes { with unreadCount } }
                   me { timeLogs(first: 2) { nodes { task { project { tasks { totalCount } } } } } } }",
                json!({}),
            ),
            (
                "{ node(id: \"x\") { id ... on Project { members(first: 5) { nodes { role } } } } }",
                json!({}),
            ),
        ];
        for (query, variables) in queries {
            let ours = cost(query, variables.clone());
            assert!(ours.is_some_and(|cost| cost > 1), "{query}");
            assert_eq!(ours, their_cost(query, variables), "{query}");
        }
    }

    #[test]
    fn connection_fields_are_exactly_the_fields_paged_by_first() {
        let sdl = async_graphql::parser::parse_schema(crate::sdl()).expect("the SDL parses");
        let mut paged = std::collections::BTreeSet::new();
        let mut others = std::collections::BTreeSet::new();
        for definition in &sdl.definitions {
            let async_graphql::parser::types::TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let fields = match &ty.node.kind {
                async_graphql::parser::types::TypeKind::Object(object) => &object.fields,
                async_graphql::parser::types::TypeKind::Interface(interface) => &interface.fields,
                _ => continue,
            };
            for field in fields {
                let name = field.node.name.node.to_string();
                if field
                    .node
                    .arguments
                    .iter()
                    .any(|argument| argument.node.name.node == "first")
                {
                    paged.insert(name);
                } else {
                    others.insert(name);
                }
            }
        }
        let listed = CONNECTION_FIELDS
            .iter()
            .map(|name| (*name).to_owned())
            .collect();
        assert_eq!(paged, listed);
        assert!(
            paged.is_disjoint(&others),
            "{:?}",
            paged.intersection(&others)
        );
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
        // Measured in linear time, the 2^40 spreads are refused for their cost (validation
        // would have walked every one of them).
        assert_eq!(check(&query), Err(code::QUERY_TOO_COMPLEX.to_owned()));
    }

    #[test]
    fn fragments_doubling_down_to_a_free_field_are_refused() {
        // `__typename` costs nothing, but validation would still walk 2^30 spreads.
        let mut query = String::from("{ ...F0 }");
        for i in 0..30 {
            query.push_str(&format!(
                " fragment F{i} on Query {{ ...F{next} ...F{next} }}",
                next = i + 1
            ));
        }
        query.push_str(" fragment F30 on Query { __typename }");
        assert_eq!(check(&query), Err(code::QUERY_TOO_COMPLEX.to_owned()));
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
