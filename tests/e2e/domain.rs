//! The work domain through the API: validation against the seed limits, the membership rules, transactions.

use std::collections::BTreeSet;

use futures_util::future::join_all;

use entity::prelude::*;
use entity::role::Role;
use entity::{client, project, project_user, task, time_log, workspace, workspace_user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde_json::{Value, json};
use tests::{Account, GqlResponse, PASSWORD, TestApp};
use uuid::Uuid;

const SIGN_UP: &str = "mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { token user { id email } }
}";
const CREATE_WORKSPACE: &str = "mutation CreateWorkspace($input: CreateWorkspaceInput!) {
    createWorkspace(input: $input) { id name description }
}";
const UPDATE_WORKSPACE: &str = "mutation UpdateWorkspace($input: UpdateWorkspaceInput!) {
    updateWorkspace(input: $input) { id name description }
}";
const DELETE_WORKSPACE: &str = "mutation DeleteWorkspace($input: DeleteWorkspaceInput!) {
    deleteWorkspace(input: $input) { id }
}";
const ADD_WORKSPACE_MEMBER: &str = "mutation AddWorkspaceMember($input: AddWorkspaceMemberInput!) {
    addWorkspaceMember(input: $input) { id role user { id email phone } }
}";
const UPDATE_WORKSPACE_MEMBER_ROLE: &str = "mutation UpdateWorkspaceMemberRole(
    $input: UpdateWorkspaceMemberRoleInput!
) {
    updateWorkspaceMemberRole(input: $input) { id role }
}";
const REMOVE_WORKSPACE_MEMBER: &str = "mutation RemoveWorkspaceMember(
    $input: RemoveWorkspaceMemberInput!
) {
    removeWorkspaceMember(input: $input) { id role }
}";
const CREATE_CLIENT: &str = "mutation CreateClient($input: CreateClientInput!) {
    createClient(input: $input) { id name contactEmail contactPhone }
}";
const UPDATE_CLIENT: &str = "mutation UpdateClient($input: UpdateClientInput!) {
    updateClient(input: $input) { id name contactEmail contactPhone }
}";
const DELETE_CLIENT: &str = "mutation DeleteClient($input: DeleteClientInput!) {
    deleteClient(input: $input) { id }
}";
const CREATE_PROJECT: &str = "mutation CreateProject($input: CreateProjectInput!) {
    createProject(input: $input) { id name description deadline client { id } }
}";
const UPDATE_PROJECT: &str = "mutation UpdateProject($input: UpdateProjectInput!) {
    updateProject(input: $input) { id name description deadline client { id } }
}";
const DELETE_PROJECT: &str = "mutation DeleteProject($input: DeleteProjectInput!) {
    deleteProject(input: $input) { id }
}";
const ADD_PROJECT_MEMBER: &str = "mutation AddProjectMember($input: AddProjectMemberInput!) {
    addProjectMember(input: $input) { id role user { id email phone } }
}";
const CREATE_TASK: &str = "mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) { id name description status }
}";
const UPDATE_TASK: &str = "mutation UpdateTask($input: UpdateTaskInput!) {
    updateTask(input: $input) { id name description status }
}";
const DELETE_TASK: &str = "mutation DeleteTask($input: DeleteTaskInput!) {
    deleteTask(input: $input) { id }
}";
const LOG_TIME: &str = "mutation LogTime($input: LogTimeInput!) {
    logTime(input: $input) { id hours description loggedAt }
}";
const UPDATE_TIME_LOG: &str = "mutation UpdateTimeLog($input: UpdateTimeLogInput!) {
    updateTimeLog(input: $input) { id hours description loggedAt user { id email phone } }
}";
const WORKSPACE: &str = "query Workspace($id: ID!) { workspace(id: $id) { id viewerRole } }";
const PROJECT: &str = "query Project($id: ID!) { project(id: $id) { id name } }";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `data.<field>.id` of a response that must have succeeded.
fn id_of(response: &GqlResponse, field: &str) -> String {
    response.data()[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{field} without an id: {}", response.body))
        .to_owned()
}

fn uuid(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or_else(|err| panic!("{id:?} is not a UUID: {err}"))
}

/// Asserts that the first error has `code` and `extensions.field == field`.
fn assert_error(response: &GqlResponse, code: &str, field: Option<&str>, what: &str) {
    let extensions = &response.body["errors"][0]["extensions"];
    assert_eq!(
        extensions["code"].as_str(),
        Some(code),
        "{what}: code, got {}",
        response.body
    );
    assert_eq!(
        extensions["field"].as_str(),
        field,
        "{what}: field, got {}",
        response.body
    );
}

async fn add_workspace_member(
    app: &TestApp,
    token: &str,
    workspace_id: &str,
    email: &str,
    role: &str,
) -> GqlResponse {
    app.graphql_as(
        Some(token),
        ADD_WORKSPACE_MEMBER,
        json!({ "input": { "workspaceId": workspace_id, "email": email, "role": role } }),
    )
    .await
}

async fn add_project_member(
    app: &TestApp,
    token: &str,
    project_id: &str,
    user_id: &str,
    role: &str,
) -> GqlResponse {
    app.graphql_as(
        Some(token),
        ADD_PROJECT_MEMBER,
        json!({ "input": { "projectId": project_id, "userId": user_id, "role": role } }),
    )
    .await
}

async fn remove_workspace_member(
    app: &TestApp,
    token: &str,
    workspace_id: &str,
    user_id: &str,
) -> GqlResponse {
    app.graphql_as(
        Some(token),
        REMOVE_WORKSPACE_MEMBER,
        json!({ "input": { "workspaceId": workspace_id, "userId": user_id } }),
    )
    .await
}

async fn set_workspace_role(
    app: &TestApp,
    token: &str,
    workspace_id: &str,
    user_id: &str,
    role: &str,
) -> GqlResponse {
    app.graphql_as(
        Some(token),
        UPDATE_WORKSPACE_MEMBER_ROLE,
        json!({ "input": { "workspaceId": workspace_id, "userId": user_id, "role": role } }),
    )
    .await
}

/// A well-formed email address of exactly `len` characters (250 to 311).
fn email_of_len(len: usize) -> String {
    let prefix = format!(
        "{}@{}.{}.{}.",
        "a".repeat(64),
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(60)
    );
    let last = len
        .checked_sub(prefix.len())
        .filter(|rest| (2..=63).contains(rest))
        .unwrap_or_else(|| panic!("no email of {len} characters with this shape"));
    let email = format!("{prefix}{}", "e".repeat(last));
    assert_eq!(email.chars().count(), len);
    email
}

/// Every row of the domain tables, in id order: equal snapshots mean nothing was written.
#[derive(Debug, PartialEq)]
struct Rows {
    workspaces: Vec<workspace::Model>,
    workspace_users: Vec<workspace_user::Model>,
    clients: Vec<client::Model>,
    projects: Vec<project::Model>,
    project_users: Vec<project_user::Model>,
    tasks: Vec<task::Model>,
    time_logs: Vec<time_log::Model>,
}

impl Rows {
    async fn read(db: &DatabaseConnection) -> Self {
        Self {
            workspaces: Workspace::find()
                .order_by_asc(workspace::Column::Id)
                .all(db)
                .await
                .expect("read workspaces"),
            workspace_users: WorkspaceUser::find()
                .order_by_asc(workspace_user::Column::Id)
                .all(db)
                .await
                .expect("read workspace_users"),
            clients: Client::find()
                .order_by_asc(client::Column::Id)
                .all(db)
                .await
                .expect("read clients"),
            projects: Project::find()
                .order_by_asc(project::Column::Id)
                .all(db)
                .await
                .expect("read projects"),
            project_users: ProjectUser::find()
                .order_by_asc(project_user::Column::Id)
                .all(db)
                .await
                .expect("read project_users"),
            tasks: Task::find()
                .order_by_asc(task::Column::Id)
                .all(db)
                .await
                .expect("read tasks"),
            time_logs: TimeLog::find()
                .order_by_asc(time_log::Column::Id)
                .all(db)
                .await
                .expect("read time_logs"),
        }
    }
}

/// The ids of `rows`, as a set.
fn ids<T>(rows: &[T], id: impl Fn(&T) -> Uuid) -> BTreeSet<Uuid> {
    rows.iter().map(id).collect()
}

/// A set of ids from the API's strings.
fn set(ids: &[&str]) -> BTreeSet<Uuid> {
    ids.iter().map(|id| uuid(id)).collect()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn api_refuses_every_seed_limit_before_writing() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let w = app.create_workspace(&ann, "Acme").await;
    let c = app.create_client(&ann, &w, "Globex").await;
    let p = app.create_project(&ann, &w, &c, "Launch").await;
    let t = app.create_task(&ann, &p, "Design").await;
    let l = app.log_time(&ann, &t, 2).await;
    let x = |n: usize| "x".repeat(n);

    let cases: Vec<(&str, &str, Value, &str)> = vec![
        // workspaces: name 100, description 500
        (
            "createWorkspace name of 101",
            CREATE_WORKSPACE,
            json!({ "name": x(101) }),
            "name",
        ),
        (
            "createWorkspace blank name",
            CREATE_WORKSPACE,
            json!({ "name": "   " }),
            "name",
        ),
        (
            "createWorkspace empty name",
            CREATE_WORKSPACE,
            json!({ "name": "" }),
            "name",
        ),
        (
            "createWorkspace description of 501",
            CREATE_WORKSPACE,
            json!({ "name": "Fresh", "description": x(501) }),
            "description",
        ),
        (
            "createWorkspace id not a UUID",
            CREATE_WORKSPACE,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        (
            "updateWorkspace name of 101",
            UPDATE_WORKSPACE,
            json!({ "id": w, "name": x(101) }),
            "name",
        ),
        (
            "updateWorkspace blank name",
            UPDATE_WORKSPACE,
            json!({ "id": w, "name": " \t " }),
            "name",
        ),
        (
            "updateWorkspace description of 501",
            UPDATE_WORKSPACE,
            json!({ "id": w, "description": x(501) }),
            "description",
        ),
        (
            "updateWorkspace id not a UUID",
            UPDATE_WORKSPACE,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        // clients: name 100, contact_email 255, contact_phone 20
        (
            "createClient name of 101",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": x(101) }),
            "name",
        ),
        (
            "createClient blank name",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "  " }),
            "name",
        ),
        (
            "createClient contactEmail of 256",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactEmail": email_of_len(256) }),
            "contactEmail",
        ),
        (
            "createClient malformed contactEmail",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactEmail": "globex.example.io" }),
            "contactEmail",
        ),
        (
            "createClient contactPhone of 21",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactPhone": "1".repeat(21) }),
            "contactPhone",
        ),
        (
            "createClient contactPhone with letters",
            CREATE_CLIENT,
            json!({ "workspaceId": w, "name": "Fresh", "contactPhone": "call me" }),
            "contactPhone",
        ),
        (
            "createClient workspaceId not a UUID",
            CREATE_CLIENT,
            json!({ "workspaceId": "not-a-uuid", "name": "Fresh" }),
            "workspaceId",
        ),
        (
            "updateClient name of 101",
            UPDATE_CLIENT,
            json!({ "id": c, "name": x(101) }),
            "name",
        ),
        (
            "updateClient blank name",
            UPDATE_CLIENT,
            json!({ "id": c, "name": "" }),
            "name",
        ),
        (
            "updateClient contactEmail of 256",
            UPDATE_CLIENT,
            json!({ "id": c, "contactEmail": email_of_len(256) }),
            "contactEmail",
        ),
        (
            "updateClient malformed contactEmail",
            UPDATE_CLIENT,
            json!({ "id": c, "contactEmail": "ann@@example.io" }),
            "contactEmail",
        ),
        (
            "updateClient contactPhone of 21",
            UPDATE_CLIENT,
            json!({ "id": c, "contactPhone": "2".repeat(21) }),
            "contactPhone",
        ),
        (
            "updateClient contactPhone with letters",
            UPDATE_CLIENT,
            json!({ "id": c, "contactPhone": "555-CALL-NOW" }),
            "contactPhone",
        ),
        (
            "updateClient id not a UUID",
            UPDATE_CLIENT,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        // projects: name 100, description 500
        (
            "createProject name of 101",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": x(101) }),
            "name",
        ),
        (
            "createProject blank name",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "   " }),
            "name",
        ),
        (
            "createProject description of 501",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "Fresh", "description": x(501) }),
            "description",
        ),
        (
            "createProject workspaceId not a UUID",
            CREATE_PROJECT,
            json!({ "workspaceId": "not-a-uuid", "clientId": c, "name": "Fresh" }),
            "workspaceId",
        ),
        (
            "createProject clientId not a UUID",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": "not-a-uuid", "name": "Fresh" }),
            "clientId",
        ),
        (
            "updateProject name of 101",
            UPDATE_PROJECT,
            json!({ "id": p, "name": x(101) }),
            "name",
        ),
        (
            "updateProject blank name",
            UPDATE_PROJECT,
            json!({ "id": p, "name": " " }),
            "name",
        ),
        (
            "updateProject description of 501",
            UPDATE_PROJECT,
            json!({ "id": p, "description": x(501) }),
            "description",
        ),
        (
            "updateProject id not a UUID",
            UPDATE_PROJECT,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        (
            "updateProject clientId not a UUID",
            UPDATE_PROJECT,
            json!({ "id": p, "clientId": "not-a-uuid" }),
            "clientId",
        ),
        // tasks: name 150, description 500
        (
            "createTask name of 151",
            CREATE_TASK,
            json!({ "projectId": p, "name": x(151) }),
            "name",
        ),
        (
            "createTask blank name",
            CREATE_TASK,
            json!({ "projectId": p, "name": "  " }),
            "name",
        ),
        (
            "createTask description of 501",
            CREATE_TASK,
            json!({ "projectId": p, "name": "Fresh", "description": x(501) }),
            "description",
        ),
        (
            "createTask projectId not a UUID",
            CREATE_TASK,
            json!({ "projectId": "not-a-uuid", "name": "Fresh" }),
            "projectId",
        ),
        (
            "updateTask name of 151",
            UPDATE_TASK,
            json!({ "id": t, "name": x(151) }),
            "name",
        ),
        (
            "updateTask blank name",
            UPDATE_TASK,
            json!({ "id": t, "name": "" }),
            "name",
        ),
        (
            "updateTask description of 501",
            UPDATE_TASK,
            json!({ "id": t, "description": x(501) }),
            "description",
        ),
        (
            "updateTask id not a UUID",
            UPDATE_TASK,
            json!({ "id": "not-a-uuid", "name": "Fresh" }),
            "id",
        ),
        // time logs: description 500, hours > 0 (and at most a day)
        (
            "logTime hours 0",
            LOG_TIME,
            json!({ "taskId": t, "hours": 0 }),
            "hours",
        ),
        (
            "logTime hours -1",
            LOG_TIME,
            json!({ "taskId": t, "hours": -1 }),
            "hours",
        ),
        (
            "logTime hours 25",
            LOG_TIME,
            json!({ "taskId": t, "hours": 25 }),
            "hours",
        ),
        (
            "logTime description of 501",
            LOG_TIME,
            json!({ "taskId": t, "hours": 1, "description": x(501) }),
            "description",
        ),
        (
            "logTime taskId not a UUID",
            LOG_TIME,
            json!({ "taskId": "not-a-uuid", "hours": 1 }),
            "taskId",
        ),
        (
            "updateTimeLog hours 0",
            UPDATE_TIME_LOG,
            json!({ "id": l, "hours": 0 }),
            "hours",
        ),
        (
            "updateTimeLog hours -1",
            UPDATE_TIME_LOG,
            json!({ "id": l, "hours": -1 }),
            "hours",
        ),
        (
            "updateTimeLog hours 25",
            UPDATE_TIME_LOG,
            json!({ "id": l, "hours": 25 }),
            "hours",
        ),
        (
            "updateTimeLog description of 501",
            UPDATE_TIME_LOG,
            json!({ "id": l, "description": x(501) }),
            "description",
        ),
        (
            "updateTimeLog id not a UUID",
            UPDATE_TIME_LOG,
            json!({ "id": "not-a-uuid", "hours": 1 }),
            "id",
        ),
        // membership ids
        (
            "addWorkspaceMember workspaceId not a UUID",
            ADD_WORKSPACE_MEMBER,
            json!({ "workspaceId": "not-a-uuid", "email": "ann@example.io", "role": "USER" }),
            "workspaceId",
        ),
        (
            "addProjectMember userId not a UUID",
            ADD_PROJECT_MEMBER,
            json!({ "projectId": p, "userId": "not-a-uuid", "role": "USER" }),
            "userId",
        ),
        (
            "removeWorkspaceMember userId not a UUID",
            REMOVE_WORKSPACE_MEMBER,
            json!({ "workspaceId": w, "userId": "not-a-uuid" }),
            "userId",
        ),
    ];
    for (what, query, input, field) in cases {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some(field), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // Ids in queries are checked the same way.
    for (query, what) in [(WORKSPACE, "workspace"), (PROJECT, "project")] {
        let response = app
            .graphql_as(Some(token), query, json!({ "id": "not-a-uuid" }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some("id"), what);
    }

    // Values a scalar can't parse (date-times that aren't RFC 3339, an Int past 32 bits) are
    // refused while coercing the variables, before any resolver runs. They get
    // BAD_USER_INPUT from the server's error-code extension, but no `extensions.field`:
    // async-graphql's message names only the input type ("occurred while parsing
    // \"CreateProjectInput\"").
    let bad_scalars: Vec<(&str, &str, Value)> = vec![
        (
            "createProject deadline \"tomorrow\"",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "Dated", "deadline": "tomorrow" }),
        ),
        (
            "createProject deadline without an offset",
            CREATE_PROJECT,
            json!({ "workspaceId": w, "clientId": c, "name": "Dated", "deadline": "2030-01-02T03:04:05" }),
        ),
        (
            "updateProject deadline \"tomorrow\"",
            UPDATE_PROJECT,
            json!({ "id": p, "deadline": "tomorrow" }),
        ),
        (
            "logTime loggedAt \"tomorrow\"",
            LOG_TIME,
            json!({ "taskId": t, "hours": 1, "loggedAt": "tomorrow" }),
        ),
        (
            "updateTimeLog loggedAt out of range",
            UPDATE_TIME_LOG,
            json!({ "id": l, "loggedAt": "2025-13-45T00:00:00Z" }),
        ),
        (
            "logTime hours past 32 bits",
            LOG_TIME,
            json!({ "taskId": t, "hours": 2_147_483_648_i64 }),
        ),
    ];
    for (what, query, input) in bad_scalars {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        let errors = response.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: expected errors, got {}", response.body));
        assert!(!errors.is_empty(), "{what}: expected an error");
        assert!(
            response.body["data"].is_null(),
            "{what}: no data on a refused variable, got {}",
            response.body
        );
        assert_eq!(
            errors[0]["extensions"]["code"].as_str(),
            Some("BAD_USER_INPUT"),
            "{what}: a value the scalar refuses should carry a code, got {}",
            response.body
        );
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // The limits are inclusive and count characters, not bytes ('é' is two bytes in UTF-8).
    let e = |n: usize| "é".repeat(n);
    let created = app
        .graphql_as(
            Some(token),
            CREATE_WORKSPACE,
            json!({ "input": { "name": e(100), "description": e(500) } }),
        )
        .await;
    assert_eq!(created.data()["createWorkspace"]["name"], e(100));
    assert_eq!(created.data()["createWorkspace"]["description"], e(500));
    let stored = Workspace::find_by_id(uuid(&id_of(&created, "createWorkspace")))
        .one(&app.db)
        .await
        .expect("read workspace")
        .expect("the workspace is stored");
    assert_eq!(stored.name, e(100));
    assert_eq!(stored.description.as_deref(), Some(e(500).as_str()));

    let renamed = app
        .graphql_as(
            Some(token),
            UPDATE_WORKSPACE,
            json!({ "input": { "id": w, "name": "ü".repeat(100), "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(renamed.data()["updateWorkspace"]["name"], "ü".repeat(100));

    let phone = "+1 (555) 010-9999 00";
    assert_eq!(phone.chars().count(), 20);
    let client = app
        .graphql_as(
            Some(token),
            CREATE_CLIENT,
            json!({ "input": {
                "workspaceId": w,
                "name": e(100),
                "contactEmail": email_of_len(255),
                "contactPhone": phone,
            } }),
        )
        .await;
    assert_eq!(client.data()["createClient"]["name"], e(100));
    assert_eq!(
        client.data()["createClient"]["contactEmail"],
        email_of_len(255)
    );
    assert_eq!(client.data()["createClient"]["contactPhone"], phone);
    let updated_client = app
        .graphql_as(
            Some(token),
            UPDATE_CLIENT,
            json!({ "input": {
                "id": c,
                "name": "ü".repeat(100),
                "contactEmail": email_of_len(255),
                "contactPhone": "9".repeat(20),
            } }),
        )
        .await;
    assert_eq!(
        updated_client.data()["updateClient"]["name"],
        "ü".repeat(100)
    );

    let project = app
        .graphql_as(
            Some(token),
            CREATE_PROJECT,
            json!({ "input": { "workspaceId": w, "clientId": c, "name": e(100), "description": e(500) } }),
        )
        .await;
    assert_eq!(project.data()["createProject"]["name"], e(100));
    assert_eq!(project.data()["createProject"]["description"], e(500));
    let updated_project = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": p, "name": "ü".repeat(100), "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(
        updated_project.data()["updateProject"]["name"],
        "ü".repeat(100)
    );

    let task = app
        .graphql_as(
            Some(token),
            CREATE_TASK,
            json!({ "input": { "projectId": p, "name": e(150), "description": e(500) } }),
        )
        .await;
    assert_eq!(task.data()["createTask"]["name"], e(150));
    let stored = Task::find_by_id(uuid(&id_of(&task, "createTask")))
        .one(&app.db)
        .await
        .expect("read task")
        .expect("the task is stored");
    assert_eq!(stored.name.chars().count(), 150);
    let updated_task = app
        .graphql_as(
            Some(token),
            UPDATE_TASK,
            json!({ "input": { "id": t, "name": "ü".repeat(150), "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(updated_task.data()["updateTask"]["name"], "ü".repeat(150));

    for hours in [1, 24] {
        let logged = app
            .graphql_as(
                Some(token),
                LOG_TIME,
                json!({ "input": { "taskId": t, "hours": hours, "description": e(500) } }),
            )
            .await;
        assert_eq!(logged.data()["logTime"]["hours"], hours);
        assert_eq!(logged.data()["logTime"]["description"], e(500));
    }
    let updated_log = app
        .graphql_as(
            Some(token),
            UPDATE_TIME_LOG,
            json!({ "input": { "id": l, "hours": 24, "description": "ü".repeat(500) } }),
        )
        .await;
    assert_eq!(updated_log.data()["updateTimeLog"]["hours"], 24);
}

#[tokio::test]
async fn unique_names_conflict_on_their_field() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let beta = app.create_workspace(&ann, "Beta").await;
    let globex = app.create_client(&ann, &acme, "Globex").await;
    let initech = app.create_client(&ann, &acme, "Initech").await;
    let launch = app.create_project(&ann, &acme, &globex, "Launch").await;
    let landing = app.create_project(&ann, &acme, &globex, "Landing").await;

    let cases: Vec<(&str, &str, &str, Value)> = vec![
        (
            "createWorkspace with a taken name",
            token,
            CREATE_WORKSPACE,
            json!({ "name": "Acme" }),
        ),
        (
            "createWorkspace with a taken name, padded",
            token,
            CREATE_WORKSPACE,
            json!({ "name": "  Acme " }),
        ),
        (
            "createWorkspace with a name taken by someone else's workspace",
            &bob.token,
            CREATE_WORKSPACE,
            json!({ "name": "Acme" }),
        ),
        (
            "updateWorkspace onto a taken name",
            token,
            UPDATE_WORKSPACE,
            json!({ "id": beta, "name": "Acme" }),
        ),
        (
            "createClient with a name taken in the workspace",
            token,
            CREATE_CLIENT,
            json!({ "workspaceId": acme, "name": "Globex" }),
        ),
        (
            "updateClient onto a name taken in the workspace",
            token,
            UPDATE_CLIENT,
            json!({ "id": initech, "name": "Globex" }),
        ),
        (
            "createProject with a name taken in the workspace",
            token,
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": initech, "name": "Launch" }),
        ),
        (
            "updateProject onto a name taken in the workspace",
            token,
            UPDATE_PROJECT,
            json!({ "id": landing, "name": "Launch" }),
        ),
    ];
    for (what, actor, query, input) in cases {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(actor), query, json!({ "input": input }))
            .await;
        assert_error(&response, "CONFLICT", Some("name"), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // Keeping one's own name is no clash.
    let same = app
        .graphql_as(
            Some(token),
            UPDATE_WORKSPACE,
            json!({ "input": { "id": acme, "name": "Acme" } }),
        )
        .await;
    assert_eq!(same.data()["updateWorkspace"]["name"], "Acme");
    let same = app
        .graphql_as(
            Some(token),
            UPDATE_CLIENT,
            json!({ "input": { "id": globex, "name": "Globex" } }),
        )
        .await;
    assert_eq!(same.data()["updateClient"]["name"], "Globex");
    let same = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": launch, "name": "Launch" } }),
        )
        .await;
    assert_eq!(same.data()["updateProject"]["name"], "Launch");

    // Client and project names are unique per workspace only.
    let other_globex = app.create_client(&ann, &beta, "Globex").await;
    let other_launch = app
        .create_project(&ann, &beta, &other_globex, "Launch")
        .await;
    let other_initech = app.create_client(&ann, &beta, "Other").await;
    let renamed = app
        .graphql_as(
            Some(token),
            UPDATE_CLIENT,
            json!({ "input": { "id": other_initech, "name": "Initech" } }),
        )
        .await;
    assert_eq!(renamed.data()["updateClient"]["name"], "Initech");
    let other_landing = app
        .create_project(&ann, &beta, &other_globex, "Other")
        .await;
    let renamed = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": other_landing, "name": "Landing" } }),
        )
        .await;
    assert_eq!(renamed.data()["updateProject"]["name"], "Landing");
    assert_ne!(other_launch, launch);
    let rows = Rows::read(&app.db).await;
    assert_eq!(
        rows.clients.iter().filter(|c| c.name == "Globex").count(),
        2
    );
    assert_eq!(
        rows.projects.iter().filter(|p| p.name == "Launch").count(),
        2
    );

    // Concurrent creates race past the API's own check; the database's UNIQUE decides, and
    // the losers still get CONFLICT on `name`, never INTERNAL.
    let races: Vec<(&str, &str, Value)> = vec![
        (
            "createWorkspace",
            CREATE_WORKSPACE,
            json!({ "name": "Race" }),
        ),
        (
            "createClient",
            CREATE_CLIENT,
            json!({ "workspaceId": acme, "name": "Race" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": globex, "name": "Race" }),
        ),
    ];
    for (field, query, input) in races {
        let body = json!({ "input": input });
        let responses =
            join_all((0..6).map(|_| app.graphql_as(Some(token), query, body.clone()))).await;
        let mut created = 0;
        for response in &responses {
            if response.body["errors"].is_null() {
                created += 1;
            } else {
                assert_error(
                    response,
                    "CONFLICT",
                    Some("name"),
                    &format!("concurrent {field}"),
                );
            }
        }
        assert_eq!(created, 1, "concurrent {field}: exactly one wins");
    }
    let rows = Rows::read(&app.db).await;
    assert_eq!(
        rows.workspaces.iter().filter(|w| w.name == "Race").count(),
        1
    );
    assert_eq!(rows.clients.iter().filter(|c| c.name == "Race").count(), 1);
    assert_eq!(rows.projects.iter().filter(|p| p.name == "Race").count(), 1);
}

#[tokio::test]
async fn the_last_owner_cannot_leave_or_be_demoted() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let carol = app.sign_up("carol@example.io").await;
    let dave = app.sign_up("dave@example.io").await;
    let w = app.create_workspace(&ann, "Acme").await;

    // Ann is the only OWNER.
    let before = Rows::read(&app.db).await;
    let leave = remove_workspace_member(&app, &ann.token, &w, &ann.id).await;
    assert_error(&leave, "CONFLICT", None, "the sole OWNER leaving");
    for role in ["ADMIN", "USER"] {
        let demote = set_workspace_role(&app, &ann.token, &w, &ann.id, role).await;
        assert_error(
            &demote,
            "CONFLICT",
            None,
            &format!("the sole OWNER demoting themself to {role}"),
        );
    }
    assert_eq!(Rows::read(&app.db).await, before, "nothing changed");

    add_workspace_member(&app, &ann.token, &w, &bob.email, "OWNER")
        .await
        .data();
    add_workspace_member(&app, &ann.token, &w, &carol.email, "ADMIN")
        .await
        .data();
    add_workspace_member(&app, &ann.token, &w, &dave.email, "USER")
        .await
        .data();

    // With a second OWNER, the first may leave.
    let leave = remove_workspace_member(&app, &ann.token, &w, &ann.id).await;
    assert!(
        leave.data()["removeWorkspaceMember"]["id"].is_string(),
        "returns the membership id"
    );
    let gone = app
        .graphql_as(Some(&ann.token), WORKSPACE, json!({ "id": w }))
        .await;
    assert_eq!(gone.error_code(), "NOT_FOUND", "Ann left");

    // Now Bob is the last OWNER.
    let leave = remove_workspace_member(&app, &bob.token, &w, &bob.id).await;
    assert_error(&leave, "CONFLICT", None, "the new sole OWNER leaving");
    let demote = set_workspace_role(&app, &bob.token, &w, &bob.id, "USER").await;
    assert_error(
        &demote,
        "CONFLICT",
        None,
        "the new sole OWNER demoting themself",
    );

    // An ADMIN and a USER may leave.
    let leave = remove_workspace_member(&app, &carol.token, &w, &carol.id).await;
    assert!(leave.data()["removeWorkspaceMember"]["id"].is_string());
    let leave = remove_workspace_member(&app, &dave.token, &w, &dave.id).await;
    assert!(leave.data()["removeWorkspaceMember"]["id"].is_string());

    // Two OWNERs leaving at the same moment: one may go, the other is then the last.
    let erin = app.sign_up("erin@example.io").await;
    add_workspace_member(&app, &bob.token, &w, &erin.email, "OWNER")
        .await
        .data();
    let (bob_leaves, erin_leaves) = tokio::join!(
        remove_workspace_member(&app, &bob.token, &w, &bob.id),
        remove_workspace_member(&app, &erin.token, &w, &erin.id),
    );
    let outcomes = [&bob_leaves, &erin_leaves].map(|response| {
        let extensions = &response.body["errors"][0]["extensions"];
        (
            extensions["code"].as_str().map(str::to_owned),
            response.body.clone(),
        )
    });
    let left = outcomes.iter().filter(|(code, _)| code.is_none()).count();
    assert_eq!(
        left, 1,
        "exactly one of two OWNERs leaving at once goes: {outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|(code, _)| code.is_none() || code.as_deref() == Some("CONFLICT")),
        "the other one is the last OWNER: CONFLICT, got {outcomes:?}"
    );
    let stays = if bob_leaves.body["errors"].is_null() {
        &erin
    } else {
        &bob
    };

    let members = WorkspaceUser::find()
        .filter(workspace_user::Column::WorkspaceId.eq(uuid(&w)))
        .all(&app.db)
        .await
        .expect("read workspace_users");
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0].user_id, uuid(&stays.id));
    assert_eq!(members[0].role, Role::Owner);
}

#[tokio::test]
async fn a_project_client_must_belong_to_the_same_workspace() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let beta = app.create_workspace(&ann, "Beta").await;
    let acme_client = app.create_client(&ann, &acme, "Globex").await;
    let acme_other = app.create_client(&ann, &acme, "Initech").await;
    let beta_client = app.create_client(&ann, &beta, "Hooli").await;
    let launch = app
        .create_project(&ann, &acme, &acme_client, "Launch")
        .await;
    let unknown = Uuid::now_v7().to_string();

    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "createProject with another workspace's client",
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": beta_client, "name": "Mixed" }),
        ),
        (
            "createProject with an unknown client",
            CREATE_PROJECT,
            json!({ "workspaceId": acme, "clientId": unknown, "name": "Mixed" }),
        ),
        (
            "updateProject onto another workspace's client",
            UPDATE_PROJECT,
            json!({ "id": launch, "clientId": beta_client }),
        ),
        (
            "updateProject onto an unknown client",
            UPDATE_PROJECT,
            json!({ "id": launch, "clientId": unknown }),
        ),
    ];
    for (what, query, input) in cases {
        let before = Rows::read(&app.db).await;
        let response = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some("clientId"), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }

    // Another client of the same workspace is fine.
    let moved = app
        .graphql_as(
            Some(token),
            UPDATE_PROJECT,
            json!({ "input": { "id": launch, "clientId": acme_other } }),
        )
        .await;
    assert_eq!(
        moved.data()["updateProject"]["client"]["id"],
        acme_other.as_str()
    );
}

#[tokio::test]
async fn removing_a_workspace_member_removes_their_project_memberships() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let beta = app.create_workspace(&ann, "Beta").await;
    let acme_client = app.create_client(&ann, &acme, "Globex").await;
    let beta_client = app.create_client(&ann, &beta, "Hooli").await;
    let first = app.create_project(&ann, &acme, &acme_client, "First").await;
    let second = app
        .create_project(&ann, &acme, &acme_client, "Second")
        .await;
    let elsewhere = app
        .create_project(&ann, &beta, &beta_client, "Elsewhere")
        .await;
    for workspace in [&acme, &beta] {
        add_workspace_member(&app, token, workspace, &bob.email, "USER")
            .await
            .data();
    }
    for project in [&first, &second, &elsewhere] {
        add_project_member(&app, token, project, &bob.id, "USER")
            .await
            .data();
    }
    let bobs_projects = |rows: &Rows| {
        rows.project_users
            .iter()
            .filter(|row| row.user_id == uuid(&bob.id))
            .map(|row| row.project_id)
            .collect::<BTreeSet<_>>()
    };
    let before = Rows::read(&app.db).await;
    assert_eq!(bobs_projects(&before), set(&[&first, &second, &elsewhere]));
    for project in [&first, &second] {
        let seen = app
            .graphql_as(Some(&bob.token), PROJECT, json!({ "id": project }))
            .await;
        assert_eq!(seen.data()["project"]["id"], project.as_str());
    }

    let removed = remove_workspace_member(&app, token, &acme, &bob.id).await;
    assert!(removed.data()["removeWorkspaceMember"]["id"].is_string());

    let after = Rows::read(&app.db).await;
    assert_eq!(
        bobs_projects(&after),
        set(&[&elsewhere]),
        "only the other workspace's project membership stays"
    );
    assert_eq!(
        after
            .project_users
            .iter()
            .filter(|row| row.user_id == uuid(&ann.id))
            .count(),
        3,
        "other members keep theirs"
    );
    assert!(
        after
            .workspace_users
            .iter()
            .any(|row| row.user_id == uuid(&bob.id) && row.workspace_id == uuid(&beta)),
        "the other workspace's membership stays"
    );
    for project in [&first, &second] {
        let hidden = app
            .graphql_as(Some(&bob.token), PROJECT, json!({ "id": project }))
            .await;
        assert_eq!(hidden.error_code(), "NOT_FOUND");
    }
    let still = app
        .graphql_as(Some(&bob.token), PROJECT, json!({ "id": elsewhere }))
        .await;
    assert_eq!(still.data()["project"]["id"], elsewhere.as_str());
}

#[tokio::test]
async fn project_members_must_be_workspace_members() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let outsider = app.sign_up("olga@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &acme, "Globex").await;
    let launch = app.create_project(&ann, &acme, &client, "Launch").await;
    // Olga is a member of a workspace, just not of this one.
    app.create_workspace(&outsider, "Olga's").await;

    for (what, user_id) in [
        ("a user outside the workspace", outsider.id.clone()),
        ("a user id nobody has", Uuid::now_v7().to_string()),
    ] {
        let before = Rows::read(&app.db).await;
        let response = add_project_member(&app, token, &launch, &user_id, "USER").await;
        assert_error(&response, "BAD_USER_INPUT", Some("userId"), what);
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{what}: nothing may be written"
        );
    }
    let hidden = app
        .graphql_as(Some(&outsider.token), PROJECT, json!({ "id": launch }))
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");
}

/// Makes every insert into `table` fail inside the database, as a broken disk or a lost
/// connection would, after the API's own checks have passed.
async fn fail_inserts_into(app: &TestApp, table: &str) {
    let statements = if app.is_postgres() {
        vec![
            format!(
                "CREATE FUNCTION fail_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'forced failure'; END; $$"
            ),
            format!(
                "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION fail_{table}()"
            ),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
        )]
    };
    for sql in statements {
        app.db
            .execute_unprepared(&sql)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }
}

/// Undoes [`fail_inserts_into`].
async fn allow_inserts_into(app: &TestApp, table: &str) {
    let sql = if app.is_postgres() {
        format!("DROP TRIGGER fail_{table} ON {table}")
    } else {
        format!("DROP TRIGGER fail_{table}")
    };
    app.db
        .execute_unprepared(&sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

/// An `INTERNAL` error that tells the client nothing but a request id.
fn assert_masked_internal(response: &GqlResponse, what: &str) {
    assert_error(response, "INTERNAL", None, what);
    let error = &response.body["errors"][0];
    assert_eq!(
        error["message"], "internal error",
        "{what}: {}",
        response.body
    );
    let text = response.body.to_string().to_lowercase();
    for leak in [
        "forced failure",
        "workspace_users",
        "project_users",
        "insert",
        "trigger",
        "raise",
        "sqlx",
        "sqlite",
        "postgres",
    ] {
        assert!(
            !text.contains(leak),
            "{what}: the error leaks {leak:?}: {}",
            response.body
        );
    }
    let request_id = error["extensions"]["requestId"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no extensions.requestId in {}", response.body));
    assert!(!request_id.is_empty(), "{what}: empty requestId");
    assert!(
        response.body["data"].is_null(),
        "{what}: no data, got {}",
        response.body
    );
}

#[tokio::test]
async fn a_failed_second_write_rolls_back_the_first() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &acme, "Globex").await;

    // createWorkspace: the workspace row, then its OWNER membership.
    let workspace_id = Uuid::now_v7().to_string();
    let input = json!({ "input": { "id": workspace_id, "name": "Doomed" } });
    fail_inserts_into(&app, "workspace_users").await;
    let before = Rows::read(&app.db).await;
    let response = app
        .graphql_as(Some(token), CREATE_WORKSPACE, input.clone())
        .await;
    assert_masked_internal(&response, "createWorkspace");
    let doomed = Workspace::find()
        .filter(workspace::Column::Name.eq("Doomed"))
        .count(&app.db)
        .await
        .expect("count workspaces");
    assert_eq!(doomed, 0, "the workspace row was rolled back");
    assert_eq!(Rows::read(&app.db).await, before, "nothing was written");
    allow_inserts_into(&app, "workspace_users").await;
    // Neither the name nor the id was left taken.
    let retried = app.graphql_as(Some(token), CREATE_WORKSPACE, input).await;
    assert_eq!(
        retried.data()["createWorkspace"]["id"],
        workspace_id.as_str()
    );

    // createProject: the project row, then its OWNER membership.
    let project_id = Uuid::now_v7().to_string();
    let input = json!({ "input": {
        "id": project_id, "workspaceId": acme, "clientId": client, "name": "Doomed"
    } });
    fail_inserts_into(&app, "project_users").await;
    let before = Rows::read(&app.db).await;
    let response = app
        .graphql_as(Some(token), CREATE_PROJECT, input.clone())
        .await;
    assert_masked_internal(&response, "createProject");
    let doomed = Project::find()
        .filter(project::Column::Name.eq("Doomed"))
        .count(&app.db)
        .await
        .expect("count projects");
    assert_eq!(doomed, 0, "the project row was rolled back");
    assert_eq!(Rows::read(&app.db).await, before, "nothing was written");
    allow_inserts_into(&app, "project_users").await;
    let retried = app.graphql_as(Some(token), CREATE_PROJECT, input).await;
    assert_eq!(retried.data()["createProject"]["id"], project_id.as_str());
}

#[tokio::test]
async fn create_with_a_client_chosen_id_is_idempotent() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let w = Uuid::now_v7().to_string();
    let c = Uuid::now_v7().to_string();
    let p = Uuid::now_v7().to_string();
    let p_nanos = Uuid::now_v7().to_string();
    let t = Uuid::now_v7().to_string();
    let l = Uuid::now_v7().to_string();

    // (mutation, query, the input, the same id with a different input)
    let cases: Vec<(&str, &str, Value, Value)> = vec![
        (
            "createWorkspace",
            CREATE_WORKSPACE,
            json!({ "id": w, "name": "Acme", "description": "Rockets" }),
            json!({ "id": w, "name": "Acme", "description": "Anvils" }),
        ),
        (
            "createClient",
            CREATE_CLIENT,
            // Stored lower-cased: the retry is still the same input.
            json!({ "id": c, "workspaceId": w, "name": "Globex",
                    "contactEmail": "Ops@Globex.io", "contactPhone": "+1 555 0100" }),
            json!({ "id": c, "workspaceId": w, "name": "Globex",
                    "contactEmail": "Ops@Globex.io", "contactPhone": "+1 555 0199" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            json!({ "id": p, "workspaceId": w, "clientId": c, "name": "Launch",
                    "description": "Phase one", "deadline": "2030-01-02T03:04:05.123456Z" }),
            json!({ "id": p, "workspaceId": w, "clientId": c, "name": "Launch",
                    "description": "Phase two", "deadline": "2030-01-02T03:04:05.123456Z" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            // A deadline in nanoseconds (as a Go or Rust client may send): the retry must
            // still be the same input, whatever precision the database keeps.
            json!({ "id": p_nanos, "workspaceId": w, "clientId": c, "name": "Landing",
                    "deadline": "2030-01-02T03:04:05.123456789Z" }),
            json!({ "id": p_nanos, "workspaceId": w, "clientId": c, "name": "Landing page",
                    "deadline": "2030-01-02T03:04:05.123456789Z" }),
        ),
        (
            "createTask",
            CREATE_TASK,
            json!({ "id": t, "projectId": p, "name": "Design", "status": "IN_PROGRESS" }),
            json!({ "id": t, "projectId": p, "name": "Design", "status": "COMPLETED" }),
        ),
        (
            "logTime",
            LOG_TIME,
            // Nanoseconds: kept to the microsecond, and the retry still matches.
            json!({ "id": l, "taskId": t, "hours": 3, "description": "Wiring",
                    "loggedAt": "2025-01-02T03:04:05.123456789Z" }),
            json!({ "id": l, "taskId": t, "hours": 4, "description": "Wiring",
                    "loggedAt": "2025-01-02T03:04:05.123456789Z" }),
        ),
    ];
    for (field, query, input, different) in cases {
        let first = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        let id = input["id"].as_str().expect("an id");
        assert_eq!(first.data()[field]["id"], id, "{field} keeps the chosen id");
        let before = Rows::read(&app.db).await;
        let second = app
            .graphql_as(Some(token), query, json!({ "input": input }))
            .await;
        assert_eq!(
            second.data()[field],
            first.data()[field],
            "{field}: the retry returns the same object"
        );
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{field}: the retry writes nothing"
        );
        let conflict = app
            .graphql_as(Some(token), query, json!({ "input": different }))
            .await;
        assert_error(
            &conflict,
            "CONFLICT",
            Some("id"),
            &format!("{field} with the same id and a different input"),
        );
        assert_eq!(
            Rows::read(&app.db).await,
            before,
            "{field}: the conflicting call writes nothing"
        );
    }

    let rows = Rows::read(&app.db).await;
    assert_eq!(ids(&rows.workspaces, |r| r.id), set(&[&w]));
    assert_eq!(ids(&rows.clients, |r| r.id), set(&[&c]));
    assert_eq!(ids(&rows.projects, |r| r.id), set(&[&p, &p_nanos]));
    assert_eq!(ids(&rows.tasks, |r| r.id), set(&[&t]));
    assert_eq!(ids(&rows.time_logs, |r| r.id), set(&[&l]));
    assert_eq!(rows.workspace_users.len(), 1, "one OWNER membership");
    assert_eq!(
        rows.project_users.len(),
        2,
        "one OWNER membership per project"
    );

    // Someone else retrying with the same id and input does not get Ann's workspace.
    let stolen = app
        .graphql_as(
            Some(&bob.token),
            CREATE_WORKSPACE,
            json!({ "input": { "id": w, "name": "Acme", "description": "Rockets" } }),
        )
        .await;
    assert_error(
        &stolen,
        "CONFLICT",
        Some("id"),
        "another user's workspace id",
    );
    assert_eq!(Rows::read(&app.db).await, rows);
}

#[tokio::test]
async fn concurrent_retries_with_a_client_chosen_id_return_the_one_object() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = ann.token.as_str();
    let w = Uuid::now_v7().to_string();
    let c = Uuid::now_v7().to_string();
    let p = Uuid::now_v7().to_string();
    let t = Uuid::now_v7().to_string();
    let l = Uuid::now_v7().to_string();
    // A retry sent while the first request is still in flight (a client that timed out)
    // is still the same input: every copy must answer with the one object, none with
    // CONFLICT or INTERNAL, and one row is written.
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "createWorkspace",
            CREATE_WORKSPACE,
            json!({ "id": w, "name": "Acme" }),
        ),
        (
            "createClient",
            CREATE_CLIENT,
            json!({ "id": c, "workspaceId": w, "name": "Globex" }),
        ),
        (
            "createProject",
            CREATE_PROJECT,
            json!({ "id": p, "workspaceId": w, "clientId": c, "name": "Launch" }),
        ),
        (
            "createTask",
            CREATE_TASK,
            json!({ "id": t, "projectId": p, "name": "Design" }),
        ),
        (
            "logTime",
            LOG_TIME,
            json!({ "id": l, "taskId": t, "hours": 2, "loggedAt": "2025-01-02T03:04:05Z" }),
        ),
    ];
    // Every mutation is tried before failing, so one run shows how each behaves.
    let mut wrong = BTreeSet::new();
    for (field, query, input) in cases {
        let body = json!({ "input": input });
        let responses =
            join_all((0..6).map(|_| app.graphql_as(Some(token), query, body.clone()))).await;
        for response in &responses {
            if response.body["data"][field]["id"].as_str() != input["id"].as_str() {
                let extensions = &response.body["errors"][0]["extensions"];
                wrong.insert(format!(
                    "{field}: {} {}",
                    extensions["code"], extensions["field"]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "concurrent retries answered with errors: {wrong:#?}"
    );
    let rows = Rows::read(&app.db).await;
    assert_eq!(ids(&rows.workspaces, |r| r.id), set(&[&w]));
    assert_eq!(ids(&rows.clients, |r| r.id), set(&[&c]));
    assert_eq!(ids(&rows.projects, |r| r.id), set(&[&p]));
    assert_eq!(ids(&rows.tasks, |r| r.id), set(&[&t]));
    assert_eq!(ids(&rows.time_logs, |r| r.id), set(&[&l]));
    assert_eq!(rows.workspace_users.len(), 1);
    assert_eq!(rows.project_users.len(), 1);
}

/// The ids of the domain tables' rows.
#[derive(Debug, PartialEq, Clone)]
struct Ids {
    workspaces: BTreeSet<Uuid>,
    clients: BTreeSet<Uuid>,
    projects: BTreeSet<Uuid>,
    tasks: BTreeSet<Uuid>,
    time_logs: BTreeSet<Uuid>,
}

impl Ids {
    async fn read(db: &DatabaseConnection) -> (Self, Rows) {
        let rows = Rows::read(db).await;
        let ids = Self {
            workspaces: ids(&rows.workspaces, |r| r.id),
            clients: ids(&rows.clients, |r| r.id),
            projects: ids(&rows.projects, |r| r.id),
            tasks: ids(&rows.tasks, |r| r.id),
            time_logs: ids(&rows.time_logs, |r| r.id),
        };
        // No membership outlives what it belongs to.
        for row in &rows.workspace_users {
            assert!(ids.workspaces.contains(&row.workspace_id), "{row:?}");
        }
        for row in &rows.project_users {
            assert!(ids.projects.contains(&row.project_id), "{row:?}");
        }
        (ids, rows)
    }
}

fn remove(set: &mut BTreeSet<Uuid>, gone: &[&String]) {
    for id in gone {
        assert!(set.remove(&uuid(id)), "{id} was there before");
    }
}

#[tokio::test]
async fn cascade_on_delete_matches_the_seed() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let bob = app.sign_up("bob@example.io").await;
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    add_workspace_member(&app, token, &acme, &bob.email, "USER")
        .await
        .data();
    let globex = app.create_client(&ann, &acme, "Globex").await;
    let initech = app.create_client(&ann, &acme, "Initech").await;
    let p1 = app.create_project(&ann, &acme, &globex, "One").await;
    let p2 = app.create_project(&ann, &acme, &globex, "Two").await;
    let p3 = app.create_project(&ann, &acme, &initech, "Three").await;
    for project in [&p1, &p2, &p3] {
        add_project_member(&app, token, project, &bob.id, "USER")
            .await
            .data();
    }
    let t1a = app.create_task(&ann, &p1, "1a").await;
    let t1b = app.create_task(&ann, &p1, "1b").await;
    let t2 = app.create_task(&ann, &p2, "2").await;
    let t3 = app.create_task(&ann, &p3, "3").await;
    let l1a_ann = app.log_time(&ann, &t1a, 1).await;
    let l1a_bob = app.log_time(&bob, &t1a, 2).await;
    let l1b = app.log_time(&ann, &t1b, 3).await;
    let l2 = app.log_time(&bob, &t2, 4).await;
    let l3 = app.log_time(&ann, &t3, 5).await;
    // A second workspace that no delete may touch.
    let beta = app.create_workspace(&ann, "Beta").await;
    let hooli = app.create_client(&ann, &beta, "Hooli").await;
    let p_beta = app.create_project(&ann, &beta, &hooli, "Other").await;
    let t_beta = app.create_task(&ann, &p_beta, "Other").await;
    let l_beta = app.log_time(&ann, &t_beta, 6).await;

    let (mut expected, _) = Ids::read(&app.db).await;

    let deleted = app
        .graphql_as(Some(token), DELETE_TASK, json!({ "input": { "id": t1a } }))
        .await;
    assert_eq!(deleted.data()["deleteTask"]["id"], t1a.as_str());
    remove(&mut expected.tasks, &[&t1a]);
    remove(&mut expected.time_logs, &[&l1a_ann, &l1a_bob]);
    assert_eq!(Ids::read(&app.db).await.0, expected, "deleteTask");

    let deleted = app
        .graphql_as(
            Some(token),
            DELETE_PROJECT,
            json!({ "input": { "id": p2 } }),
        )
        .await;
    assert_eq!(deleted.data()["deleteProject"]["id"], p2.as_str());
    remove(&mut expected.projects, &[&p2]);
    remove(&mut expected.tasks, &[&t2]);
    remove(&mut expected.time_logs, &[&l2]);
    assert_eq!(Ids::read(&app.db).await.0, expected, "deleteProject");

    let deleted = app
        .graphql_as(
            Some(token),
            DELETE_CLIENT,
            json!({ "input": { "id": initech } }),
        )
        .await;
    assert_eq!(deleted.data()["deleteClient"]["id"], initech.as_str());
    remove(&mut expected.clients, &[&initech]);
    remove(&mut expected.projects, &[&p3]);
    remove(&mut expected.tasks, &[&t3]);
    remove(&mut expected.time_logs, &[&l3]);
    assert_eq!(Ids::read(&app.db).await.0, expected, "deleteClient");

    let deleted = app
        .graphql_as(
            Some(token),
            DELETE_WORKSPACE,
            json!({ "input": { "id": acme } }),
        )
        .await;
    assert_eq!(deleted.data()["deleteWorkspace"]["id"], acme.as_str());
    remove(&mut expected.workspaces, &[&acme]);
    remove(&mut expected.clients, &[&globex]);
    remove(&mut expected.projects, &[&p1]);
    remove(&mut expected.tasks, &[&t1b]);
    remove(&mut expected.time_logs, &[&l1b]);
    let (left, rows) = Ids::read(&app.db).await;
    assert_eq!(left, expected, "deleteWorkspace");
    assert_eq!(
        left,
        Ids {
            workspaces: set(&[&beta]),
            clients: set(&[&hooli]),
            projects: set(&[&p_beta]),
            tasks: set(&[&t_beta]),
            time_logs: set(&[&l_beta]),
        },
        "only the other workspace is left"
    );
    assert_eq!(rows.workspace_users.len(), 1, "{:?}", rows.workspace_users);
    assert_eq!(rows.project_users.len(), 1, "{:?}", rows.project_users);
    let users = User::find().count(&app.db).await.expect("count users");
    assert_eq!(users, 2, "people outlive the workspaces they worked in");
}

#[tokio::test]
async fn contact_details_are_visible_to_co_members_only() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let signed_up = app
        .graphql(
            SIGN_UP,
            json!({ "input": {
                "name": "Bob", "email": "bob@example.io", "password": PASSWORD, "phone": "+1 555 0100"
            } }),
        )
        .await;
    let bob = Account {
        id: signed_up.data()["signUp"]["user"]["id"]
            .as_str()
            .expect("bob's id")
            .to_owned(),
        email: "bob@example.io".into(),
        token: signed_up.data()["signUp"]["token"]
            .as_str()
            .expect("bob's token")
            .to_owned(),
    };
    let token = ann.token.as_str();
    let acme = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &acme, "Globex").await;
    let launch = app.create_project(&ann, &acme, &client, "Launch").await;
    let design = app.create_task(&ann, &launch, "Design").await;

    // A co-member sees Bob's contact details wherever Bob appears.
    let added = add_workspace_member(&app, token, &acme, &bob.email, "USER").await;
    let user = &added.data()["addWorkspaceMember"]["user"];
    assert_eq!(user["id"], bob.id.as_str());
    assert_eq!(user["email"], "bob@example.io");
    assert_eq!(user["phone"], "+1 555 0100");
    let joined = add_project_member(&app, token, &launch, &bob.id, "USER").await;
    assert_eq!(
        joined.data()["addProjectMember"]["user"]["email"],
        "bob@example.io"
    );
    let log = app.log_time(&bob, &design, 2).await;
    let touch = |description: &'static str| {
        let log = log.clone();
        let app = &app;
        async move {
            app.graphql_as(
                Some(token),
                UPDATE_TIME_LOG,
                json!({ "input": { "id": log, "description": description } }),
            )
            .await
        }
    };
    let seen = touch("checked").await;
    let user = &seen.data()["updateTimeLog"]["user"];
    assert_eq!(user["id"], bob.id.as_str());
    assert_eq!(user["email"], "bob@example.io");
    assert_eq!(user["phone"], "+1 555 0100");

    // Bob leaves; his time log stays, and through it Ann (who administers the project)
    // still sees a User object for Bob, but now without his contact details.
    remove_workspace_member(&app, &bob.token, &acme, &bob.id)
        .await
        .data();
    let seen = touch("re-checked").await;
    let user = &seen.data()["updateTimeLog"]["user"];
    assert_eq!(user["id"], bob.id.as_str(), "the author is still shown");
    assert_eq!(user["email"], Value::Null, "no shared workspace: no email");
    assert_eq!(user["phone"], Value::Null, "no shared workspace: no phone");

    // Sharing any workspace is enough.
    let beta = app.create_workspace(&bob, "Beta").await;
    add_workspace_member(&app, &bob.token, &beta, &ann.email, "USER")
        .await
        .data();
    let seen = touch("checked again").await;
    assert_eq!(
        seen.data()["updateTimeLog"]["user"]["email"],
        "bob@example.io"
    );
    assert_eq!(seen.data()["updateTimeLog"]["user"]["phone"], "+1 555 0100");
}

/// NUL fits SQLite's text but not PostgreSQL's: it is refused on both, as input, with the
/// field named, instead of failing in the database as an `INTERNAL` error.
#[tokio::test]
async fn a_nul_character_is_bad_input_in_every_text_field() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let token = Some(ann.token.as_str());
    let workspace = app.create_workspace(&ann, "Acme").await;
    let client = app.create_client(&ann, &workspace, "Globex").await;
    let project = app
        .create_project(&ann, &workspace, &client, "Apollo")
        .await;
    let task = app.create_task(&ann, &project, "Design").await;
    let cases = [
        (
            CREATE_WORKSPACE,
            json!({ "input": { "name": "Ac\u{0}me" } }),
            "name",
        ),
        (
            CREATE_WORKSPACE,
            json!({ "input": { "name": "Acme 2", "description": "\u{0}" } }),
            "description",
        ),
        (
            CREATE_CLIENT,
            json!({ "input": { "workspaceId": workspace, "name": "\u{0}" } }),
            "name",
        ),
        (
            CREATE_PROJECT,
            json!({ "input": { "workspaceId": workspace, "clientId": client, "name": "a\u{0}" } }),
            "name",
        ),
        (
            CREATE_TASK,
            json!({ "input": { "projectId": project, "name": "Build", "description": "x\u{0}y" } }),
            "description",
        ),
        (
            UPDATE_TASK,
            json!({ "input": { "id": task, "name": "\u{0}" } }),
            "name",
        ),
        (
            "query($id: ID!, $needle: String) {
                project(id: $id) { tasks(filter: { nameContains: $needle }) { totalCount } }
            }",
            json!({ "id": project, "needle": "De\u{0}" }),
            "filter.nameContains",
        ),
    ];
    for (query, variables, field) in cases {
        let response = app.graphql_as(token, query, variables.clone()).await;
        assert_error(
            &response,
            "BAD_USER_INPUT",
            Some(field),
            &variables.to_string(),
        );
    }
    let response = app
        .graphql(
            SIGN_UP,
            json!({ "input": { "name": "B\u{0}b", "email": "bob@example.io", "password": PASSWORD } }),
        )
        .await;
    assert_error(&response, "BAD_USER_INPUT", Some("name"), "signUp name");

    // Logging in with such an address fails as for any unknown one.
    let response = app
        .graphql(
            "mutation($input: LogInInput!) { logIn(input: $input) { token } }",
            json!({ "input": { "email": "ann@example.io\u{0}", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(
        response.error_code(),
        "UNAUTHENTICATED",
        "{}",
        response.body
    );
}
