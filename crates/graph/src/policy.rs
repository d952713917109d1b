//! The permission policy: who may do what, answered from the two role tables.
//!
//! Every resolver asks here, and nowhere else decides. The rules (DESIGN.md, "Who may do
//! what") are pure functions of the viewer's roles, unit-tested as a table below; the async
//! helpers load those roles through the DataLoader and turn a refusal into an error:
//! `NOT_FOUND` when the viewer may not even read the object (its existence stays hidden),
//! `FORBIDDEN` when they may read it but not do this.
//!
//! Role hierarchy on both levels: OWNER > ADMIN > USER. Membership changes follow one rule
//! everywhere: an ADMIN manages USERs; only an OWNER grants, changes or takes away OWNER or
//! ADMIN. Anyone may remove themself.

// Over ~450 lines with its unit tests (the rules' tables of cases), which stay beside the code
// they pin.

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use entity::role::Role;
use entity::{project, workspace};
use uuid::Uuid;

use crate::context::{ContextExt, Viewer};
use crate::error::{Error, Result};
use crate::loaders::access::MANAGERS;
pub(crate) use crate::loaders::access::raw_rows_with_access;
pub use crate::loaders::access::{
    ProjectAccess, project_role_column, readable_projects, workspace_role_column,
};
use crate::loaders::{self, Loaders, ProjectRoleOf, WorkspaceRoleOf};

/// The outcome of a policy question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// The viewer may read the object but not do this.
    Forbidden,
    /// The viewer may not read the object at all.
    NotFound,
}

impl Decision {
    /// Whether the action is allowed.
    pub fn is_allowed(self) -> bool {
        self == Self::Allow
    }

    /// `Ok` when allowed, else the matching error.
    pub fn check(self) -> Result<()> {
        match self {
            Self::Allow => Ok(()),
            Self::Forbidden => Err(Error::Forbidden),
            Self::NotFound => Err(Error::NotFound),
        }
    }
}

/// Whether `role` manages a workspace or project and everything in it ([`MANAGERS`]).
fn is_manager(role: Option<Role>) -> bool {
    role.is_some_and(|role| MANAGERS.contains(&role))
}

/// What a viewer may be asked to do to a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceAction {
    /// The workspace, its members and clients.
    Read,
    Update,
    Delete,
    /// Create, update and delete clients.
    ManageClients,
    CreateProject,
}

/// The rule for `action` on a workspace where the viewer holds `role`.
pub fn workspace(role: Option<Role>, action: WorkspaceAction) -> Decision {
    let allowed = match (role, action) {
        (None, _) => return Decision::NotFound,
        (Some(_), WorkspaceAction::Read) => true,
        (Some(role), WorkspaceAction::Delete) => role == Role::Owner,
        (
            role,
            WorkspaceAction::Update
            | WorkspaceAction::ManageClients
            | WorkspaceAction::CreateProject,
        ) => is_manager(role),
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

impl ProjectAccess {
    /// Workspace OWNERs and ADMINs see every project of the workspace; others see the
    /// projects they are members of.
    pub fn can_read(self) -> bool {
        is_manager(self.workspace_role) || self.project_role.is_some()
    }

    /// Whether the viewer administers the project, by either level.
    fn administers(self) -> bool {
        is_manager(self.workspace_role) || is_manager(self.project_role)
    }
}

/// What a viewer may be asked to do to a project and what is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    /// The project, its tasks and its time logs.
    Read,
    /// Update the project and manage its members.
    Update,
    Delete,
    /// Create and update tasks, change their status.
    WriteTasks,
    DeleteTasks,
    /// Log time for oneself on one of its tasks.
    LogTime,
}

/// The rule for `action` on a project where the viewer has `access`.
pub fn project(access: ProjectAccess, action: ProjectAction) -> Decision {
    if !access.can_read() {
        return Decision::NotFound;
    }
    let workspace_manager = is_manager(access.workspace_role);
    let allowed = match action {
        ProjectAction::Read => true,
        ProjectAction::Update | ProjectAction::DeleteTasks => access.administers(),
        ProjectAction::Delete => workspace_manager || access.project_role == Some(Role::Owner),
        ProjectAction::WriteTasks | ProjectAction::LogTime => {
            workspace_manager || access.project_role.is_some()
        }
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

/// Reading a user by id (as a `Node`), their email and phone: the user themself and
/// people who share a workspace with them. Anyone else learns nothing, not even that the
/// account exists.
pub fn user(is_self: bool, shares_workspace: bool) -> Decision {
    if is_self || shares_workspace {
        Decision::Allow
    } else {
        Decision::NotFound
    }
}

/// Sending a chat message: to someone else who shares a workspace with the sender, or to
/// a client contact of one of the sender's workspaces (`reachable`). Messaging yourself
/// is a mistake of input rather than of permission, and is refused before this.
pub fn send_message(reachable: bool) -> Decision {
    if reachable {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

/// Reading a chat message: its sender, and the user whose address it was sent to.
pub fn read_message(is_sender: bool, is_recipient: bool) -> Decision {
    if is_sender || is_recipient {
        Decision::Allow
    } else {
        Decision::NotFound
    }
}

/// Whether `sender` may reach `recipient_email` (lower-case) by chat, answered by the
/// database in one statement: a member of one of the sender's workspaces has that
/// address, or a client of one of them has it as contact.
pub async fn reachable_by_chat(
    db: &impl sea_orm::ConnectionTrait,
    sender: Uuid,
    recipient_email: &str,
) -> Result<bool> {
    let backend = db.get_database_backend();
    let sql = "SELECT CASE WHEN EXISTS (
            SELECT 1 FROM workspace_users mine
            JOIN workspace_users theirs ON theirs.workspace_id = mine.workspace_id
            JOIN users u ON u.id = theirs.user_id
            WHERE mine.user_id = $1 AND u.email = $2)
        OR EXISTS (
            SELECT 1 FROM workspace_users mine
            JOIN clients c ON c.workspace_id = mine.workspace_id
            WHERE mine.user_id = $1 AND LOWER(c.contact_email) = $2)
        THEN 1 ELSE 0 END AS reachable";
    let row = db
        .query_one_raw(loaders::raw_statement(
            backend,
            sql,
            vec![sender.into(), recipient_email.into()],
        ))
        .await?;
    let reachable: i32 = row
        .map(|row| row.try_get("", "reachable"))
        .transpose()?
        .unwrap_or(0);
    Ok(reachable == 1)
}

/// Whose logs a workspace's time report sums for a member holding `role`: OWNERs and
/// ADMINs see everyone's, other members only their own.
pub fn reports_everyone(role: Option<Role>) -> bool {
    is_manager(role)
}

/// Updating or deleting a time log: its author, or whoever administers the project.
pub fn edit_time_log(access: ProjectAccess, is_author: bool) -> Decision {
    if !access.can_read() {
        Decision::NotFound
    } else if is_author || access.administers() {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

/// A change to someone's membership: adding (`from` is `None`), changing a role, or
/// removing (`to` is `None`). `actor` is the acting viewer's effective role at the level
/// concerned (for a project, a workspace OWNER or ADMIN acts as its OWNER).
pub fn change_membership(
    actor: Option<Role>,
    target_is_self: bool,
    from: Option<Role>,
    to: Option<Role>,
) -> Decision {
    if target_is_self && to.is_none() {
        // Leaving is always allowed; the last-owner rule is checked against the data.
        return Decision::Allow;
    }
    let touches_privileged = [from, to]
        .into_iter()
        .any(|role| matches!(role, Some(Role::Owner | Role::Admin)));
    match actor {
        Some(Role::Owner) => Decision::Allow,
        Some(Role::Admin) if !touches_privileged => Decision::Allow,
        _ => Decision::Forbidden,
    }
}

/// The viewer's role in `workspace_id`, or `None`.
pub async fn workspace_role(
    ctx: &Context<'_>,
    viewer: &Viewer,
    workspace_id: Uuid,
) -> Result<Option<Role>> {
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    Ok(loader
        .load_one(WorkspaceRoleOf {
            user: viewer.user_id,
            workspace: workspace_id,
        })
        .await?)
}

/// The viewer's standing in `project`.
pub async fn project_access(
    ctx: &Context<'_>,
    viewer: &Viewer,
    project: &project::Model,
) -> Result<ProjectAccess> {
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let (workspace_role, project_role) = tokio::join!(
        loader.load_one(WorkspaceRoleOf {
            user: viewer.user_id,
            workspace: project.workspace_id,
        }),
        loader.load_one(ProjectRoleOf {
            user: viewer.user_id,
            project: project.id,
        }),
    );
    Ok(ProjectAccess {
        workspace_role: workspace_role?,
        project_role: project_role?,
    })
}

/// Loads workspace `id` and checks `action` on it for the signed-in viewer.
pub async fn authorize_workspace(
    ctx: &Context<'_>,
    id: Uuid,
    action: WorkspaceAction,
) -> Result<(workspace::Model, Option<Role>)> {
    let viewer = ctx.require_viewer()?;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let role = workspace_role(ctx, viewer, id).await?;
    // The role is checked before the row is fetched so that an outsider learns nothing,
    // not even by timing, about whether the id exists.
    workspace(role, action).check()?;
    let found = loaders::by_id(loader, loaders::WorkspaceById(id))
        .await?
        .ok_or(Error::NotFound)?;
    Ok((found, role))
}

/// Loads project `id` with the viewer's roles in it and in its workspace, in one
/// statement (batched with the request's other by-id reads), and checks `action` on it
/// for the signed-in viewer.
pub async fn authorize_project(
    ctx: &Context<'_>,
    id: Uuid,
    action: ProjectAction,
) -> Result<(project::Model, ProjectAccess)> {
    let viewer = ctx.require_viewer()?;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let (found, access) = loaders::by_id(
        loader,
        loaders::ProjectWithAccess {
            viewer: viewer.user_id,
            id,
        },
    )
    .await?
    .ok_or(Error::NotFound)?;
    project(access, action).check()?;
    Ok((found, access))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::{Allow, Forbidden, NotFound};
    use Role::{Admin, Owner, User};

    #[test]
    fn workspace_rules() {
        use WorkspaceAction::*;
        let roles = [Some(Owner), Some(Admin), Some(User), None];
        let table = [
            (Read, [Allow, Allow, Allow, NotFound]),
            (Update, [Allow, Allow, Forbidden, NotFound]),
            (Delete, [Allow, Forbidden, Forbidden, NotFound]),
            (ManageClients, [Allow, Allow, Forbidden, NotFound]),
            (CreateProject, [Allow, Allow, Forbidden, NotFound]),
        ];
        for (action, expected) in table {
            for (role, want) in roles.iter().zip(expected) {
                assert_eq!(workspace(*role, action), want, "{action:?} as {role:?}");
            }
        }
    }

    #[test]
    fn project_rules() {
        use ProjectAction::*;
        // (workspace role, project role)
        let actors = [
            (Some(Owner), None),
            (Some(Admin), None),
            (Some(User), None),
            (Some(User), Some(Owner)),
            (Some(User), Some(Admin)),
            (Some(User), Some(User)),
            (None, None),
        ];
        let table = [
            (
                Read,
                [Allow, Allow, NotFound, Allow, Allow, Allow, NotFound],
            ),
            (
                Update,
                [Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound],
            ),
            (
                Delete,
                [
                    Allow, Allow, NotFound, Allow, Forbidden, Forbidden, NotFound,
                ],
            ),
            (
                WriteTasks,
                [Allow, Allow, NotFound, Allow, Allow, Allow, NotFound],
            ),
            (
                DeleteTasks,
                [Allow, Allow, NotFound, Allow, Allow, Forbidden, NotFound],
            ),
            (
                LogTime,
                [Allow, Allow, NotFound, Allow, Allow, Allow, NotFound],
            ),
        ];
        for (action, expected) in table {
            for ((workspace_role, project_role), want) in actors.iter().zip(expected) {
                let access = ProjectAccess {
                    workspace_role: *workspace_role,
                    project_role: *project_role,
                };
                assert_eq!(project(access, action), want, "{action:?} as {access:?}");
            }
        }
    }

    #[test]
    fn readable_projects_in_sql_follow_can_read() {
        use sea_orm::sea_query::{PostgresQueryBuilder, Query};
        let viewer = Uuid::nil();
        let sql = Query::select()
            .column((project::Entity, project::Column::Id))
            .from(project::Entity)
            .cond_where(readable_projects(viewer))
            .to_string(PostgresQueryBuilder);
        assert_eq!(
            sql,
            r#"SELECT "projects"."id" FROM "projects" WHERE EXISTS(SELECT 1 FROM "project_users" WHERE "project_users"."project_id" = "projects"."id" AND "project_users"."user_id" = '00000000-0000-0000-0000-000000000000') OR EXISTS(SELECT 1 FROM "workspace_users" WHERE "workspace_users"."workspace_id" = "projects"."workspace_id" AND "workspace_users"."user_id" = '00000000-0000-0000-0000-000000000000' AND "workspace_users"."role" IN ('OWNER', 'ADMIN'))"#
        );
    }

    #[test]
    fn role_columns_select_the_viewers_role_beside_the_object() {
        use sea_orm::sea_query::{Alias, PostgresQueryBuilder, Query};
        let viewer = Uuid::nil();
        let sql = Query::select()
            .column((project::Entity, project::Column::Id))
            .expr_as(
                workspace_role_column(viewer, (project::Entity, project::Column::WorkspaceId)),
                Alias::new("workspace_role"),
            )
            .expr_as(
                project_role_column(viewer, (project::Entity, project::Column::Id)),
                Alias::new("project_role"),
            )
            .from(project::Entity)
            .to_string(PostgresQueryBuilder);
        assert_eq!(
            sql,
            r#"SELECT "projects"."id", (SELECT "workspace_users"."role" FROM "workspace_users" WHERE "workspace_users"."workspace_id" = "projects"."workspace_id" AND "workspace_users"."user_id" = '00000000-0000-0000-0000-000000000000') AS "workspace_role", (SELECT "project_users"."role" FROM "project_users" WHERE "project_users"."project_id" = "projects"."id" AND "project_users"."user_id" = '00000000-0000-0000-0000-000000000000') AS "project_role" FROM "projects""#
        );
    }

    #[test]
    fn users_are_read_by_themselves_and_workspace_mates_and_reports_cover_all_for_managers() {
        assert_eq!(user(true, false), Allow);
        assert_eq!(user(false, true), Allow);
        assert_eq!(user(false, false), NotFound);
        let everyone = [Some(Owner), Some(Admin), Some(User), None].map(reports_everyone);
        assert_eq!(everyone, [true, true, false, false]);
    }

    #[test]
    fn time_logs_are_edited_by_their_author_or_an_administrator() {
        let member = ProjectAccess {
            workspace_role: Some(User),
            project_role: Some(User),
        };
        assert_eq!(edit_time_log(member, true), Allow);
        assert_eq!(edit_time_log(member, false), Forbidden);
        let admin = ProjectAccess {
            workspace_role: Some(User),
            project_role: Some(Admin),
        };
        assert_eq!(edit_time_log(admin, false), Allow);
        assert_eq!(edit_time_log(ProjectAccess::default(), true), NotFound);
    }

    #[test]
    fn admins_manage_users_and_owners_manage_everyone() {
        let table = [
            // actor, self, from, to, expected
            (Some(Owner), false, None, Some(Owner), Allow),
            (Some(Owner), false, Some(Admin), None, Allow),
            (Some(Admin), false, None, Some(User), Allow),
            (Some(Admin), false, Some(User), None, Allow),
            (Some(Admin), false, None, Some(Admin), Forbidden),
            (Some(Admin), false, Some(User), Some(Admin), Forbidden),
            (Some(Admin), false, Some(Admin), None, Forbidden),
            (Some(Admin), false, Some(Owner), Some(User), Forbidden),
            (Some(User), false, None, Some(User), Forbidden),
            (Some(User), true, Some(User), None, Allow),
            (Some(Admin), true, Some(Admin), None, Allow),
            (Some(Admin), true, Some(Admin), Some(User), Forbidden),
        ];
        for (actor, is_self, from, to, want) in table {
            assert_eq!(
                change_membership(actor, is_self, from, to),
                want,
                "{actor:?} (self: {is_self}) {from:?} -> {to:?}"
            );
        }
    }
}
