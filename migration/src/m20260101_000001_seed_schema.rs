//! The seed schema v1.1 as the first migration: its nine tables, for SQLite and PostgreSQL
//! alike, with ids made by the application and timestamps made NOT NULL.
//!
//! Every constraint is named (`uq_`, `ck_`, `fk_`, `ix_` + table + column) so the API can map
//! a violation to the field it concerns. SQLite reports UNIQUE and CHECK names too, but not
//! foreign-key names (sea-query doesn't write them there and SQLite wouldn't report them).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in schema() {
            manager.create_table(table.create).await?;
            for index in table.indexes {
                manager.create_index(index).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in schema().into_iter().rev() {
            manager
                .drop_table(Table::drop().table(table.name).to_owned())
                .await?;
        }
        Ok(())
    }

    // SQLite would otherwise run the DDL outside a transaction, and a failure halfway would
    // leave tables behind that make every later attempt fail; both backends roll DDL back.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

const ROLES: [&str; 3] = ["OWNER", "ADMIN", "USER"];
const TASK_STATUSES: [&str; 3] = ["PENDING", "IN_PROGRESS", "COMPLETED"];

/// The tables in dependency order: each one only references tables before it.
fn schema() -> Vec<SeedTable> {
    vec![
        workspaces(),
        users(),
        workspace_users(),
        clients(),
        projects(),
        project_users(),
        tasks(),
        time_logs(),
        chat_messages(),
    ]
}

fn workspaces() -> SeedTable {
    use Workspaces as T;
    TableBuilder::new(T::Table, T::Id)
        .varchar(T::Name, 100)
        .varchar_null(T::Description, 500)
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .unique("uq_workspaces_name", [T::Name])
        .build()
}

fn users() -> SeedTable {
    use Users as T;
    TableBuilder::new(T::Table, T::Id)
        .varchar(T::Name, 50)
        .varchar(T::Email, 255)
        .col(text(T::Password))
        .varchar_null(T::Phone, 20)
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .unique("uq_users_email", [T::Email])
        .build()
}

fn workspace_users() -> SeedTable {
    use WorkspaceUsers as T;
    TableBuilder::new(T::Table, T::Id)
        .references(T::UserId, Users::Table, Users::Id)
        .references(T::WorkspaceId, Workspaces::Table, Workspaces::Id)
        .varchar(T::Role, 20)
        .check("role", Expr::col(T::Role).is_in(ROLES))
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .unique(
            "uq_workspace_users_user_workspace",
            [T::UserId, T::WorkspaceId],
        )
        .indexed(T::WorkspaceId)
        .build()
}

fn clients() -> SeedTable {
    use Clients as T;
    TableBuilder::new(T::Table, T::Id)
        .references(T::WorkspaceId, Workspaces::Table, Workspaces::Id)
        .varchar(T::Name, 100)
        .varchar_null(T::ContactEmail, 255)
        .varchar_null(T::ContactPhone, 20)
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .unique("uq_clients_workspace_name", [T::WorkspaceId, T::Name])
        .build()
}

fn projects() -> SeedTable {
    use Projects as T;
    TableBuilder::new(T::Table, T::Id)
        .references(T::WorkspaceId, Workspaces::Table, Workspaces::Id)
        .references(T::ClientId, Clients::Table, Clients::Id)
        .varchar(T::Name, 100)
        .varchar_null(T::Description, 500)
        .col(timestamp_with_time_zone_null(T::Deadline))
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .unique("uq_projects_workspace_name", [T::WorkspaceId, T::Name])
        .indexed(T::ClientId)
        .build()
}

fn project_users() -> SeedTable {
    use ProjectUsers as T;
    TableBuilder::new(T::Table, T::Id)
        .references(T::UserId, Users::Table, Users::Id)
        .references(T::ProjectId, Projects::Table, Projects::Id)
        .varchar(T::Role, 20)
        .check("role", Expr::col(T::Role).is_in(ROLES))
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .unique("uq_project_users_user_project", [T::UserId, T::ProjectId])
        .indexed(T::ProjectId)
        .build()
}

fn tasks() -> SeedTable {
    use Tasks as T;
    TableBuilder::new(T::Table, T::Id)
        .references(T::ProjectId, Projects::Table, Projects::Id)
        .varchar(T::Name, 150)
        .varchar_null(T::Description, 500)
        .varchar_default(T::Status, 20, "PENDING")
        .check("status", Expr::col(T::Status).is_in(TASK_STATUSES))
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .indexed(T::ProjectId)
        .build()
}

fn time_logs() -> SeedTable {
    use TimeLogs as T;
    TableBuilder::new(T::Table, T::Id)
        .references(T::UserId, Users::Table, Users::Id)
        .references(T::TaskId, Tasks::Table, Tasks::Id)
        .col(integer(T::Hours))
        .check("hours", Expr::col(T::Hours).gt(0))
        .varchar_null(T::Description, 500)
        .col(timestamp_with_time_zone_default_now(T::LoggedAt))
        .timestamps(T::CreatedAt, T::UpdatedAt)
        .indexed(T::UserId)
        .indexed(T::TaskId)
        .build()
}

fn chat_messages() -> SeedTable {
    use ChatMessages as T;
    TableBuilder::new(T::Table, T::Id)
        .varchar(T::Content, 1000)
        .references(T::SenderId, Users::Table, Users::Id)
        .varchar(T::RecipientEmail, 255)
        .col(timestamp_with_time_zone_default_now(T::CreatedAt))
        .indexed(T::SenderId)
        .build()
}

/// One table's CREATE statement plus the indexes created right after it.
struct SeedTable {
    name: DynIden,
    create: TableCreateStatement,
    indexes: Vec<IndexCreateStatement>,
}

/// Derives CHECK, foreign-key and index names from table and column, and keeps a VARCHAR's
/// length and its CHECK in one call so they can't drift apart. It lives inside this migration
/// so that a later migration's needs can't change what this one creates.
struct TableBuilder<T> {
    table: T,
    create: TableCreateStatement,
    indexes: Vec<IndexCreateStatement>,
}

impl<T: Iden + Copy + 'static> TableBuilder<T> {
    /// Ids come from the application (UUID v7), so the key has no database default.
    fn new(table: T, id: T) -> Self {
        let mut create = Table::create();
        create.table(table).col(pk_uuid(id));
        Self {
            table,
            create,
            indexes: Vec::new(),
        }
    }

    fn col(mut self, column: ColumnDef) -> Self {
        self.create.col(column);
        self
    }

    fn varchar(self, column: T, max: u32) -> Self {
        self.varchar_with(string_len(column, max), column, max)
    }

    fn varchar_null(self, column: T, max: u32) -> Self {
        self.varchar_with(string_len_null(column, max), column, max)
    }

    fn varchar_default(self, column: T, max: u32, default: &'static str) -> Self {
        self.varchar_with(string_len(column, max).default(default).take(), column, max)
    }

    /// SQLite ignores a VARCHAR's length, so the limit is also a CHECK (on PostgreSQL the type
    /// rejects an over-long value first). Both count characters, not bytes, so non-ASCII text
    /// gets the same limit everywhere. A NULL passes.
    fn varchar_with(self, definition: ColumnDef, column: T, max: u32) -> Self {
        let within = Func::char_length(Expr::col(column)).lte(max);
        self.col(definition)
            .check(&format!("{}_length", column.unquoted()), within)
    }

    /// Adds `ck_<table>_<suffix>`.
    fn check(mut self, suffix: &str, condition: Expr) -> Self {
        let name = format!("ck_{}_{suffix}", self.table.unquoted());
        self.create.check((name, condition));
        self
    }

    fn timestamps(self, created_at: T, updated_at: T) -> Self {
        self.col(timestamp_with_time_zone_default_now(created_at))
            .col(timestamp_with_time_zone_default_now(updated_at))
    }

    fn unique<const N: usize>(mut self, name: &str, columns: [T; N]) -> Self {
        let mut unique = Index::create();
        unique.name(name).unique();
        for column in columns {
            unique.col(column);
        }
        self.create.index(&mut unique);
        self
    }

    /// A required UUID column with `fk_<table>_<column>`; the FK lives in the CREATE TABLE
    /// because SQLite can't add one to an existing table.
    fn references<P: Iden + 'static>(mut self, column: T, parent: P, parent_id: P) -> Self {
        self.create.col(uuid(column)).foreign_key(
            ForeignKey::create()
                .name(format!(
                    "fk_{}_{}",
                    self.table.unquoted(),
                    column.unquoted()
                ))
                .from(self.table, column)
                .to(parent, parent_id)
                .on_delete(ForeignKeyAction::Cascade),
        );
        self
    }

    /// `ix_<table>_<column>`, for a foreign key that doesn't lead a unique constraint (whose
    /// index already serves lookups and cascades by that column).
    fn indexed(mut self, column: T) -> Self {
        self.indexes.push(
            Index::create()
                .name(format!(
                    "ix_{}_{}",
                    self.table.unquoted(),
                    column.unquoted()
                ))
                .table(self.table)
                .col(column)
                .take(),
        );
        self
    }

    fn build(self) -> SeedTable {
        SeedTable {
            name: self.table.into_iden(),
            create: self.create,
            indexes: self.indexes,
        }
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Workspaces {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Name,
    Email,
    Password,
    Phone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspaceUsers {
    Table,
    Id,
    UserId,
    WorkspaceId,
    Role,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Clients {
    Table,
    Id,
    WorkspaceId,
    Name,
    ContactEmail,
    ContactPhone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Projects {
    Table,
    Id,
    WorkspaceId,
    ClientId,
    Name,
    Description,
    Deadline,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectUsers {
    Table,
    Id,
    UserId,
    ProjectId,
    Role,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    ProjectId,
    Name,
    Description,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TimeLogs {
    Table,
    Id,
    UserId,
    TaskId,
    Hours,
    Description,
    LoggedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatMessages {
    Table,
    Id,
    Content,
    SenderId,
    RecipientEmail,
    CreatedAt,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_sql(table: SeedTable, backend: impl SchemaBuilder) -> String {
        table.create.to_string(backend)
    }

    #[test]
    fn workspaces_name_is_unique_and_length_checked_on_both_backends() {
        let pg = create_sql(workspaces(), PostgresQueryBuilder);
        let lite = create_sql(workspaces(), SqliteQueryBuilder);
        for sql in [&pg, &lite] {
            assert!(
                sql.contains(r#"CONSTRAINT "uq_workspaces_name" UNIQUE ("name")"#),
                "{sql}"
            );
            assert!(sql.contains(r#""id" uuid"#), "{sql}");
            assert!(!sql.contains("gen_random_uuid"), "{sql}");
        }
        assert!(
            pg.contains(
                r#"CONSTRAINT "ck_workspaces_name_length" CHECK (CHAR_LENGTH("name") <= 100)"#
            ),
            "{pg}"
        );
        assert!(
            lite.contains(
                r#"CONSTRAINT "ck_workspaces_name_length" CHECK (LENGTH("name") <= 100)"#
            ),
            "{lite}"
        );
        assert!(
            pg.contains(
                r#""created_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP"#
            ),
            "{pg}"
        );
    }

    #[test]
    fn tasks_check_status_and_cascade_from_projects_on_both_backends() {
        let pg = create_sql(tasks(), PostgresQueryBuilder);
        let lite = create_sql(tasks(), SqliteQueryBuilder);
        let fk = r#"FOREIGN KEY ("project_id") REFERENCES "projects" ("id") ON DELETE CASCADE"#;
        for sql in [&pg, &lite] {
            assert!(
                sql.contains(r#"CONSTRAINT "ck_tasks_status" CHECK ("status" IN ('PENDING', 'IN_PROGRESS', 'COMPLETED'))"#),
                "{sql}"
            );
            assert!(sql.contains("DEFAULT 'PENDING'"), "{sql}");
            assert!(sql.contains(fk), "{sql}");
        }
        assert!(
            pg.contains(&format!(r#"CONSTRAINT "fk_tasks_project_id" {fk}"#)),
            "{pg}"
        );
    }

    /// PostgreSQL silently truncates names past 63 bytes, and unique constraints share one
    /// namespace with indexes, so a clash or a cut would only show up at run time.
    #[test]
    fn constraint_names_are_distinct_and_fit_postgres() {
        let mut names = Vec::new();
        for table in schema() {
            let mut sql = table.create.to_string(PostgresQueryBuilder);
            for index in &table.indexes {
                sql.push_str(&index.to_string(PostgresQueryBuilder));
            }
            for marker in [r#"CONSTRAINT ""#, r#"INDEX ""#] {
                for rest in sql.split(marker).skip(1) {
                    let name = rest.split('"').next().unwrap_or_default().to_owned();
                    assert!(name.len() <= 63, "{name} is too long");
                    names.push(name);
                }
            }
        }
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate constraint name in {names:?}");
        assert!(
            names.contains(&"ix_time_logs_task_id".to_owned()),
            "{names:?}"
        );
    }
}
