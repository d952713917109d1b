//! Rows written straight to the database for the list and tree tests: ids and timestamps
//! chosen here (bulk inserts bypass the entities' hooks), so a wide tree seeds in a few
//! statements.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::role::Role;
use entity::task::TaskStatus;
use entity::{client, project, project_user, task, time_log, workspace, workspace_user};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use tests::Account;
use uuid::Uuid;

pub fn user_id(account: &Account) -> Uuid {
    Uuid::parse_str(&account.id).expect("user id")
}

/// A writer of test rows; `now` is the base of every timestamp it writes.
pub struct Seed<'a> {
    pub db: &'a DatabaseConnection,
    pub now: DateTime<Utc>,
}

impl<'a> Seed<'a> {
    pub fn new(db: &'a DatabaseConnection) -> Self {
        Self {
            db,
            now: Utc::now().trunc_subsecs(6),
        }
    }

    /// A workspace with `members` in their roles and one client.
    pub async fn workspace(&self, members: &[(Uuid, Role)]) -> (workspace::Model, client::Model) {
        let ws = workspace::ActiveModel {
            name: Set(format!("Acme {}", Uuid::now_v7())),
            ..Default::default()
        }
        .insert(self.db)
        .await
        .expect("workspace");
        for (user, role) in members {
            workspace_user::ActiveModel {
                user_id: Set(*user),
                workspace_id: Set(ws.id),
                role: Set(*role),
                ..Default::default()
            }
            .insert(self.db)
            .await
            .expect("workspace membership");
        }
        let client = self.client(ws.id, "Globex").await;
        (ws, client)
    }

    pub async fn client(&self, workspace: Uuid, name: &str) -> client::Model {
        client::ActiveModel {
            workspace_id: Set(workspace),
            name: Set(name.into()),
            ..Default::default()
        }
        .insert(self.db)
        .await
        .expect("client")
    }

    /// Projects named `P0…` for `client`, in creation order.
    pub async fn projects(
        &self,
        ws: &workspace::Model,
        client: Uuid,
        deadlines: &[Option<DateTime<Utc>>],
    ) -> Vec<Uuid> {
        let ids: Vec<Uuid> = deadlines.iter().map(|_| Uuid::now_v7()).collect();
        let rows = ids
            .iter()
            .zip(deadlines)
            .map(|(id, deadline)| project::ActiveModel {
                id: Set(*id),
                workspace_id: Set(ws.id),
                client_id: Set(client),
                name: Set(format!("P {id}")),
                deadline: Set(*deadline),
                created_at: Set(self.now),
                updated_at: Set(self.now),
                ..Default::default()
            });
        project::Entity::insert_many(rows)
            .exec(self.db)
            .await
            .expect("projects");
        ids
    }

    pub async fn project_member(&self, project: Uuid, user: Uuid, role: Role) {
        project_user::ActiveModel {
            user_id: Set(user),
            project_id: Set(project),
            role: Set(role),
            ..Default::default()
        }
        .insert(self.db)
        .await
        .expect("project membership");
    }

    /// `count` tasks in each of `projects`; returns their ids per project.
    pub async fn tasks(&self, projects: &[Uuid], count: usize) -> Vec<(Uuid, Uuid)> {
        let pairs: Vec<(Uuid, Uuid)> = projects
            .iter()
            .flat_map(|project| (0..count).map(move |_| (*project, Uuid::now_v7())))
            .collect();
        let rows = pairs.iter().map(|(project, id)| task::ActiveModel {
            id: Set(*id),
            project_id: Set(*project),
            name: Set(format!("T {id}")),
            status: Set(TaskStatus::Pending),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            ..Default::default()
        });
        if !pairs.is_empty() {
            task::Entity::insert_many(rows)
                .exec(self.db)
                .await
                .expect("tasks");
        }
        pairs
    }

    /// Time logs `(task, user, hours, minutes after self.now)`.
    pub async fn logs(&self, logs: &[(Uuid, Uuid, i32, i64)]) -> Vec<Uuid> {
        let ids: Vec<Uuid> = logs.iter().map(|_| Uuid::now_v7()).collect();
        for (chunk_ids, chunk) in ids.chunks(1000).zip(logs.chunks(1000)) {
            let rows = chunk_ids
                .iter()
                .zip(chunk)
                .map(|(id, (task, user, hours, minutes))| time_log::ActiveModel {
                    id: Set(*id),
                    user_id: Set(*user),
                    task_id: Set(*task),
                    hours: Set(*hours),
                    logged_at: Set(self.now + Duration::minutes(*minutes)),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                    ..Default::default()
                });
            time_log::Entity::insert_many(rows)
                .exec(self.db)
                .await
                .expect("time logs");
        }
        ids
    }
}
