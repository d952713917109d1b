//! The authorization matrix: every domain mutation and by-id read, tried by every kind of
//! actor, ends as `graph::policy` says. Each case gets a fresh "world" inserted directly
//! through SeaORM, so operations that consume their target (delete, remove, promote) don't
//! disturb the next case. An allowed call must return the expected payload and (for writes)
//! change the world's rows; a refused one must carry the exact `extensions.code`, a null
//! field, and leave every row of the world exactly as it was.

// Over 450 lines because it is one table-driven matrix: the world, the actors and every
// operation with its expected outcome per actor belong together, read against one policy.

use std::time::Instant;

use entity::role::Role;
use entity::task::TaskStatus;
use entity::{client, project, project_user, task, time_log, workspace, workspace_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    Set,
};
use serde_json::{Value, json};
use tests::{Account, TestApp};
use uuid::Uuid;

use Expected::{Allow, Forbidden, NotFound, Unauth};

/// What one actor must get from one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Allow,
    Forbidden,
    NotFound,
    Unauth,
}

impl Expected {
    /// The `extensions.code` of a refusal.
    fn code(self) -> Option<&'static str> {
        match self {
            Allow => None,
            Forbidden => Some("FORBIDDEN"),
            NotFound => Some("NOT_FOUND"),
            Unauth => Some("UNAUTHENTICATED"),
        }
    }
}

/// The kinds of actor, in the order of every row's expectations.
const ACTORS: [&str; 8] = [
    "wsOwner",   // workspace OWNER, not in the project
    "wsAdmin",   // workspace ADMIN, not in the project
    "wsUser",    // workspace USER, not in the project
    "projOwner", // workspace USER, project OWNER
    "projAdmin", // workspace USER, project ADMIN
    "projUser",  // workspace USER, project USER
    "outsider",  // OWNER of another workspace
    "anonymous", // no token
];
const WS_OWNER: usize = 0;
const WS_ADMIN: usize = 1;
const WS_USER: usize = 2;
const PROJ_OWNER: usize = 3;
const PROJ_ADMIN: usize = 4;
const PROJ_USER: usize = 5;
const OUTSIDER: usize = 6;

/// Everyone involved, signed up once.
struct People {
    /// One per [`ACTORS`] entry; `None` for the anonymous actor.
    actors: Vec<Option<Account>>,
    /// A workspace USER and project USER in every world: the target of promote and remove.
    extra: Uuid,
    /// A workspace USER outside the project in every world: the one added to it.
    joiner: Uuid,
    /// An account in no world: the one added to the workspace.
    newcomer: Account,
}

impl People {
    async fn sign_up(app: &TestApp) -> Self {
        let mut actors = Vec::new();
        for name in &ACTORS[..ACTORS.len() - 1] {
            let email = format!("{}@example.io", name.to_lowercase());
            actors.push(Some(app.sign_up(&email).await));
        }
        actors.push(None);
        Self {
            actors,
            extra: uuid(&app.sign_up("extra@example.io").await),
            joiner: uuid(&app.sign_up("joiner@example.io").await),
            newcomer: app.sign_up("newcomer@example.io").await,
        }
    }

    fn id(&self, actor: usize) -> Uuid {
        uuid(self.actors[actor].as_ref().expect("a signed-in actor"))
    }
}

fn uuid(account: &Account) -> Uuid {
    account.id.parse().expect("account ids are UUIDs")
}

/// One case's fresh rows: a workspace where the six non-outsider actors hold their roles.
struct World {
    name: String,
    workspace: Uuid,
    client: Uuid,
    project: Uuid,
    task: Uuid,
    /// A time log authored by projUser, and one by projOwner.
    user_log: Uuid,
    owner_log: Uuid,
    /// extra's memberships of the workspace and of the project.
    extra_member: Uuid,
    extra_project_member: Uuid,
    extra: Uuid,
    joiner: Uuid,
    newcomer: Uuid,
    newcomer_email: String,
}

async fn build_world(db: &DatabaseConnection, people: &People, n: usize) -> World {
    let name = format!("World {n}");
    let workspace = new_workspace(db, &name).await;
    let workspace_roles = [
        (people.id(WS_OWNER), Role::Owner),
        (people.id(WS_ADMIN), Role::Admin),
        (people.id(WS_USER), Role::User),
        (people.id(PROJ_OWNER), Role::User),
        (people.id(PROJ_ADMIN), Role::User),
        (people.id(PROJ_USER), Role::User),
        (people.joiner, Role::User),
    ];
    for (user, role) in workspace_roles {
        join_workspace(db, workspace, user, role).await;
    }
    let extra_member = join_workspace(db, workspace, people.extra, Role::User).await;
    let client = client::ActiveModel {
        workspace_id: Set(workspace),
        name: Set("Client".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert client");
    let project = project::ActiveModel {
        workspace_id: Set(workspace),
        client_id: Set(client.id),
        name: Set("Project".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert project");
    let project_roles = [
        (people.id(PROJ_OWNER), Role::Owner),
        (people.id(PROJ_ADMIN), Role::Admin),
        (people.id(PROJ_USER), Role::User),
    ];
    for (user, role) in project_roles {
        join_project(db, project.id, user, role).await;
    }
    let extra_project_member = join_project(db, project.id, people.extra, Role::User).await;
    let task = task::ActiveModel {
        project_id: Set(project.id),
        name: Set("Task".into()),
        status: Set(TaskStatus::Pending),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert task");
    World {
        name,
        workspace,
        client: client.id,
        project: project.id,
        task: task.id,
        user_log: log_time(db, people.id(PROJ_USER), task.id).await,
        owner_log: log_time(db, people.id(PROJ_OWNER), task.id).await,
        extra_member,
        extra_project_member,
        extra: people.extra,
        joiner: people.joiner,
        newcomer: uuid(&people.newcomer),
        newcomer_email: people.newcomer.email.clone(),
    }
}

async fn new_workspace(db: &DatabaseConnection, name: &str) -> Uuid {
    let row = workspace::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    };
    row.insert(db).await.expect("insert workspace").id
}

async fn join_workspace(db: &DatabaseConnection, workspace: Uuid, user: Uuid, role: Role) -> Uuid {
    let row = workspace_user::ActiveModel {
        user_id: Set(user),
        workspace_id: Set(workspace),
        role: Set(role),
        ..Default::default()
    };
    row.insert(db).await.expect("insert workspace_user").id
}

async fn join_project(db: &DatabaseConnection, project: Uuid, user: Uuid, role: Role) -> Uuid {
    let row = project_user::ActiveModel {
        user_id: Set(user),
        project_id: Set(project),
        role: Set(role),
        ..Default::default()
    };
    row.insert(db).await.expect("insert project_user").id
}

async fn log_time(db: &DatabaseConnection, user: Uuid, task: Uuid) -> Uuid {
    let row = time_log::ActiveModel {
        user_id: Set(user),
        task_id: Set(task),
        hours: Set(3),
        logged_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    row.insert(db).await.expect("insert time_log").id
}

/// Every row of the world (its workspace and any created for it, members, clients, projects
/// and their members, tasks, time logs), printed and sorted: equal snapshots mean nothing in
/// the world changed.
async fn snapshot(db: &DatabaseConnection, world: &World) -> Vec<String> {
    fn lines<T: std::fmt::Debug>(rows: Result<Vec<T>, DbErr>) -> Vec<String> {
        let rows = rows.expect("snapshot the world");
        rows.iter().map(|row| format!("{row:?}")).collect()
    }
    let projects = project::Entity::find()
        .filter(project::Column::WorkspaceId.eq(world.workspace))
        .all(db)
        .await;
    let project_ids: Vec<Uuid> = projects.iter().flatten().map(|row| row.id).collect();
    let tasks = task::Entity::find()
        .filter(task::Column::ProjectId.is_in(project_ids.clone()))
        .all(db)
        .await;
    let task_ids: Vec<Uuid> = tasks.iter().flatten().map(|row| row.id).collect();
    let workspaces = Condition::any()
        .add(workspace::Column::Id.eq(world.workspace))
        .add(workspace::Column::Name.starts_with(format!("{} ", world.name)));
    let members = workspace_user::Column::WorkspaceId.eq(world.workspace);
    let clients = client::Column::WorkspaceId.eq(world.workspace);
    let project_members = project_user::Column::ProjectId.is_in(project_ids);
    let time_logs = time_log::Column::TaskId.is_in(task_ids);
    let mut all = [
        lines(workspace::Entity::find().filter(workspaces).all(db).await),
        lines(workspace_user::Entity::find().filter(members).all(db).await),
        lines(client::Entity::find().filter(clients).all(db).await),
        lines(projects),
        lines(
            project_user::Entity::find()
                .filter(project_members)
                .all(db)
                .await,
        ),
        lines(tasks),
        lines(time_log::Entity::find().filter(time_logs).all(db).await),
    ]
    .concat();
    all.sort();
    all
}

/// One row of the matrix: an operation and what each actor must get from it.
struct Op {
    /// The GraphQL field, optionally followed by a note on the target.
    name: &'static str,
    /// The input type of a mutation (empty for a by-id read, `field(id: $id)`), and the
    /// selection set (empty for a field returning a scalar `ID`).
    call: (&'static str, &'static str),
    /// The mutation's input, or the read's id.
    variables: fn(&World) -> Value,
    /// What `data.<field>` must contain when allowed; given the acting user's id.
    returns: fn(&World, Uuid) -> Value,
    expected: [Expected; 8],
}

impl Op {
    fn field(&self) -> &'static str {
        self.name.split(' ').next().expect("a field name")
    }

    /// The GraphQL document and its variables for `world`.
    fn request(&self, world: &World) -> (String, Value) {
        let field = self.field();
        let selection = match self.call.1 {
            "" => String::new(),
            selection => format!(" {{ {selection} }}"),
        };
        let value = (self.variables)(world);
        match self.call.0 {
            "" => (
                format!("query($id: ID!) {{ {field}(id: $id){selection} }}"),
                json!({ "id": value }),
            ),
            input => (
                format!("mutation($input: {input}!) {{ {field}(input: $input){selection} }}"),
                json!({ "input": value }),
            ),
        }
    }
}

/// The matrix, derived from the rule tables in `crates/graph/src/policy.rs`. Columns:
/// wsOwner, wsAdmin, wsUser, projOwner, projAdmin, projUser, outsider, anonymous.
fn operations() -> Vec<Op> {
    vec![
        // Workspaces: members read; OWNER and ADMIN update; OWNER deletes.
        Op {
            name: "workspace",
            call: ("", "id name"),
            variables: |w| json!(w.workspace),
            returns: |w, _| json!({ "id": w.workspace, "name": w.name }),
            expected: [Allow, Allow, Allow, Allow, Allow, Allow, NotFound, Unauth],
        },
        Op {
            name: "updateWorkspace",
            call: ("UpdateWorkspaceInput", "id name"),
            variables: |w| json!({ "id": w.workspace, "name": format!("{} renamed", w.name) }),
            returns: |w, _| json!({ "id": w.workspace, "name": format!("{} renamed", w.name) }),
            expected: [
                Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "deleteWorkspace",
            call: ("DeleteWorkspaceInput", "id"),
            variables: |w| json!({ "id": w.workspace }),
            returns: |w, _| json!({ "id": w.workspace }),
            expected: [
                Allow, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "createWorkspace",
            call: ("CreateWorkspaceInput", "id name viewerRole"),
            variables: |w| json!({ "name": format!("{} new", w.name) }),
            returns: |w, _| json!({ "name": format!("{} new", w.name), "viewerRole": "OWNER" }),
            expected: [Allow, Allow, Allow, Allow, Allow, Allow, Allow, Unauth],
        },
        // Workspace membership: an ADMIN manages USERs; only an OWNER touches an ADMIN.
        Op {
            name: "addWorkspaceMember (a new account as USER)",
            call: (
                "AddWorkspaceMemberInput",
                "role user { id updatedAt } workspace { id }",
            ),
            variables: |w| {
                json!({
                    "workspaceId": w.workspace,
                    "email": w.newcomer_email,
                    "role": "USER",
                })
            },
            returns: |w, _| json!({ "role": "USER", "user": { "id": w.newcomer }, "workspace": { "id": w.workspace } }),
            expected: [
                Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "updateWorkspaceMemberRole (a USER to ADMIN)",
            call: ("UpdateWorkspaceMemberRoleInput", "id role updatedAt"),
            variables: |w| {
                json!({
                    "workspaceId": w.workspace,
                    "userId": w.extra,
                    "role": "ADMIN",
                })
            },
            returns: |w, _| json!({ "id": w.extra_member, "role": "ADMIN" }),
            expected: [
                Allow, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "removeWorkspaceMember (a USER)",
            call: (
                "RemoveWorkspaceMemberInput",
                "id role workspace { id } updatedAt",
            ),
            variables: |w| {
                json!({
                    "workspaceId": w.workspace,
                    "userId": w.extra,
                })
            },
            returns: |w, _| json!({ "id": w.extra_member, "role": "USER", "workspace": { "id": w.workspace } }),
            expected: [
                Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        // Clients: workspace OWNER and ADMIN.
        Op {
            name: "createClient",
            call: ("CreateClientInput", "id name"),
            variables: |w| json!({ "workspaceId": w.workspace, "name": "New client" }),
            returns: |_, _| json!({ "name": "New client" }),
            expected: [
                Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "updateClient",
            call: ("UpdateClientInput", "id name"),
            variables: |w| json!({ "id": w.client, "name": "Renamed client" }),
            returns: |w, _| json!({ "id": w.client, "name": "Renamed client" }),
            expected: [
                Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "deleteClient",
            call: ("DeleteClientInput", "id"),
            variables: |w| json!({ "id": w.client }),
            returns: |w, _| json!({ "id": w.client }),
            expected: [
                Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        // Projects: workspace OWNER/ADMIN see all; a workspace USER only their projects.
        Op {
            name: "project",
            call: ("", "id name"),
            variables: |w| json!(w.project),
            returns: |w, _| json!({ "id": w.project, "name": "Project" }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Allow, NotFound, Unauth,
            ],
        },
        Op {
            name: "createProject",
            call: ("CreateProjectInput", "id name viewerRole"),
            variables: |w| {
                json!({
                    "workspaceId": w.workspace,
                    "clientId": w.client,
                    "name": "New project",
                })
            },
            returns: |_, _| json!({ "name": "New project", "viewerRole": "OWNER" }),
            expected: [
                Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "updateProject",
            call: ("UpdateProjectInput", "id name"),
            variables: |w| json!({ "id": w.project, "name": "Renamed project" }),
            returns: |w, _| json!({ "id": w.project, "name": "Renamed project" }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "deleteProject",
            call: ("DeleteProjectInput", "id"),
            variables: |w| json!({ "id": w.project }),
            returns: |w, _| json!({ "id": w.project }),
            expected: [
                Allow, Allow, NotFound, Allow, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        // Project membership: a workspace OWNER/ADMIN acts as the project's OWNER.
        Op {
            name: "addProjectMember (a workspace USER as USER)",
            call: (
                "AddProjectMemberInput",
                "role user { id } project { id } totalHours",
            ),
            variables: |w| json!({ "projectId": w.project, "userId": w.joiner, "role": "USER" }),
            returns: |w, _| json!({ "role": "USER", "user": { "id": w.joiner }, "project": { "id": w.project }, "totalHours": 0 }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "updateProjectMemberRole (a USER to ADMIN)",
            call: ("UpdateProjectMemberRoleInput", "id role updatedAt"),
            variables: |w| json!({ "projectId": w.project, "userId": w.extra, "role": "ADMIN" }),
            returns: |w, _| json!({ "id": w.extra_project_member, "role": "ADMIN" }),
            expected: [
                Allow, Allow, NotFound, Allow, Forbidden, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "removeProjectMember (a USER)",
            call: (
                "RemoveProjectMemberInput",
                "id role project { id } totalHours updatedAt",
            ),
            variables: |w| json!({ "projectId": w.project, "userId": w.extra }),
            returns: |w, _| json!({ "id": w.extra_project_member, "role": "USER", "project": { "id": w.project }, "totalHours": 0 }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound, Unauth,
            ],
        },
        // Tasks: members write; project OWNER/ADMIN (or workspace OWNER/ADMIN) delete.
        Op {
            name: "task",
            call: ("", "id name"),
            variables: |w| json!(w.task),
            returns: |w, _| json!({ "id": w.task, "name": "Task" }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Allow, NotFound, Unauth,
            ],
        },
        Op {
            name: "createTask",
            call: ("CreateTaskInput", "id name project { id }"),
            variables: |w| json!({ "projectId": w.project, "name": "New task" }),
            returns: |w, _| json!({ "name": "New task", "project": { "id": w.project } }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Allow, NotFound, Unauth,
            ],
        },
        Op {
            name: "updateTask (its status)",
            call: ("UpdateTaskInput", "id status"),
            variables: |w| json!({ "id": w.task, "status": "COMPLETED" }),
            returns: |w, _| json!({ "id": w.task, "status": "COMPLETED" }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Allow, NotFound, Unauth,
            ],
        },
        Op {
            name: "deleteTask",
            call: ("DeleteTaskInput", "id"),
            variables: |w| json!({ "id": w.task }),
            returns: |w, _| json!({ "id": w.task }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound, Unauth,
            ],
        },
        // Time logs: one's own on a readable project; edited by the author or an admin.
        Op {
            name: "logTime",
            call: ("LogTimeInput", "id hours user { id } task { id }"),
            variables: |w| json!({ "taskId": w.task, "hours": 2 }),
            returns: |w, me| json!({ "hours": 2, "user": { "id": me }, "task": { "id": w.task } }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Allow, NotFound, Unauth,
            ],
        },
        Op {
            name: "updateTimeLog (projUser's log)",
            call: ("UpdateTimeLogInput", "id hours"),
            variables: |w| json!({ "id": w.user_log, "hours": 5 }),
            returns: |w, _| json!({ "id": w.user_log, "hours": 5 }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Allow, NotFound, Unauth,
            ],
        },
        Op {
            name: "deleteTimeLog (projUser's log)",
            call: ("DeleteTimeLogInput", "id"),
            variables: |w| json!({ "id": w.user_log }),
            returns: |w, _| json!({ "id": w.user_log }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Allow, NotFound, Unauth,
            ],
        },
        Op {
            name: "updateTimeLog (projOwner's log)",
            call: ("UpdateTimeLogInput", "id hours"),
            variables: |w| json!({ "id": w.owner_log, "hours": 5 }),
            returns: |w, _| json!({ "id": w.owner_log, "hours": 5 }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound, Unauth,
            ],
        },
        Op {
            name: "deleteTimeLog (projOwner's log)",
            call: ("DeleteTimeLogInput", "id"),
            variables: |w| json!({ "id": w.owner_log }),
            returns: |w, _| json!({ "id": w.owner_log }),
            expected: [
                Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound, Unauth,
            ],
        },
    ]
}

/// Whether `actual` holds everything in `want` (objects may have more keys).
fn contains(actual: &Value, want: &Value) -> bool {
    match (actual, want) {
        (Value::Object(actual), Value::Object(want)) => want
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|got| contains(got, value))),
        _ => actual == want,
    }
}

/// Runs `op` as `actor` on `world`; `Err` says how the outcome differs from `expected`.
async fn check(
    app: &TestApp,
    people: &People,
    world: &World,
    op: &Op,
    actor: usize,
    expected: Expected,
) -> Result<(), String> {
    let account = people.actors[actor].as_ref();
    let (document, variables) = op.request(world);
    let before = snapshot(&app.db, world).await;
    let token = account.map(|account| account.token.as_str());
    let response = app.graphql_as(token, &document, variables).await;
    let after = snapshot(&app.db, world).await;
    let body = &response.body;
    let field = op.field();
    let value = &body["data"][field];
    let changed = before != after;
    match expected.code() {
        None => {
            let me = account.map_or(Uuid::nil(), uuid);
            let want = (op.returns)(world, me);
            if body.get("errors").is_some() || !contains(value, &want) {
                return Err(format!("expected it allowed, returning {want}; got {body}"));
            }
            // Mutations change the world (createWorkspace adds a workspace to it); reads don't.
            let writes = !op.call.0.is_empty();
            if writes != changed {
                let what = ["a read changed the world", "no row of the world changed"];
                let what = what[usize::from(writes)];
                return Err(format!("allowed, yet {what}; got {body}"));
            }
        }
        Some(code) => {
            let got = body["errors"][0]["extensions"]["code"].as_str();
            if got != Some(code) {
                return Err(format!("expected {code}; got {body}"));
            }
            if !value.is_null() {
                return Err(format!("refused, yet data.{field} is {value}; got {body}"));
            }
            if changed {
                let gone: Vec<_> = before.iter().filter(|row| !after.contains(row)).collect();
                let new: Vec<_> = after.iter().filter(|row| !before.contains(row)).collect();
                return Err(format!(
                    "refused with {code}, yet the world changed: {gone:#?} became {new:#?}"
                ));
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn authorization_matrix_matches_the_policy() {
    let started = Instant::now();
    let app = TestApp::spawn().await;
    let people = People::sign_up(&app).await;
    // The outsider owns a workspace of their own, just not this one.
    let theirs = new_workspace(&app.db, "Outsiders").await;
    join_workspace(&app.db, theirs, people.id(OUTSIDER), Role::Owner).await;

    let operations = operations();
    let mut cells = 0;
    let mut failures = Vec::new();
    for op in &operations {
        for (actor, expected) in op.expected.into_iter().enumerate() {
            let world = build_world(&app.db, &people, cells).await;
            cells += 1;
            if let Err(why) = check(&app, &people, &world, op, actor, expected).await {
                failures.push(format!("{} as {}: {why}", op.name, ACTORS[actor]));
            }
        }
    }
    println!(
        "authorization matrix: {} operations × {} actors = {cells} cases in {:.1?}",
        operations.len(),
        ACTORS.len(),
        started.elapsed(),
    );
    assert!(
        failures.is_empty(),
        "{} of {cells} cases disagree with the policy:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
