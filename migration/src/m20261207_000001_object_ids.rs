//! Schema v1.2: one id names one object. `object_ids` holds the id of every row of the nine
//! tables whose rows are GraphQL `Node`s, with the type it names; its primary key is what
//! makes an id unique across all of them.
//!
//! Triggers keep it: each insert into one of the tables inserts its id (so every path that
//! writes a row, the API, a seed, an import, claims the id in the same statement, and two
//! concurrent creates of different types with one id can't both commit: the second waits on
//! the first's key and fails on it), and each delete, cascades included, frees it again.
//! A trigger rather than a write in each create: no code path can forget it. Mind it when
//! writing to these tables: on SQLite, `INSERT OR IGNORE`/`OR REPLACE` would extend its
//! conflict rule to the trigger's insert (letting a taken id through, and `REPLACE` skips the
//! delete trigger); on PostgreSQL, `ON CONFLICT DO NOTHING` covers the row's own table, not
//! `object_ids`, so a taken id still fails. Nothing here writes either way today.
//!
//! The existing rows are registered on the way up. Ids the server made are UUIDv7 and
//! cannot collide; should client-chosen ones have (before this migration, ids were checked
//! only within their own table), the migration stops and names them rather than guess which
//! object keeps its id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::Uuid;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The tables whose rows are `Node`s, with the type name each id is registered under.
pub const NODE_TABLES: [(&str, &str); 9] = [
    ("users", "User"),
    ("workspaces", "Workspace"),
    ("workspace_users", "WorkspaceMember"),
    ("clients", "Client"),
    ("projects", "Project"),
    ("project_users", "ProjectMember"),
    ("tasks", "Task"),
    ("time_logs", "TimeLog"),
    ("chat_messages", "Message"),
];

/// The most colliding ids the refusal names.
const NAMED: usize = 10;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        refuse_collisions(db).await?;
        let id_type = match backend {
            DbBackend::Postgres => "UUID",
            // The type the other tables' ids have on SQLite: a trigger copies them as they are.
            _ => "uuid_text",
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE object_ids (id {id_type} NOT NULL PRIMARY KEY, kind VARCHAR(32) NOT NULL)"
        ))
        .await?;
        let all: Vec<String> = NODE_TABLES
            .iter()
            .map(|(table, kind)| format!("SELECT id, '{kind}' FROM {table}"))
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO object_ids (id, kind) {}",
            all.join(" UNION ALL ")
        ))
        .await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared(
                "CREATE FUNCTION claim_object_id() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN INSERT INTO object_ids (id, kind) VALUES (NEW.id, TG_ARGV[0]); \
                 RETURN NEW; END $$",
            )
            .await?;
            db.execute_unprepared(
                "CREATE FUNCTION release_object_id() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN DELETE FROM object_ids WHERE id = OLD.id; RETURN OLD; END $$",
            )
            .await?;
        }
        for (table, kind) in NODE_TABLES {
            for statement in triggers(backend, table, kind) {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        for (table, _) in NODE_TABLES {
            for trigger in [claim_trigger(table), release_trigger(table)] {
                let drop = match backend {
                    DbBackend::Postgres => format!("DROP TRIGGER IF EXISTS {trigger} ON {table}"),
                    _ => format!("DROP TRIGGER IF EXISTS {trigger}"),
                };
                db.execute_unprepared(&drop).await?;
            }
        }
        if backend == DbBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS claim_object_id()")
                .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS release_object_id()")
                .await?;
        }
        db.execute_unprepared("DROP TABLE object_ids").await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

fn claim_trigger(table: &str) -> String {
    format!("{table}_claim_id")
}

fn release_trigger(table: &str) -> String {
    format!("{table}_release_id")
}

/// The two triggers that keep `table`'s ids in `object_ids` as `kind`.
fn triggers(backend: DbBackend, table: &str, kind: &str) -> [String; 2] {
    let (claim, release) = (claim_trigger(table), release_trigger(table));
    match backend {
        DbBackend::Postgres => [
            format!(
                "CREATE TRIGGER {claim} BEFORE INSERT ON {table} FOR EACH ROW \
                 EXECUTE FUNCTION claim_object_id('{kind}')"
            ),
            format!(
                "CREATE TRIGGER {release} AFTER DELETE ON {table} FOR EACH ROW \
                 EXECUTE FUNCTION release_object_id()"
            ),
        ],
        _ => [
            format!(
                "CREATE TRIGGER {claim} AFTER INSERT ON {table} FOR EACH ROW BEGIN \
                 INSERT INTO object_ids (id, kind) VALUES (NEW.id, '{kind}'); END"
            ),
            format!(
                "CREATE TRIGGER {release} AFTER DELETE ON {table} FOR EACH ROW BEGIN \
                 DELETE FROM object_ids WHERE id = OLD.id; END"
            ),
        ],
    }
}

/// Stops the migration when one id names rows in two of the tables.
async fn refuse_collisions(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let all: Vec<String> = NODE_TABLES
        .iter()
        .map(|(table, kind)| format!("SELECT id, '{kind}' AS kind FROM {table}"))
        .collect();
    let sql = format!(
        "SELECT id, MIN(kind) AS first, MAX(kind) AS second, COUNT(*) AS n FROM ({}) AS ids \
         GROUP BY id HAVING COUNT(*) > 1 LIMIT {}",
        all.join(" UNION ALL "),
        NAMED + 1
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = rows
        .iter()
        .take(NAMED)
        .map(|row| {
            let id = row
                .try_get::<Uuid>("", "id")
                .map(|id| id.to_string())
                .or_else(|_| row.try_get::<String>("", "id"))
                .unwrap_or_else(|_| "?".into());
            let first: String = row.try_get("", "first").unwrap_or_default();
            let second: String = row.try_get("", "second").unwrap_or_default();
            format!("{id} ({first} and {second})")
        })
        .collect();
    let more = if rows.len() > NAMED { ", and more" } else { "" };
    Err(DbErr::Migration(format!(
        "ids must be unique across all types, but these name more than one object: {}{more}. \
         Give one object of each pair a new id by hand, then migrate again",
        named.join(", ")
    )))
}
