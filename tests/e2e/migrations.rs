//! The migrations run up, down and up again on the backend under test.

use entity::{client, workspace};
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use tests::TestDatabase;
use uuid::Uuid;

const TABLES: [&str; 11] = [
    "workspaces",
    "users",
    "workspace_users",
    "clients",
    "projects",
    "project_users",
    "tasks",
    "time_logs",
    "chat_messages",
    "sessions",
    "object_ids",
];

async fn tables_present(manager: &SchemaManager<'_>) -> Vec<&'static str> {
    let mut present = Vec::new();
    for table in TABLES {
        if manager.has_table(table).await.expect("inspect schema") {
            present.push(table);
        }
    }
    present
}

#[tokio::test]
async fn migrations_run_up_down_up() {
    let database = TestDatabase::create().await;
    let db = server::db::connect(database.url(), 10)
        .await
        .expect("connect");
    let manager = SchemaManager::new(&db);
    assert!(
        tables_present(&manager).await.is_empty(),
        "a fresh database is empty"
    );

    Migrator::up(&db, None).await.expect("up");
    assert_eq!(tables_present(&manager).await, TABLES);
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .is_empty()
    );

    Migrator::down(&db, None).await.expect("down");
    assert!(
        tables_present(&manager).await.is_empty(),
        "down drops every table"
    );

    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(tables_present(&manager).await, TABLES);
    db.close().await.expect("close");
}

#[tokio::test]
async fn ids_shared_by_two_objects_stop_the_object_ids_migration_until_one_is_changed() {
    let database = TestDatabase::create().await;
    let db = server::db::connect(database.url(), 10)
        .await
        .expect("connect");
    // Everything before the migration that makes ids unique across tables.
    let before = u32::try_from(Migrator::migrations().len() - 1).expect("a few migrations");
    Migrator::up(&db, Some(before))
        .await
        .expect("up to v1.2 chat");

    // Before it, a client could give a client the id of its workspace.
    let shared = Uuid::now_v7();
    workspace::ActiveModel {
        id: Set(shared),
        name: Set("Acme".into()),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("a workspace");
    client::ActiveModel {
        id: Set(shared),
        workspace_id: Set(shared),
        name: Set("Globex".into()),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("a client with the workspace's id");

    let refused = Migrator::up(&db, None)
        .await
        .expect_err("the migration refuses to guess which object keeps the id");
    let message = refused.to_string();
    assert!(message.contains(&shared.to_string()), "{message}");
    assert!(message.contains("Client and Workspace"), "{message}");
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .len(),
        1,
        "nothing of it was applied"
    );

    client::Entity::delete_by_id(shared)
        .exec(&db)
        .await
        .expect("the client goes");
    Migrator::up(&db, None)
        .await
        .expect("up once the ids are apart");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .is_empty()
    );
    db.close().await.expect("close");
}
