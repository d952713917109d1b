//! Relay connections: pages, cursors, filters, orders, counts, and the statement budget.

use chrono::Duration;
use entity::role::Role;
use entity::task::TaskStatus;
use entity::{client, project, project_user, task, workspace, workspace_user};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::{Value, json};
use tests::{Account, TestApp};
use uuid::Uuid;

use crate::seed::{Seed, user_id};

mod statements;
mod tasks;
mod time_logs;

/// A workspace owned by `owner` with `projects` projects of `tasks` tasks each, written
/// straight to the database. Returns the project ids.
async fn seed(
    db: &DatabaseConnection,
    owner: &Account,
    projects: usize,
    tasks: &[&str],
) -> Vec<Uuid> {
    let owner_id = Uuid::parse_str(&owner.id).expect("user id");
    let ws = workspace::ActiveModel {
        name: Set(format!("Acme {}", Uuid::now_v7())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("workspace");
    workspace_user::ActiveModel {
        user_id: Set(owner_id),
        workspace_id: Set(ws.id),
        role: Set(Role::Owner),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("membership");
    let client = client::ActiveModel {
        workspace_id: Set(ws.id),
        name: Set("Globex".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("client");
    let mut ids = Vec::new();
    for p in 0..projects {
        let project = project::ActiveModel {
            workspace_id: Set(ws.id),
            client_id: Set(client.id),
            name: Set(format!("Project {p}")),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("project");
        project_user::ActiveModel {
            user_id: Set(owner_id),
            project_id: Set(project.id),
            role: Set(Role::Owner),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("project membership");
        for (i, name) in tasks.iter().enumerate() {
            let status = match i % 3 {
                0 => TaskStatus::Pending,
                1 => TaskStatus::InProgress,
                _ => TaskStatus::Completed,
            };
            task::ActiveModel {
                project_id: Set(project.id),
                name: Set((*name).to_owned()),
                status: Set(status),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("task");
        }
        ids.push(project.id);
    }
    ids
}

const TASKS: &str = "query Tasks($id: ID!, $first: Int, $after: String, $filter: TaskFilterInput, $orderBy: TaskOrderInput) {
    project(id: $id) {
        tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
            totalCount
            edges { cursor node { name status } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
    }
}";

fn names(body: &Value) -> Vec<String> {
    body["data"]["project"]["tasks"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}
