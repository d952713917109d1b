//! The dataset: 10 workspaces × 20 projects × 25 tasks × 8 time logs (40,000 logs) and 200
//! users with workspace and project memberships, the same rows on every run.
//!
//! Every id and timestamp is a function of the row's position, so two runs (and the two
//! backends) hold identical data and the pgbench floors can name rows by id. Rows go in
//! with `insert_many` in chunks, which bypasses the entities' id and timestamp hooks: the
//! values are set here instead.

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use entity::role::Role;
use entity::task::TaskStatus;
use entity::{client, project, project_user, task, time_log, user, workspace, workspace_user};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

pub const WORKSPACES: usize = 10;
pub const PROJECTS: usize = 20;
pub const TASKS: usize = 25;
pub const LOGS: usize = 8;
/// Including the viewer, who signs up through the API.
pub const USERS: usize = 200;
const CLIENTS: usize = 4;
/// Each workspace's own block of users (20 × 10 = 200); it also takes half of the next
/// block as USER members, so half the users are in two workspaces.
const BLOCK: usize = USERS / WORKSPACES;
/// Project members per project, taken from the workspace's USER members.
const PROJECT_MEMBERS: usize = 4;
/// Rows per INSERT: 1,000 time logs are 8,000 parameters, under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const CHUNK: usize = 1000;

/// Which table an id belongs to: part of the id, so ids of different tables never meet.
#[derive(Clone, Copy)]
enum Kind {
    Workspace = 1,
    User,
    WorkspaceUser,
    Client,
    Project,
    ProjectUser,
    Task,
    TimeLog,
}

/// A UUID v7 for row `n` of `kind`: its millisecond field grows with `n`, so ids sort in
/// creation order as the server's own v7 ids do (projects are listed by id).
fn id(kind: Kind, n: usize) -> Uuid {
    let mut tail = [0u8; 10];
    tail[0] = kind as u8;
    tail[2..].copy_from_slice(&(n as u64).to_be_bytes());
    let millis = BASE_MILLIS + n as u64;
    uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid()
}

/// 2026-01-05T09:00:00Z, the instant every timestamp is counted from.
const BASE_MILLIS: u64 = 1_767_603_600_000;

fn base() -> Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(BASE_MILLIS as i64)
        .single()
        .context("the base instant is representable")
}

pub fn workspace_id(w: usize) -> Uuid {
    id(Kind::Workspace, w)
}

pub fn project_id(w: usize, p: usize) -> Uuid {
    id(Kind::Project, w * PROJECTS + p)
}

/// Task `t` of project `p` of workspace `w`.
pub fn task_id(w: usize, p: usize, t: usize) -> Uuid {
    id(Kind::Task, (w * PROJECTS + p) * TASKS + t)
}

/// User `u` (1..200; 0 is the viewer, who signs up through the API).
fn user_id(u: usize) -> Uuid {
    id(Kind::User, u)
}

/// The members of workspace `w`: `(user index, role)`. Its own block (first OWNER, next two
/// ADMIN, the rest USER) and the second half of the next block as USERs.
fn workspace_members(w: usize) -> Vec<(usize, Role)> {
    let own = (0..BLOCK).map(|k| {
        let role = match k {
            0 => Role::Owner,
            1 | 2 => Role::Admin,
            _ => Role::User,
        };
        (w * BLOCK + k, role)
    });
    let next = ((w + 1) % WORKSPACES) * BLOCK;
    let guests = (BLOCK / 2..BLOCK).map(move |k| (next + k, Role::User));
    own.chain(guests).collect()
}

/// The members of project `p` of workspace `w`: USERs of the workspace's own block, the
/// first as project OWNER. `(p + 5j) mod 17` is distinct for j < 4.
fn project_members(w: usize, p: usize) -> Vec<(usize, Role)> {
    (0..PROJECT_MEMBERS)
        .map(|j| {
            let k = 3 + (p + 5 * j) % (BLOCK - 3);
            let role = if j == 0 { Role::Owner } else { Role::User };
            (w * BLOCK + k, role)
        })
        .collect()
}

/// How many rows of each table went in.
#[derive(Debug, Default)]
pub struct Counts {
    pub users: usize,
    pub workspace_members: usize,
    pub project_members: usize,
    pub projects: usize,
    pub tasks: usize,
    pub logs: usize,
}

/// Writes the dataset into a migrated, empty database; the viewer (user 0) is left out.
pub async fn seed(db: &DatabaseConnection) -> Result<Counts> {
    let base = base()?;
    let mut counts = Counts::default();
    let at = |n: usize| base + Duration::seconds(n as i64);

    // "!" is no PHC string: these accounts exist to be members and authors, never log in.
    let users: Vec<_> = (1..USERS)
        .map(|u| user::ActiveModel {
            id: Set(user_id(u)),
            name: Set(format!("User {u}")),
            email: Set(format!("user{u}@bench.test")),
            password: Set("!".into()),
            phone: Set(None),
            created_at: Set(at(u)),
            updated_at: Set(at(u)),
        })
        .collect();
    counts.users = insert_chunks(db, users).await?;

    let workspaces = (0..WORKSPACES).map(|w| workspace::ActiveModel {
        id: Set(workspace_id(w)),
        name: Set(format!("Bench workspace {w}")),
        description: Set(Some(format!("Workspace {w} of the nested-reads benchmark"))),
        created_at: Set(at(w)),
        updated_at: Set(at(w)),
    });
    insert_chunks(db, workspaces.collect()).await?;

    let mut members = Vec::new();
    for w in 0..WORKSPACES {
        for (u, role) in workspace_members(w) {
            // User 0 is the viewer: their membership is added once they have signed up.
            if u == 0 {
                continue;
            }
            let n = members.len();
            members.push(workspace_user::ActiveModel {
                id: Set(id(Kind::WorkspaceUser, n)),
                user_id: Set(user_id(u)),
                workspace_id: Set(workspace_id(w)),
                role: Set(role),
                created_at: Set(at(n)),
                updated_at: Set(at(n)),
            });
        }
    }
    counts.workspace_members = insert_chunks(db, members).await?;

    let clients = (0..WORKSPACES * CLIENTS).map(|n| client::ActiveModel {
        id: Set(id(Kind::Client, n)),
        workspace_id: Set(workspace_id(n / CLIENTS)),
        name: Set(format!("Client {}", n % CLIENTS)),
        contact_email: Set(Some(format!("client{n}@bench.test"))),
        contact_phone: Set(None),
        created_at: Set(at(n)),
        updated_at: Set(at(n)),
    });
    insert_chunks(db, clients.collect()).await?;

    let (mut projects, mut project_users, mut tasks, mut logs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for w in 0..WORKSPACES {
        for p in 0..PROJECTS {
            let n = w * PROJECTS + p;
            projects.push(project::ActiveModel {
                id: Set(project_id(w, p)),
                workspace_id: Set(workspace_id(w)),
                client_id: Set(id(Kind::Client, w * CLIENTS + p % CLIENTS)),
                name: Set(format!("Project {p}")),
                description: Set(Some(format!("Project {p} of workspace {w}"))),
                // Half the projects have a deadline, a day apart.
                deadline: Set((p % 2 == 0).then(|| base + Duration::days(30 + p as i64))),
                created_at: Set(at(n)),
                updated_at: Set(at(n)),
            });
            let authors = project_members(w, p);
            for (u, role) in &authors {
                let m = project_users.len();
                project_users.push(project_user::ActiveModel {
                    id: Set(id(Kind::ProjectUser, m)),
                    user_id: Set(user_id(*u)),
                    project_id: Set(project_id(w, p)),
                    role: Set(*role),
                    created_at: Set(at(m)),
                    updated_at: Set(at(m)),
                });
            }
            for t in 0..TASKS {
                let tn = n * TASKS + t;
                let status = [
                    TaskStatus::Pending,
                    TaskStatus::InProgress,
                    TaskStatus::Completed,
                ][tn % 3];
                tasks.push(task::ActiveModel {
                    id: Set(id(Kind::Task, tn)),
                    project_id: Set(project_id(w, p)),
                    name: Set(format!("Task {t} of project {p}")),
                    description: Set(Some(format!("What task {t} is about, in a sentence."))),
                    status: Set(status),
                    created_at: Set(at(tn)),
                    updated_at: Set(at(tn)),
                });
                for l in 0..LOGS {
                    let ln = tn * LOGS + l;
                    // Half-hour steps: every log of a task has its own `logged_at`.
                    let logged_at = base + Duration::minutes(30 * ln as i64);
                    logs.push(time_log::ActiveModel {
                        id: Set(id(Kind::TimeLog, ln)),
                        user_id: Set(user_id(authors[l % authors.len()].0)),
                        task_id: Set(id(Kind::Task, tn)),
                        hours: Set(1 + ((tn * 7 + l * 3) % 8) as i32),
                        description: Set(Some(format!("Log {l} of task {t}"))),
                        logged_at: Set(logged_at),
                        created_at: Set(logged_at),
                        updated_at: Set(logged_at),
                    });
                }
            }
        }
    }
    counts.projects = insert_chunks(db, projects).await?;
    counts.project_members = insert_chunks(db, project_users).await?;
    counts.tasks = insert_chunks(db, tasks).await?;
    counts.logs = insert_chunks(db, logs).await?;
    Ok(counts)
}

/// Makes the signed-up viewer (user 0) an OWNER of every workspace: OWNER of workspace 0
/// as the seed has it, and of the others so the load can spread over all ten trees (see
/// the README on why concurrent requests should not all ask for the same one).
pub async fn add_viewer(db: &DatabaseConnection, viewer: Uuid) -> Result<()> {
    let base = base()?;
    let rows = (0..WORKSPACES).map(|w| workspace_user::ActiveModel {
        // Past every seeded membership's number, so the ids are new.
        id: Set(id(Kind::WorkspaceUser, 1_000_000 + w)),
        user_id: Set(viewer),
        workspace_id: Set(workspace_id(w)),
        role: Set(Role::Owner),
        created_at: Set(base),
        updated_at: Set(base),
    });
    insert_chunks(db, rows.collect())
        .await
        .context("the viewer's workspace memberships")?;
    Ok(())
}

/// Inserts `rows` `CHUNK` at a time; returns how many.
pub async fn insert_chunks<A>(db: &DatabaseConnection, rows: Vec<A>) -> Result<usize>
where
    A: ActiveModelTrait,
{
    let total = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .with_context(|| format!("inserting into {}", table_name::<A>()))?;
    }
    Ok(total)
}

fn table_name<A: ActiveModelTrait>() -> String {
    use sea_orm::EntityName as _;
    A::Entity::default().table_name().to_owned()
}
