//! The planned read path against the resolvers: every planned answer the harness sees is
//! re-asked with `x-workgraph-executor: resolvers` and must match
//! ([`tests::Instance::graphql_as`]). Here: hand-written selections that use every shape
//! the plan knows, a generator of random ones over every kind of viewer, what must fall
//! back (errors keep their code and path), and the statements a planned tree takes.

use entity::role::Role;
use entity::{task, time_log};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use tests::{Account, GqlResponse, TestApp};
use uuid::Uuid;

use crate::seed::{Seed, user_id};

mod random;
mod selections;

/// A workspace of three projects (three tasks each, two logs per task) and its people:
/// an OWNER, an ADMIN, a USER who is a member of the first project only, and an outsider.
struct World {
    app: TestApp,
    owner: Account,
    admin: Account,
    user: Account,
    outsider: Account,
    workspace: Uuid,
    client: Uuid,
    projects: Vec<Uuid>,
    tasks: Vec<Uuid>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let owner = app.sign_up("ann@example.io").await;
        let admin = app.sign_up("bob@example.io").await;
        let user = app.sign_up("cy@example.io").await;
        let outsider = app.sign_up("dee@example.io").await;
        let seed = Seed::new(&app.db);
        // A second workspace and client, so lists of them have more than one item.
        seed.workspace(&[(user_id(&owner), Role::User)]).await;
        let (ws, client) = seed
            .workspace(&[
                (user_id(&owner), Role::Owner),
                (user_id(&admin), Role::Admin),
                (user_id(&user), Role::User),
            ])
            .await;
        seed.client(ws.id, "Initech").await;
        let deadline = Some(seed.now + chrono::Duration::days(3));
        let projects = seed.projects(&ws, client.id, &[deadline, None, None]).await;
        for project in &projects {
            seed.project_member(*project, user_id(&owner), Role::Owner)
                .await;
        }
        seed.project_member(projects[0], user_id(&user), Role::User)
            .await;
        let pairs = seed.tasks(&projects, 3).await;
        let tasks: Vec<Uuid> = pairs.iter().map(|(_, task)| *task).collect();
        // Some variety: a status, a description, a note on a log.
        let first = task::Entity::find_by_id(tasks[0])
            .one(&app.db)
            .await
            .expect("read a task")
            .expect("the task");
        let mut first: task::ActiveModel = first.into();
        first.status = Set(task::TaskStatus::InProgress);
        first.description = Set(Some("Ünïcode \"quoted\"\n".to_owned()));
        first.update(&app.db).await.expect("update the task");
        let rows: Vec<(Uuid, Uuid, i32, i64)> = tasks
            .iter()
            .enumerate()
            .flat_map(|(t, task)| {
                let owner = user_id(&owner);
                let t = i32::try_from(t).expect("a small index");
                (0..2).map(move |l| (*task, owner, 1 + (t + l) % 8, i64::from(t * 2 + l)))
            })
            .collect();
        let mut rows = rows;
        // One log by someone who shares no workspace with anyone: their contact is hidden.
        rows.push((tasks[0], user_id(&outsider), 1, 100));
        let logs = seed.logs(&rows).await;
        let log = time_log::Entity::find_by_id(logs[0])
            .one(&app.db)
            .await
            .expect("read a log")
            .expect("the log");
        let mut log: time_log::ActiveModel = log.into();
        log.description = Set(Some("pairing".to_owned()));
        log.update(&app.db).await.expect("update the log");
        Self {
            app,
            owner,
            admin,
            user,
            outsider,
            workspace: ws.id,
            client: client.id,
            projects,
            tasks,
        }
    }

    fn variables(&self) -> Value {
        json!({
            "status": "IN_PROGRESS",
            "order": { "field": "CREATED_AT", "direction": "DESC" },
            "c": self.client,
            "w": self.workspace,
            "p": self.projects[0],
            "hidden": self.projects[1],
            "t": self.tasks[0],
            "yes": true,
            "no": false,
        })
    }

    async fn ask(&self, viewer: &Account, query: &str, variables: Value) -> GqlResponse {
        self.app
            .graphql_as(Some(&viewer.token), query, variables)
            .await
    }
}

fn planned(response: &GqlResponse) -> bool {
    response.body["extensions"]["executor"] == "plan"
}
