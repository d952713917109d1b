//! The soak's own accounts, added to the nested-reads dataset: one user per client, each a
//! USER of one workspace and a member of two of its projects (so it may log time on their 50
//! tasks), each with a session whose token only this run knows.
//!
//! The users are new, so every time log they author is one the run wrote: the checks find
//! the run's rows by author, not through anything the API returns.

use anyhow::Result;
use chrono::{SubsecRound as _, Utc};
use entity::role::Role;
use entity::{project_user, user, workspace_user};
use sea_orm::{DatabaseConnection, Set};
use uuid::Uuid;

use crate::chat::seed::session;
use crate::seed::{self as dataset, insert_chunks};

/// Projects each client is a member of.
pub const PROJECTS_EACH: usize = 2;

/// What one client acts as and on.
pub struct Account {
    pub user_id: Uuid,
    /// The bearer token of its session.
    pub token: String,
    pub workspace: Uuid,
    pub projects: [Uuid; PROJECTS_EACH],
    /// Every task of its projects: where it logs time.
    pub tasks: Vec<Uuid>,
}

/// Writes `clients` users with their memberships and sessions into the seeded database.
/// Client `c` is in workspace `c mod 10`, member of projects `k` and `k + 10` there
/// (`k = (c / 10) mod 10`), so clients share workspaces but each pair of projects has few
/// writers.
pub async fn seed(db: &DatabaseConnection, clients: usize) -> Result<Vec<Account>> {
    let now = Utc::now().trunc_subsecs(6);
    let (mut users, mut members, mut project_members, mut sessions, mut accounts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in 0..clients {
        let user_id = Uuid::now_v7();
        let w = c % dataset::WORKSPACES;
        let k = (c / dataset::WORKSPACES) % (dataset::PROJECTS / PROJECTS_EACH);
        let project_numbers = [k, k + dataset::PROJECTS / PROJECTS_EACH];
        users.push(user::ActiveModel {
            id: Set(user_id),
            name: Set(format!("Soak client {c}")),
            email: Set(format!("soak{c}@bench.test")),
            // No PHC string: these accounts never log in.
            password: Set("!".into()),
            phone: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        members.push(workspace_user::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            workspace_id: Set(dataset::workspace_id(w)),
            role: Set(Role::User),
            created_at: Set(now),
            updated_at: Set(now),
        });
        for &p in &project_numbers {
            project_members.push(project_user::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_id),
                project_id: Set(dataset::project_id(w, p)),
                role: Set(Role::User),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
        let (row, token) = session(user_id, now);
        sessions.push(row);
        accounts.push(Account {
            user_id,
            token,
            workspace: dataset::workspace_id(w),
            projects: project_numbers.map(|p| dataset::project_id(w, p)),
            tasks: project_numbers
                .iter()
                .flat_map(|&p| (0..dataset::TASKS).map(move |t| dataset::task_id(w, p, t)))
                .collect(),
        });
    }
    insert_chunks(db, users).await?;
    insert_chunks(db, members).await?;
    insert_chunks(db, project_members).await?;
    insert_chunks(db, sessions).await?;
    Ok(accounts)
}
