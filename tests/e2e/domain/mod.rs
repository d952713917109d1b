//! The work domain through the API: validation against the seed limits, the membership rules, transactions.
//! This file holds the queries and helpers the topics below share.

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

mod input;
mod integrity;
mod limits;
mod members;
mod transactions;

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
