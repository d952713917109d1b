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

#[tokio::test]
async fn check_constraints_refuse_bad_values() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    Fixture::insert(db).await;
    // Typed models can't hold a bad enum value or a zero, so these go in as plain SQL.
    let cases = [
        (
            "UPDATE workspace_users SET role = 'GUEST'",
            "ck_workspace_users_role",
        ),
        (
            "UPDATE project_users SET role = 'owner'",
            "ck_project_users_role",
        ),
        ("UPDATE tasks SET status = 'DONE'", "ck_tasks_status"),
        ("UPDATE time_logs SET hours = 0", "ck_time_logs_hours"),
        ("UPDATE time_logs SET hours = -2", "ck_time_logs_hours"),
    ];
    for (sql, constraint) in cases {
        assert_refused(sql, db.execute_unprepared(sql).await, constraint);
    }
    let status: Vec<task::Model> = Task::find().all(db).await.expect("read tasks");
    assert_eq!(status[0].status, TaskStatus::Pending, "nothing was changed");
}

#[tokio::test]
async fn task_status_defaults_to_pending() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::insert(&app.db).await;
    // `status` left out of the INSERT: the database default applies.
    let inserted = task::ActiveModel {
        project_id: Set(fixture.project.id),
        name: Set("Defaulted".into()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert without status");
    assert_eq!(inserted.status, TaskStatus::Pending);
}

#[tokio::test]
async fn not_null_columns_refuse_null() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    Fixture::insert(db).await;
    let cases = [
        ("workspaces", "name"),
        ("users", "name"),
        ("users", "email"),
        ("users", "password"),
        ("workspace_users", "role"),
        ("workspace_users", "user_id"),
        ("workspace_users", "workspace_id"),
        ("clients", "name"),
        ("clients", "workspace_id"),
        ("projects", "name"),
        ("projects", "client_id"),
        ("projects", "workspace_id"),
        ("project_users", "role"),
        ("project_users", "project_id"),
        ("tasks", "name"),
        ("tasks", "status"),
        ("tasks", "project_id"),
        ("time_logs", "hours"),
        ("time_logs", "task_id"),
        ("time_logs", "user_id"),
        ("chat_messages", "content"),
        ("chat_messages", "sender_id"),
        ("chat_messages", "recipient_email"),
        ("chat_messages", "nonce"),
        ("chat_messages", "key_id"),
    ];
    for (table, column) in cases {
        let sql = format!("UPDATE {table} SET {column} = NULL");
        assert_refused(&sql, db.execute_unprepared(&sql).await, column);
    }
}

#[tokio::test]
async fn lengths_are_enforced_at_the_limit() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let fixture = Fixture::insert(db).await;
    // Characters, not bytes: 'é' is two bytes in UTF-8.
    let text = |n: usize| "é".repeat(n);

    new_workspace(db, &text(100))
        .await
        .expect("100 characters fit");
    assert_too_long(
        "workspace name 101",
        new_workspace(db, &text(101)).await,
        "ck_workspaces_name_length",
    );
    let long_description = workspace::ActiveModel {
        name: Set("Described".into()),
        description: Set(Some(text(501))),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_too_long(
        "workspace description 501",
        long_description,
        "ck_workspaces_description_length",
    );

    let long_name = user::ActiveModel {
        name: Set(text(51)),
        email: Set("long@example.io".into()),
        password: Set("x".into()),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_too_long("user name 51", long_name, "ck_users_name_length");
    let long_email = format!("{}@example.io", "a".repeat(245));
    assert_too_long(
        "user email 256",
        new_user(db, &long_email).await,
        "ck_users_email_length",
    );
    let long_phone = user::ActiveModel {
        name: Set("Phil".into()),
        email: Set("phil@example.io".into()),
        password: Set("x".into()),
        phone: Set(Some("1".repeat(21))),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_too_long("user phone 21", long_phone, "ck_users_phone_length");

    assert_too_long(
        "client name 101",
        new_client(db, fixture.workspace.id, &text(101)).await,
        "ck_clients_name_length",
    );
    let long_contact = client::ActiveModel {
        workspace_id: Set(fixture.workspace.id),
        name: Set("Initech".into()),
        contact_email: Set(Some(format!("{}@x.io", "c".repeat(251)))),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_too_long(
        "client contact_email 256",
        long_contact,
        "ck_clients_contact_email_length",
    );
    let long_contact_phone = client::ActiveModel {
        workspace_id: Set(fixture.workspace.id),
        name: Set("Hooli".into()),
        contact_phone: Set(Some("2".repeat(21))),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_too_long(
        "client contact_phone 21",
        long_contact_phone,
        "ck_clients_contact_phone_length",
    );

    assert_too_long(
        "project name 101",
        new_project(db, fixture.workspace.id, fixture.client.id, &text(101)).await,
        "ck_projects_name_length",
    );
    let long_task = task::ActiveModel {
        project_id: Set(fixture.project.id),
        name: Set(text(151)),
        status: Set(TaskStatus::Pending),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_too_long("task name 151", long_task, "ck_tasks_name_length");
    task::ActiveModel {
        project_id: Set(fixture.project.id),
        name: Set(text(150)),
        status: Set(TaskStatus::Pending),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("150 characters fit a task name");

    let long_log = time_log::ActiveModel {
        user_id: Set(fixture.user.id),
        task_id: Set(fixture.task.id),
        hours: Set(1),
        description: Set(Some(text(501))),
        logged_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_too_long(
        "time log description 501",
        long_log,
        "ck_time_logs_description_length",
    );

    // v1.2: content is ciphertext, at most 1,000 four-byte characters plus the tag.
    let sealed = |content: Vec<u8>, nonce: Vec<u8>| chat_message::ActiveModel {
        content: Set(content),
        nonce: Set(nonce),
        key_id: Set("k".into()),
        sender_id: Set(fixture.user.id),
        recipient_email: Set("bob@example.io".into()),
        ..Default::default()
    };
    let long_message = sealed(vec![0; 4017], vec![0; 24]).insert(db).await;
    assert_too_long(
        "chat ciphertext 4017 bytes",
        long_message,
        "ck_chat_messages_content_length",
    );
    let short_nonce = sealed(vec![0; 32], vec![0; 12]).insert(db).await;
    assert_too_long(
        "chat nonce of 12 bytes",
        short_nonce,
        "ck_chat_messages_nonce_length",
    );
    sealed(vec![0; 4016], vec![0; 24])
        .insert(db)
        .await
        .expect("the longest ciphertext fits");
}

#[tokio::test]
async fn unique_constraints_refuse_duplicates() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let fixture = Fixture::insert(db).await;
    let other_workspace = new_workspace(db, "Other").await.expect("second workspace");

    assert_unique_violation("workspace name", new_workspace(db, "Acme").await);
    assert_unique_violation("user email", new_user(db, "ann@example.io").await);
    let second_membership = workspace_user::ActiveModel {
        user_id: Set(fixture.user.id),
        workspace_id: Set(fixture.workspace.id),
        role: Set(Role::User),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_unique_violation("workspace member twice", second_membership);
    assert_unique_violation(
        "client name in one workspace",
        new_client(db, fixture.workspace.id, "Globex").await,
    );
    new_client(db, other_workspace.id, "Globex")
        .await
        .expect("the same client name in another workspace");
    assert_unique_violation(
        "project name in one workspace",
        new_project(db, fixture.workspace.id, fixture.client.id, "Launch").await,
    );
    let second_project_membership = project_user::ActiveModel {
        user_id: Set(fixture.user.id),
        project_id: Set(fixture.project.id),
        role: Set(Role::Admin),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_unique_violation("project member twice", second_project_membership);
}

#[tokio::test]
async fn foreign_keys_refuse_dangling_references() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let fixture = Fixture::insert(db).await;
    let nowhere = Uuid::now_v7();

    assert_foreign_key_violation(
        "client of no workspace",
        new_client(db, nowhere, "Ghost").await,
    );
    assert_foreign_key_violation(
        "project of no client",
        new_project(db, fixture.workspace.id, nowhere, "Ghost").await,
    );
    assert_foreign_key_violation(
        "project of no workspace",
        new_project(db, nowhere, fixture.client.id, "Ghost").await,
    );
    let membership = workspace_user::ActiveModel {
        user_id: Set(nowhere),
        workspace_id: Set(fixture.workspace.id),
        role: Set(Role::User),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_foreign_key_violation("member who is no user", membership);
    let project_membership = project_user::ActiveModel {
        user_id: Set(fixture.user.id),
        project_id: Set(nowhere),
        role: Set(Role::User),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_foreign_key_violation("member of no project", project_membership);
    let orphan_task = task::ActiveModel {
        project_id: Set(nowhere),
        name: Set("Orphan".into()),
        status: Set(TaskStatus::Pending),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_foreign_key_violation("task of no project", orphan_task);
    assert_foreign_key_violation(
        "time log on no task",
        new_time_log(db, fixture.user.id, nowhere, 1).await,
    );
    assert_foreign_key_violation(
        "time log by no user",
        new_time_log(db, nowhere, fixture.task.id, 1).await,
    );
    let orphan_message = chat_message::ActiveModel {
        content: Set(vec![7; 21]),
        nonce: Set(vec![0; 24]),
        key_id: Set("k".into()),
        sender_id: Set(nowhere),
        recipient_email: Set("bob@example.io".into()),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert_foreign_key_violation("message from no user", orphan_message);
}

#[tokio::test]
async fn deleting_a_workspace_cascades_down_to_its_time_logs() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let fixture = Fixture::insert(db).await;
    // A second workspace whose rows must survive.
    let survivor = new_workspace(db, "Survivor").await.expect("workspace");
    let survivor_client = new_client(db, survivor.id, "Kept").await.expect("client");
    new_project(db, survivor.id, survivor_client.id, "Kept")
        .await
        .expect("project");

    let deleted = Workspace::delete_by_id(fixture.workspace.id)
        .exec(db)
        .await
        .expect("delete workspace");
    assert_eq!(deleted.rows_affected, 1);

    assert_eq!(WorkspaceUser::find().count(db).await.expect("count"), 0);
    assert_eq!(
        Client::find().count(db).await.expect("count"),
        1,
        "only the survivor's client"
    );
    assert_eq!(
        Project::find().count(db).await.expect("count"),
        1,
        "only the survivor's project"
    );
    assert_eq!(ProjectUser::find().count(db).await.expect("count"), 0);
    assert_eq!(Task::find().count(db).await.expect("count"), 0);
    assert_eq!(TimeLog::find().count(db).await.expect("count"), 0);
    assert_eq!(
        User::find().count(db).await.expect("count"),
        1,
        "users outlive workspaces"
    );
}

#[tokio::test]
async fn deleting_a_user_cascades_to_memberships_logs_and_messages() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let fixture = Fixture::insert(db).await;
    User::delete_by_id(fixture.user.id)
        .exec(db)
        .await
        .expect("delete user");
    assert_eq!(WorkspaceUser::find().count(db).await.expect("count"), 0);
    assert_eq!(ProjectUser::find().count(db).await.expect("count"), 0);
    assert_eq!(TimeLog::find().count(db).await.expect("count"), 0);
    assert_eq!(ChatMessage::find().count(db).await.expect("count"), 0);
    assert_eq!(
        Task::find().count(db).await.expect("count"),
        1,
        "work stays"
    );
}

#[tokio::test]
async fn updated_at_moves_on_update_and_created_at_stays() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let created = new_workspace(db, "Before").await.expect("insert");
    assert_eq!(created.created_at, created.updated_at);
    assert!(
        created.created_at > Utc::now() - Duration::minutes(1),
        "set to now on insert"
    );
    assert_eq!(created.id.get_version_num(), 7, "ids are UUID v7");

    let mut change: workspace::ActiveModel = created.clone().into();
    change.name = Set("After".into());
    let updated = change.update(db).await.expect("update");
    assert_eq!(updated.name, "After");
    assert_eq!(updated.created_at, created.created_at);
    assert!(
        updated.updated_at > created.updated_at,
        "{} should be after {}",
        updated.updated_at,
        created.updated_at
    );
    let stored = Workspace::find_by_id(created.id)
        .one(db)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        stored.updated_at, updated.updated_at,
        "the stored value moved too"
    );
}
