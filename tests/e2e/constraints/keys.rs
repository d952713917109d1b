//! Keys between rows: unique constraints, foreign keys, and the cascades on delete.

use super::*;

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
