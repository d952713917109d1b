//! The domain's set-up steps as a client takes them: each runs the real mutation over HTTP
//! as an [`Account`] and panics, naming the step, when it answers an error. Tests that
//! check a mutation's answer send it themselves; these are for the rows a test stands on.

use serde_json::{Value, json};

use crate::{Account, Instance};

/// The `connection_init` payload (and `Authorization` value) that signs a socket in as the
/// holder of `token`.
pub fn bearer(token: &str) -> Value {
    json!({ "authorization": format!("Bearer {token}") })
}

impl Instance {
    /// Runs the mutation `field` (one taking `input: <Field>Input!` and answering an object
    /// with an `id`) as `who` and returns that id.
    pub async fn create(&self, who: &Account, field: &str, input: Value) -> String {
        let mut input_type = field.to_owned();
        if let Some(first) = input_type.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let mutation =
            format!("mutation($input: {input_type}Input!) {{ {field}(input: $input) {{ id }} }}");
        let response = self
            .graphql_as(Some(&who.token), &mutation, json!({ "input": input }))
            .await;
        assert!(
            response.body.get("errors").is_none(),
            "set-up step {field} {input} as {}: {}",
            who.email,
            response.body
        );
        response.body["data"][field]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("set-up step {field}: no id in {}", response.body))
            .to_owned()
    }

    /// A workspace `who` owns.
    pub async fn create_workspace(&self, who: &Account, name: &str) -> String {
        self.create(who, "createWorkspace", json!({ "name": name }))
            .await
    }

    /// A client of `workspace`.
    pub async fn create_client(&self, who: &Account, workspace: &str, name: &str) -> String {
        self.create(
            who,
            "createClient",
            json!({ "workspaceId": workspace, "name": name }),
        )
        .await
    }

    /// A project of `workspace` for `client`.
    pub async fn create_project(
        &self,
        who: &Account,
        workspace: &str,
        client: &str,
        name: &str,
    ) -> String {
        self.create(
            who,
            "createProject",
            json!({ "workspaceId": workspace, "clientId": client, "name": name }),
        )
        .await
    }

    /// A task of `project`.
    pub async fn create_task(&self, who: &Account, project: &str, name: &str) -> String {
        self.create(
            who,
            "createTask",
            json!({ "projectId": project, "name": name }),
        )
        .await
    }

    /// `hours` logged by `who` on `task`.
    pub async fn log_time(&self, who: &Account, task: &str, hours: i32) -> String {
        self.create(who, "logTime", json!({ "taskId": task, "hours": hours }))
            .await
    }

    /// `member` (by email) added to `workspace` as `role` (`OWNER`, `ADMIN`, `USER`); the
    /// membership's id.
    pub async fn add_workspace_member(
        &self,
        who: &Account,
        workspace: &str,
        member: &Account,
        role: &str,
    ) -> String {
        self.create(
            who,
            "addWorkspaceMember",
            json!({ "workspaceId": workspace, "email": member.email, "role": role }),
        )
        .await
    }

    /// `member` (by id) added to `project` as `role`; the membership's id.
    pub async fn add_project_member(
        &self,
        who: &Account,
        project: &str,
        member: &Account,
        role: &str,
    ) -> String {
        self.create(
            who,
            "addProjectMember",
            json!({ "projectId": project, "userId": member.id, "role": role }),
        )
        .await
    }
}
