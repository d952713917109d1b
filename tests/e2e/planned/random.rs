//! Random selections from a small generator, over every kind of viewer.

use super::*;

/// A small deterministic generator (xorshift), seeded per case.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

/// One random document over the planned types, with the variables it declares.
struct Document {
    rng: Gen,
    variables: std::collections::BTreeSet<&'static str>,
    fragments: Vec<String>,
    aliases: usize,
}

const SCALARS: [(&str, &[&str]); 6] = [
    (
        "User",
        &["id", "name", "email", "phone", "createdAt", "updatedAt"],
    ),
    (
        "Client",
        &[
            "id",
            "name",
            "contactEmail",
            "contactPhone",
            "createdAt",
            "updatedAt",
            "totalHours",
        ],
    ),
    (
        "Workspace",
        &[
            "id",
            "name",
            "description",
            "createdAt",
            "updatedAt",
            "totalHours",
            "viewerRole",
        ],
    ),
    (
        "Project",
        &[
            "id",
            "name",
            "description",
            "deadline",
            "createdAt",
            "updatedAt",
            "totalHours",
            "viewerRole",
        ],
    ),
    (
        "Task",
        &[
            "id",
            "name",
            "description",
            "status",
            "createdAt",
            "updatedAt",
            "totalHours(from: \"2000-01-01T00:00:00Z\")",
        ],
    ),
    (
        "TimeLog",
        &[
            "id",
            "hours",
            "description",
            "loggedAt",
            "createdAt",
            "updatedAt",
        ],
    ),
];

impl Document {
    fn directive(&mut self) -> String {
        if !self.rng.chance(25) {
            return String::new();
        }
        let name = self.rng.pick(&["skip", "include"]);
        let variable = self.rng.pick(&["yes", "no", "unsent"]);
        self.variables.insert(variable);
        format!(" @{name}(if: ${variable})")
    }

    /// Now and then an alias, never one used before: validation refuses one key for two
    /// different fields.
    fn alias(&mut self) -> String {
        if self.rng.chance(20) {
            self.aliases += 1;
            format!("a{}: ", self.aliases)
        } else {
            String::new()
        }
    }

    fn object(&mut self, type_name: &'static str, depth: usize) -> String {
        let scalars = SCALARS
            .iter()
            .find(|(name, _)| *name == type_name)
            .map_or(&[][..], |(_, scalars)| *scalars);
        let mut parts = Vec::new();
        for scalar in scalars {
            if self.rng.chance(45) {
                let alias = self.alias();
                let directive = self.directive();
                parts.push(format!("{alias}{scalar}{directive}"));
            }
        }
        if self.rng.chance(15) {
            parts.push("__typename".to_owned());
        }
        let lists: &[(&str, &'static str)] = match type_name {
            "Workspace" => &[("projects", "Project"), ("clients", "Client")],
            "Client" => &[("projects", "Project")],
            "Project" => &[("tasks", "Task")],
            "Task" => &[("timeLogs", "TimeLog")],
            _ => &[],
        };
        let list = (!lists.is_empty()).then(|| lists[self.rng.below(lists.len())]);
        if let Some((field, child)) = list
            && depth < 4
        {
            if self.rng.chance(70) {
                let connection = self.connection(field, child, depth + 1);
                // The same key twice, merged.
                if self.rng.chance(15) {
                    parts.push(connection.clone());
                }
                parts.push(connection);
            }
            if self.rng.chance(15) {
                // The same list again under another key, with other arguments.
                self.aliases += 1;
                let other = self.connection(field, child, depth + 1);
                parts.push(format!("l{}: {other}", self.aliases));
            }
        }
        let references: &[(&str, &'static str)] = match type_name {
            "Client" => &[("workspace", "Workspace")],
            "Project" => &[("client", "Client"), ("workspace", "Workspace")],
            "Task" => &[("project", "Project")],
            "TimeLog" => &[("task", "Task"), ("user", "User")],
            _ => &[],
        };
        for (field, target) in references {
            if depth < 3 && self.rng.chance(15) {
                let alias = self.alias();
                let directive = self.directive();
                let body = self.object(target, depth + 1);
                parts.push(format!("{alias}{field}{directive} {{ {body} }}"));
            }
        }
        if parts.is_empty() {
            parts.push("id".to_owned());
        }
        let mut out = Vec::new();
        for part in parts {
            let wrapped = match self.rng.below(10) {
                0 => format!("... on {type_name} {{ {part} }}"),
                // `Node` has `id` alone.
                1 if part.starts_with("id") => format!("... on Node {{ {part} }}"),
                2 => {
                    let name = format!("F{}", self.fragments.len());
                    self.fragments
                        .push(format!("fragment {name} on {type_name} {{ {part} }}"));
                    let directive = self.directive();
                    format!("...{name}{directive}")
                }
                3 => {
                    let directive = self.directive();
                    format!("...{directive} {{ {part} }}")
                }
                _ => part,
            };
            out.push(wrapped);
        }
        out.join(" ")
    }

    fn connection(&mut self, field: &str, child: &'static str, depth: usize) -> String {
        let arguments = self.list_arguments(field);
        let first = match self.rng.below(6) {
            // The default page (50) only at the top: deeper, it is over the cost limit.
            0 if depth == 1 => String::new(),
            0 => "(first: 2)".to_owned(),
            1 => {
                self.variables.insert("n");
                "(first: $n)".to_owned()
            }
            n => format!("(first: {})", n - 2),
        };
        let mut parts = Vec::new();
        if self.rng.chance(40) {
            parts.push("totalCount".to_owned());
        }
        if self.rng.chance(50) {
            parts.push(format!("nodes {{ {} }}", self.object(child, depth)));
        }
        if self.rng.chance(30) {
            let cursor = if self.rng.chance(50) { "cursor " } else { "" };
            parts.push(format!(
                "edges {{ {cursor}node {{ {} }} }}",
                self.object(child, depth)
            ));
        }
        if self.rng.chance(30) {
            let info = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"];
            let picked: Vec<&str> = info
                .iter()
                .copied()
                .filter(|_| self.rng.chance(60))
                .collect();
            let picked = if picked.is_empty() {
                "hasNextPage".to_owned()
            } else {
                picked.join(" ")
            };
            parts.push(format!("pageInfo {{ {picked} }}"));
        }
        if parts.is_empty() || self.rng.chance(10) {
            parts.push("__typename".to_owned());
        }
        let directive = self.directive();
        let arguments = match (first.is_empty(), arguments.is_empty()) {
            (_, true) => first,
            (true, false) => format!("({arguments})"),
            (false, false) => format!("{}, {arguments})", first.trim_end_matches(')')),
        };
        format!("{field}{arguments}{directive} {{ {} }}", parts.join(" "))
    }

    /// A filter or an order, now and then, as each list takes them.
    fn list_arguments(&mut self, field: &str) -> String {
        let mut arguments = Vec::new();
        match field {
            "workspaces" | "clients" => {}
            "projects" => {
                if self.rng.chance(20) {
                    arguments.push(
                        self.rng
                            .pick(&[
                                "filter: { clientId: $c }",
                                "filter: { deadlineBefore: \"2100-01-01T00:00:00Z\" }",
                                "filter: {}",
                            ])
                            .to_owned(),
                    );
                    if arguments[0].contains("$c") {
                        self.variables.insert("c");
                    }
                }
            }
            "tasks" => {
                if self.rng.chance(25) {
                    arguments.push(
                        self.rng
                            .pick(&[
                                "filter: { status: PENDING }",
                                "filter: { status: IN_PROGRESS, nameContains: \"T\" }",
                                "filter: { nameContains: \"%\" }",
                            ])
                            .to_owned(),
                    );
                }
                if self.rng.chance(25) {
                    let field = self.rng.pick(&["CREATED_AT", "NAME", "STATUS"]);
                    let direction = self.rng.pick(&["ASC", "DESC"]);
                    arguments.push(format!(
                        "orderBy: {{ field: {field}, direction: {direction} }}"
                    ));
                }
            }
            _ => {
                if self.rng.chance(20) {
                    arguments.push(
                        self.rng
                            .pick(&[
                                "filter: { from: \"2000-01-01T00:00:00Z\" }",
                                "filter: { to: \"2000-01-01T00:00:00Z\" }",
                            ])
                            .to_owned(),
                    );
                }
                if self.rng.chance(25) {
                    arguments.push("orderBy: { field: LOGGED_AT, direction: DESC }".to_owned());
                }
            }
        }
        arguments.join(", ")
    }

    fn query(seed: u64) -> String {
        let mut document = Self {
            rng: Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            variables: Default::default(),
            fragments: Vec::new(),
            aliases: 0,
        };
        let mut roots = Vec::new();
        for _ in 0..1 + document.rng.below(2) {
            if document.rng.chance(15) {
                let alias = format!("r{}: ", roots.len());
                roots.push(format!(
                    "{alias}{}",
                    document.connection("workspaces", "Workspace", 1)
                ));
                continue;
            }
            let (field, variable, type_name) = match document.rng.below(4) {
                0 => ("workspace", "w", "Workspace"),
                1 => ("project", "p", "Project"),
                2 => ("project", "hidden", "Project"),
                _ => ("task", "t", "Task"),
            };
            document.variables.insert(variable);
            let alias = format!("r{}: ", roots.len());
            let body = document.object(type_name, 0);
            roots.push(format!("{alias}{field}(id: ${variable}) {{ {body} }}"));
        }
        if document.rng.chance(10) {
            roots.push("__typename".to_owned());
        }
        let declared: Vec<String> = document
            .variables
            .iter()
            .map(|variable| match *variable {
                "w" | "p" | "hidden" | "t" => format!("${variable}: ID!"),
                "yes" | "no" => format!("${variable}: Boolean!"),
                "unsent" => "$unsent: Boolean = true".to_owned(),
                "c" => "$c: ID".to_owned(),
                _ => "$n: Int = 2".to_owned(),
            })
            .collect();
        let declared = if declared.is_empty() {
            String::new()
        } else {
            format!("({})", declared.join(", "))
        };
        format!(
            "query Random{declared} {{ {} }} {}",
            roots.join(" "),
            document.fragments.join(" ")
        )
    }
}

/// The codes of documents refused for their size before they run.
const LIMITS: [&str; 4] = [
    "TOO_MANY_ALIASES",
    "QUERY_TOO_COMPLEX",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_LARGE",
];

/// Random selections, aliases, fragments, directives and page sizes, asked by each kind of
/// viewer: every planned answer matches the resolvers' (the harness compares them), and
/// everything else is either the same data or `NOT_FOUND` for what the viewer may not read.
#[tokio::test]
async fn random_selections_answer_as_the_resolvers_do() {
    let world = World::new().await;
    let cases: u64 = std::env::var("WORKGRAPH_PLAN_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(120);
    let seed: u64 = std::env::var("WORKGRAPH_PLAN_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x00C0_FFEE);
    let viewers = [&world.owner, &world.admin, &world.user];
    let mut planned_count = 0;
    let mut refused = 0;
    for case in 0..cases {
        let query = Document::query(seed.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(case));
        let viewer = viewers[(case % 3) as usize];
        let mut variables = world.variables();
        if case % 2 == 0 {
            variables["n"] = json!(1);
        }
        let response = world.ask(viewer, &query, variables).await;
        if planned(&response) {
            planned_count += 1;
            continue;
        }
        // Unplanned: only what the viewer may not read is an error, or a document past
        // the limits (refused before anything runs, on either path).
        if let Some(errors) = response.body["errors"].as_array() {
            for error in errors {
                let code = error["extensions"]["code"].as_str().unwrap_or_default();
                if LIMITS.contains(&code) {
                    refused += 1;
                    continue;
                }
                assert_eq!(
                    code, "NOT_FOUND",
                    "case {case} ({query}): {}",
                    response.body
                );
            }
        }
    }
    eprintln!("{planned_count} of {cases} random queries planned, {refused} over the limits");
    assert!(
        refused * 10 <= cases,
        "{refused} of {cases} random queries were over the limits"
    );
    assert!(
        planned_count * 3 >= cases,
        "only {planned_count} of {cases} random queries were planned"
    );
}
