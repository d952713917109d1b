//! What a column may hold: checks, defaults, NOT NULL, lengths at the limit, and the
//! timestamps.

use super::*;

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
