//! The seed schema's constraints hold in the database itself, on both backends: rows that
//! break them are refused even when they bypass the API.

use chrono::{Duration, Utc};
use entity::prelude::*;
use entity::{
    chat_message, client, project, project_user, task, time_log, user, workspace, workspace_user,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, Set,
    SqlErr,
};
use tests::TestApp;
use uuid::Uuid;

mod keys;
mod values;

/// One valid row in every table, linked together.
struct Fixture {
    user: user::Model,
    workspace: workspace::Model,
    client: client::Model,
    project: project::Model,
    task: task::Model,
}

impl Fixture {
    async fn insert(db: &DatabaseConnection) -> Self {
        let user = new_user(db, "ann@example.io").await.expect("insert user");
        let workspace = new_workspace(db, "Acme").await.expect("insert workspace");
        workspace_user::ActiveModel {
            user_id: Set(user.id),
            workspace_id: Set(workspace.id),
            role: Set(Role::Owner),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert workspace_user");
        let client = new_client(db, workspace.id, "Globex")
            .await
            .expect("insert client");
        let project = new_project(db, workspace.id, client.id, "Launch")
            .await
            .expect("insert project");
        project_user::ActiveModel {
            user_id: Set(user.id),
            project_id: Set(project.id),
            role: Set(Role::Owner),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert project_user");
        let task = task::ActiveModel {
            project_id: Set(project.id),
            name: Set("Design".into()),
            status: Set(TaskStatus::Pending),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert task");
        new_time_log(db, user.id, task.id, 3)
            .await
            .expect("insert time_log");
        chat_message::ActiveModel {
            content: Set(vec![7; 21]),
            nonce: Set(vec![0; 24]),
            key_id: Set("k".into()),
            sender_id: Set(user.id),
            recipient_email: Set("bob@example.io".into()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert chat_message");
        Self {
            user,
            workspace,
            client,
            project,
            task,
        }
    }
}

async fn new_user(db: &DatabaseConnection, email: &str) -> Result<user::Model, DbErr> {
    user::ActiveModel {
        name: Set("Ann".into()),
        email: Set(email.into()),
        password: Set("$argon2id$placeholder".into()),
        ..Default::default()
    }
    .insert(db)
    .await
}

async fn new_workspace(db: &DatabaseConnection, name: &str) -> Result<workspace::Model, DbErr> {
    workspace::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
    .insert(db)
    .await
}

async fn new_client(
    db: &DatabaseConnection,
    workspace_id: Uuid,
    name: &str,
) -> Result<client::Model, DbErr> {
    client::ActiveModel {
        workspace_id: Set(workspace_id),
        name: Set(name.into()),
        ..Default::default()
    }
    .insert(db)
    .await
}

async fn new_project(
    db: &DatabaseConnection,
    workspace_id: Uuid,
    client_id: Uuid,
    name: &str,
) -> Result<project::Model, DbErr> {
    project::ActiveModel {
        workspace_id: Set(workspace_id),
        client_id: Set(client_id),
        name: Set(name.into()),
        ..Default::default()
    }
    .insert(db)
    .await
}

async fn new_time_log(
    db: &DatabaseConnection,
    user_id: Uuid,
    task_id: Uuid,
    hours: i32,
) -> Result<time_log::Model, DbErr> {
    time_log::ActiveModel {
        user_id: Set(user_id),
        task_id: Set(task_id),
        hours: Set(hours),
        logged_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Asserts `result` failed and its message names `needle` (a constraint or column name,
/// which both backends put in their wording).
fn assert_refused<T: std::fmt::Debug>(case: &str, result: Result<T, DbErr>, needle: &str) {
    match result {
        Ok(row) => panic!("{case}: accepted {row:?}"),
        Err(err) => {
            let message = err.to_string();
            assert!(
                message.to_lowercase().contains(&needle.to_lowercase()),
                "{case}: error should name {needle}: {message}"
            );
        }
    }
}

/// Asserts a too-long value was refused: PostgreSQL's VARCHAR(n) answers first, SQLite
/// (which ignores VARCHAR lengths) by the named length CHECK.
fn assert_too_long<T: std::fmt::Debug>(case: &str, result: Result<T, DbErr>, constraint: &str) {
    match result {
        Ok(row) => panic!("{case}: accepted {row:?}"),
        Err(err) => {
            let message = err.to_string();
            assert!(
                message.contains(constraint) || message.contains("value too long"),
                "{case}: expected {constraint} or a VARCHAR length error: {message}"
            );
        }
    }
}

fn assert_unique_violation<T: std::fmt::Debug>(case: &str, result: Result<T, DbErr>) {
    match result {
        Ok(row) => panic!("{case}: accepted {row:?}"),
        Err(err) => assert!(
            matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
            "{case}: expected a unique violation, got {err}"
        ),
    }
}

fn assert_foreign_key_violation<T: std::fmt::Debug>(case: &str, result: Result<T, DbErr>) {
    match result {
        Ok(row) => panic!("{case}: accepted {row:?}"),
        Err(err) => assert!(
            matches!(
                err.sql_err(),
                Some(SqlErr::ForeignKeyConstraintViolation(_))
            ),
            "{case}: expected a foreign-key violation, got {err}"
        ),
    }
}
