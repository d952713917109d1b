//! From a validated document to a [`Plan`]: which fields of which planned type each
//! response key asks for, with fragments applied, `@skip`/`@include` decided and
//! arguments read (variables, their defaults), as async-graphql would execute them.
//!
//! Anything this module does not know is `None`, and the whole operation runs on the
//! resolvers instead: a field outside the planned types, an argument the plan does not
//! take (a filter, an order), another directive, a key asked twice with other arguments.

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType,
    Selection, SelectionSet,
};
use async_graphql::{ID, InputType, Name, Positioned, Value, Variables};

use super::tree::{
    Connection, ConnectionOut, EdgeOut, Kind, List, ListArguments, Object, Out, PageInfoOut, Plan,
    Reference, Root,
};

/// How many selections a plan looks at before it gives up: fragments spread in fragments
/// can multiply a short document, and such a document is the resolvers' to refuse.
const MAX_SELECTIONS: usize = 10_000;
/// How deep fragments may nest in a plan.
const MAX_FRAGMENT_DEPTH: usize = 32;

/// The plan of the operation `operation_name` of `document`, or `None` when the resolvers
/// must run it.
pub(super) fn plan(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<Plan> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        _ => return None,
    };
    let operation = &operation.node;
    if operation.ty != OperationType::Query || !operation.directives.is_empty() {
        return None;
    }
    let mut builder = Builder {
        document,
        operation,
        variables,
        budget: MAX_SELECTIONS,
    };
    let groups = builder.collect(&[&operation.selection_set.node], "Query", &[])?;
    let mut roots = Vec::with_capacity(groups.len());
    for (key, fields) in groups {
        let root = match same_name(&fields)? {
            "__typename" => Root::Typename,
            "workspaces" => Root::List(builder.connection(List::ViewerWorkspaces, &fields)?),
            name => {
                let kind = match name {
                    "workspace" => Kind::Workspace,
                    "project" => Kind::Project,
                    "task" => Kind::Task,
                    _ => return None,
                };
                let id = builder.same_argument(&fields, "id")?;
                let id = ID::parse(id).ok()?;
                let id = crate::validate::id("id", &id).ok()?;
                let object = builder.object(kind, &fields)?;
                Root::Object { id, object }
            }
        };
        roots.push((key, root));
    }
    Some(Plan { roots })
}

/// The name all fields under one response key share (validation sees to it; a plan
/// checks rather than trusts).
fn same_name<'a>(fields: &[&'a Field]) -> Option<&'a str> {
    let name = fields.first()?.name.node.as_str();
    fields
        .iter()
        .all(|field| field.name.node == name)
        .then_some(name)
}

struct Builder<'a> {
    document: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
    budget: usize,
}

/// The fields of a selection under one response key, in the order keys first appear.
type Groups<'a> = Vec<(Name, Vec<&'a Field>)>;

impl<'a> Builder<'a> {
    /// The fields `sets` select on an object of `type_name`, fragments applied and skipped
    /// selections left out, grouped by response key: async-graphql resolves each field of
    /// a key and merges their values, which is the value of their selections merged.
    fn collect(
        &mut self,
        sets: &[&'a SelectionSet],
        type_name: &str,
        interfaces: &[&str],
    ) -> Option<Groups<'a>> {
        let mut groups = Groups::new();
        for set in sets {
            self.collect_into(set, type_name, interfaces, &mut groups, 0)?;
        }
        Some(groups)
    }

    fn collect_into(
        &mut self,
        set: &'a SelectionSet,
        type_name: &str,
        interfaces: &[&str],
        groups: &mut Groups<'a>,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_FRAGMENT_DEPTH {
            return None;
        }
        let applies = |on: &str| on == type_name || interfaces.contains(&on);
        for selection in &set.items {
            self.budget = self.budget.checked_sub(1)?;
            if self.skipped(selection.node.directives())? {
                continue;
            }
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let key = &field.response_key().node;
                    match groups.iter_mut().find(|(name, _)| name == key) {
                        Some((_, fields)) => fields.push(field),
                        None => groups.push((key.clone(), vec![field])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = &self
                        .document
                        .fragments
                        .get(&spread.node.fragment_name.node)?
                        .node;
                    if !fragment.directives.is_empty() {
                        return None;
                    }
                    if applies(&fragment.type_condition.node.on.node) {
                        let set = &fragment.selection_set.node;
                        self.collect_into(set, type_name, interfaces, groups, depth + 1)?;
                    }
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let applied = inline
                        .type_condition
                        .as_ref()
                        .is_none_or(|condition| applies(&condition.node.on.node));
                    if applied {
                        let set = &inline.selection_set.node;
                        self.collect_into(set, type_name, interfaces, groups, depth + 1)?;
                    }
                }
            }
        }
        Some(())
    }

    /// Whether `@skip`/`@include` leave the selection out, decided as async-graphql does
    /// before it executes: on the request's variables as sent (a variable not sent reads
    /// as `false`, its default unused). `None` for any other directive.
    fn skipped(&self, directives: &[Positioned<Directive>]) -> Option<bool> {
        for directive in directives {
            let include = match directive.node.name.node.as_str() {
                "skip" => false,
                "include" => true,
                _ => return None,
            };
            if let Some(condition) = directive.node.get_argument("if") {
                let value = condition
                    .node
                    .clone()
                    .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                    .unwrap_or_default();
                let value: bool = InputType::parse(Some(value)).unwrap_or_default();
                if include != value {
                    return Some(true);
                }
            }
        }
        Some(false)
    }

    /// The value of argument `name` of `field`, its variables read as async-graphql reads
    /// them for a resolver (the variable, else its default); `Some(None)` when absent.
    fn argument(&self, field: &Field, name: &str) -> Option<Option<Value>> {
        let Some(value) = field.get_argument(name) else {
            return Some(None);
        };
        let value = value.node.clone().into_const_with(|variable| {
            self.operation
                .variable_definitions
                .iter()
                .find(|definition| definition.node.name.node == variable)
                .and_then(|definition| {
                    self.variables
                        .get(&definition.node.name.node)
                        .or_else(|| definition.node.default_value())
                })
                .cloned()
                .ok_or(())
        });
        value.ok().map(Some)
    }

    /// Argument `name`, the same in every field of one response key.
    fn same_argument(&self, fields: &[&Field], name: &str) -> Option<Option<Value>> {
        let (first, rest) = fields.split_first()?;
        let value = self.argument(first, name)?;
        for field in rest {
            if self.argument(field, name)? != value {
                return None;
            }
        }
        Some(value)
    }

    fn object(&mut self, kind: Kind, fields: &[&'a Field]) -> Option<Object> {
        let sets: Vec<&SelectionSet> = fields
            .iter()
            .map(|field| &field.selection_set.node)
            .collect();
        let groups = self.collect(&sets, kind.type_name(), kind.interfaces())?;
        let mut object = Object {
            kind,
            fields: Vec::with_capacity(groups.len()),
            lists: Vec::new(),
            references: Vec::new(),
        };
        for (key, fields) in groups {
            let name = same_name(&fields)?;
            let out = if name == "__typename" {
                Out::Typename
            } else if let Some(scalar) = kind.scalar(name) {
                Out::Scalar(scalar)
            } else if let Some(list) = kind.list(name) {
                object.lists.push(self.connection(list, &fields)?);
                Out::List(object.lists.len() - 1)
            } else if name == "viewerRole" && matches!(kind, Kind::Workspace | Kind::Project) {
                Out::ViewerRole
            } else if name == "totalHours" && kind != Kind::TimeLog {
                let from = InputType::parse(self.same_argument(&fields, "from")?).ok()?;
                let to = InputType::parse(self.same_argument(&fields, "to")?).ok()?;
                Out::Hours(crate::time_log::time_range("to", from, to).ok()?)
            } else if let Some((target, key)) = kind.reference(name) {
                let target = self.object(target, &fields)?;
                object.references.push(Reference {
                    key,
                    object: target,
                });
                Out::Reference(object.references.len() - 1)
            } else {
                return None;
            };
            object.fields.push((key, out));
        }
        Some(object)
    }

    fn connection(&mut self, list: List, fields: &[&'a Field]) -> Option<Connection> {
        for field in fields {
            let known = ["first", "after"]
                .iter()
                .chain(list.other_arguments())
                .copied()
                .collect::<Vec<_>>();
            if field
                .arguments
                .iter()
                .any(|(name, _)| !known.contains(&name.node.as_str()))
            {
                return None;
            }
        }
        let arguments = ListArguments::read(
            list,
            match list {
                List::ViewerWorkspaces | List::WorkspaceClients => None,
                _ => self.same_argument(fields, "filter")?,
            },
            match list {
                List::ViewerWorkspaces
                | List::WorkspaceClients
                | List::ClientProjects
                | List::WorkspaceProjects => None,
                List::ProjectTasks | List::TaskTimeLogs => self.same_argument(fields, "orderBy")?,
            },
        )?;
        let first = <Option<i32>>::parse(self.same_argument(fields, "first")?).ok()?;
        let after = <Option<String>>::parse(self.same_argument(fields, "after")?).ok()?;
        let child = list.child();
        let sets: Vec<&SelectionSet> = fields
            .iter()
            .map(|field| &field.selection_set.node)
            .collect();
        let groups = self.collect(&sets, child.connection_name(), &[])?;
        let mut connection = Connection {
            list,
            arguments,
            first,
            after,
            rows: false,
            total: false,
            fields: Vec::with_capacity(groups.len()),
            nodes: Vec::new(),
        };
        for (key, fields) in groups {
            let out = match same_name(&fields)? {
                "__typename" => ConnectionOut::Typename,
                "totalCount" => {
                    connection.total = true;
                    ConnectionOut::TotalCount
                }
                "nodes" => {
                    connection.rows = true;
                    connection.nodes.push(self.object(child, &fields)?);
                    ConnectionOut::Nodes(connection.nodes.len() - 1)
                }
                "edges" => {
                    connection.rows = true;
                    ConnectionOut::Edges(self.edges(child, &fields, &mut connection.nodes)?)
                }
                "pageInfo" => {
                    connection.rows = true;
                    ConnectionOut::PageInfo(self.page_info(&fields)?)
                }
                _ => return None,
            };
            connection.fields.push((key, out));
        }
        Some(connection)
    }

    fn edges(
        &mut self,
        child: Kind,
        fields: &[&'a Field],
        nodes: &mut Vec<Object>,
    ) -> Option<Vec<(Name, EdgeOut)>> {
        let sets: Vec<&SelectionSet> = fields
            .iter()
            .map(|field| &field.selection_set.node)
            .collect();
        let groups = self.collect(&sets, child.edge_name(), &[])?;
        let mut edges = Vec::with_capacity(groups.len());
        for (key, fields) in groups {
            let out = match same_name(&fields)? {
                "__typename" => EdgeOut::Typename,
                "cursor" => EdgeOut::Cursor,
                "node" => {
                    nodes.push(self.object(child, &fields)?);
                    EdgeOut::Node(nodes.len() - 1)
                }
                _ => return None,
            };
            edges.push((key, out));
        }
        Some(edges)
    }

    fn page_info(&mut self, fields: &[&'a Field]) -> Option<Vec<(Name, PageInfoOut)>> {
        let sets: Vec<&SelectionSet> = fields
            .iter()
            .map(|field| &field.selection_set.node)
            .collect();
        let groups = self.collect(&sets, "PageInfo", &[])?;
        groups
            .into_iter()
            .map(|(key, fields)| {
                let out = match same_name(&fields)? {
                    "__typename" => PageInfoOut::Typename,
                    "hasNextPage" => PageInfoOut::HasNextPage,
                    "hasPreviousPage" => PageInfoOut::HasPreviousPage,
                    "startCursor" => PageInfoOut::StartCursor,
                    "endCursor" => PageInfoOut::EndCursor,
                    _ => return None,
                };
                Some((key, out))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(query: &str, variables: serde_json::Value) -> Option<Plan> {
        let document = async_graphql::parser::parse_query(query).expect("a document");
        let variables = Variables::from_json(variables);
        plan(&document, None, &variables)
    }

    const ID: &str = "0190f0c2-0000-7000-8000-000000000001";

    #[test]
    fn keys_asked_twice_merge_in_the_order_they_first_appear() {
        let plan = plan_of(
            &format!(
                r#"query {{ w: workspace(id: "{ID}") {{ name ...F projects {{ totalCount }} }} }}
                fragment F on Node {{ id name projects {{ nodes {{ id }} }} }}"#
            ),
            serde_json::json!({}),
        )
        .expect("a plan");
        let Root::Object { object, .. } = &plan.roots[0].1 else {
            panic!("an object root");
        };
        let keys: Vec<&str> = object.fields.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["name", "id", "projects"]);
        let projects = &object.lists[0];
        assert!(projects.rows && projects.total);
    }

    #[test]
    fn skip_and_include_read_the_variables_as_sent() {
        let query = format!(
            r#"query($a: Boolean = true) {{ workspace(id: "{ID}") {{ id @include(if: $a) name }} }}"#
        );
        let keys = |variables| {
            let plan = plan_of(&query, variables).expect("a plan");
            let Root::Object { object, .. } = &plan.roots[0].1 else {
                panic!("an object root");
            };
            object.fields.len()
        };
        // Not sent: `false`, the default unused (as async-graphql decides).
        assert_eq!(keys(serde_json::json!({})), 1);
        assert_eq!(keys(serde_json::json!({ "a": true })), 2);
    }

    #[test]
    fn what_the_plan_does_not_know_goes_to_the_resolvers() {
        for query in [
            format!(r#"{{ workspace(id: "{ID}") {{ members {{ totalCount }} }} }}"#),
            format!(
                r#"{{ project(id: "{ID}") {{ tasks(filter: {{ nameContains: "{}" }}) {{ totalCount }} }} }}"#,
                "x".repeat(151)
            ),
            format!(
                r#"{{ a: task(id: "{ID}") {{ id }} a: task(id: "0190f0c2-0000-7000-8000-000000000002") {{ id }} }}"#
            ),
            format!(r#"{{ workspace(id: "{ID}") {{ id @deprecated }} }}"#),
            r#"{ workspace(id: "not a uuid") { id } }"#.to_owned(),
            "mutation { logOut }".to_owned(),
        ] {
            assert!(
                plan_of(&query, serde_json::json!({})).is_none(),
                "{query} is not planned"
            );
        }
    }
}
