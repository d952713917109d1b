//! The migrations run up, down and up again on the backend under test.

use migration::{Migrator, MigratorTrait, SchemaManager};
use tests::TestDatabase;

const TABLES: [&str; 10] = [
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
