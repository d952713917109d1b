//! Relay global object identification: the `Node` interface and the `node` and `nodes`
//! root fields, so a client cache can refetch any object by its id alone.
//!
//! Ids are the rows' own UUIDs, unique across all tables: the database keeps every one in
//! `object_ids`, whose key refuses a second object with an id (migration
//! `m20261207_000001_object_ids`), so at most one table holds any id and the order of the
//! probes below can't change the answer. An id does not say its type: a lookup probes every
//! table's by-id loader at once, one batched statement per table however many ids are
//! asked for. What the policy needs to decide (the task and project
//! above a log, the viewer's roles) then loads in a fixed number of further batches, and
//! only what the viewer may read is returned. Anything else is `null`, exactly like an
//! unknown id, so a client never learns that an object it may not see exists.

use std::collections::{HashMap, HashSet};

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Interface, Object};
use entity::role::Role;
use entity::{
    chat_message, client, project, project_user, task, time_log, user, workspace, workspace_user,
};
use uuid::Uuid;

use crate::chat::Message;
use crate::client::Client;
use crate::context::ContextExt;
use crate::error::{Error, Result};
use crate::loaders::{
    ClientById, Loaders, MessageById, ProjectById, ProjectMemberById, ProjectRoleOf,
    SharesWorkspace, TaskById, TimeLogById, UserById, WorkspaceById, WorkspaceMemberById,
    WorkspaceRoleOf, by_ids,
};
use crate::membership::project::ProjectMember;
use crate::membership::workspace::WorkspaceMember;
use crate::policy::{self, ProjectAccess, ProjectAction, WorkspaceAction};
use crate::project::Project;
use crate::task::Task;
use crate::time_log::TimeLog;
use crate::user::User;
use crate::validate;
use crate::workspace::Workspace;

/// The most ids one `nodes` call may ask for.
pub const MAX_IDS: usize = 100;

/// An object with an id unique across all types: pass it to `node(id:)` to fetch the
/// object again.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The object's id, unique across all types (a UUID). Ids the server makes are time-ordered (UUIDv7), so a list \"oldest first\" or \"in the order they joined\" (which sorts by id) is in creation order; a client-chosen random (v4) id sorts by its value."
))]
pub enum Node {
    User(User),
    Workspace(Workspace),
    WorkspaceMember(WorkspaceMember),
    Client(Client),
    Project(Project),
    ProjectMember(ProjectMember),
    Task(Task),
    TimeLog(TimeLog),
    Message(Message),
}

#[derive(Default)]
pub struct NodeQuery;

/// Refetching objects by id.
#[Object]
impl NodeQuery {
    /// The object with this id, of whatever type, if the viewer may read it; `null` when
    /// there is none or the viewer may not read it (the two are not told apart).
    /// `UNAUTHENTICATED` without a session; `BAD_USER_INPUT` on `id` when it is not a UUID.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An `id` of any object.")] id: ID,
    ) -> Result<Option<Node>> {
        let id = validate::id("id", &id)?;
        let mut found = resolve(ctx, &[id]).await?;
        Ok(found.pop().flatten())
    }

    /// The objects with these ids, in the same order, each `null` where `node(id:)` would
    /// be. At most 100 ids (else `BAD_USER_INPUT` on `ids`); the number of database
    /// statements does not grow with the number of ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Ids of any objects, at most 100.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_IDS {
            return Err(Error::bad_input(
                "ids",
                format!("ids may hold at most {MAX_IDS} ids"),
            ));
        }
        let ids = ids
            .iter()
            .map(|id| validate::id("ids", id))
            .collect::<Result<Vec<_>>>()?;
        resolve(ctx, &ids).await
    }
}

/// The objects behind `ids` that the viewer may read, in order.
async fn resolve(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<Option<Node>>> {
    let viewer = ctx.require_viewer()?.user_id;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    let found = Found::probe(loader, &unique).await?;
    let access = Access::load(loader, viewer, &found).await?;
    Ok(ids.iter().map(|id| found.node(*id, &access)).collect())
}

/// The rows behind the ids, and the tasks and projects above them.
struct Found {
    users: HashMap<Uuid, user::Model>,
    workspaces: HashMap<Uuid, workspace::Model>,
    workspace_members: HashMap<Uuid, workspace_user::Model>,
    clients: HashMap<Uuid, client::Model>,
    projects: HashMap<Uuid, project::Model>,
    project_members: HashMap<Uuid, project_user::Model>,
    tasks: HashMap<Uuid, task::Model>,
    time_logs: HashMap<Uuid, time_log::Model>,
    messages: HashMap<Uuid, chat_message::Model>,
}

impl Found {
    /// Every table at once, then the tasks above time logs, then the projects above tasks
    /// and project memberships: at most eleven statements, whatever the ids.
    async fn probe(loader: &DataLoader<Loaders>, ids: &HashSet<Uuid>) -> Result<Self> {
        let (
            users,
            workspaces,
            workspace_members,
            clients,
            projects,
            project_members,
            tasks,
            time_logs,
            messages,
        ) = tokio::try_join!(
            by_ids(loader, ids, UserById),
            by_ids(loader, ids, WorkspaceById),
            by_ids(loader, ids, WorkspaceMemberById),
            by_ids(loader, ids, ClientById),
            by_ids(loader, ids, ProjectById),
            by_ids(loader, ids, ProjectMemberById),
            by_ids(loader, ids, TaskById),
            by_ids(loader, ids, TimeLogById),
            by_ids(loader, ids, MessageById),
        )?;
        let mut found = Self {
            users,
            workspaces,
            workspace_members,
            clients,
            projects,
            project_members,
            tasks,
            time_logs,
            messages,
        };
        // The maps are read by the ids asked for, so parents added under their own ids
        // never answer for another id.
        let tasks: HashSet<Uuid> = found
            .time_logs
            .values()
            .map(|log| log.task_id)
            .filter(|id| !found.tasks.contains_key(id))
            .collect();
        found.tasks.extend(by_ids(loader, &tasks, TaskById).await?);
        let projects: HashSet<Uuid> = found
            .tasks
            .values()
            .map(|task| task.project_id)
            .chain(found.project_members.values().map(|m| m.project_id))
            .filter(|id| !found.projects.contains_key(id))
            .collect();
        found
            .projects
            .extend(by_ids(loader, &projects, ProjectById).await?);
        Ok(found)
    }

    /// The object with `id`, if the viewer may read it.
    fn node(&self, id: Uuid, access: &Access) -> Option<Node> {
        if let Some(found) = self.users.get(&id) {
            return access
                .user(id)
                .then(|| Node::User(User::new(found.clone())));
        }
        if let Some(found) = self.workspaces.get(&id) {
            return access
                .workspace(found.id)
                .then(|| Node::Workspace(Workspace(found.clone())));
        }
        if let Some(found) = self.workspace_members.get(&id) {
            return access
                .workspace(found.workspace_id)
                .then(|| Node::WorkspaceMember(WorkspaceMember(found.clone())));
        }
        if let Some(found) = self.clients.get(&id) {
            return access
                .workspace(found.workspace_id)
                .then(|| Node::Client(Client(found.clone())));
        }
        if let Some(found) = self.projects.get(&id) {
            return access
                .project(Some(found))
                .then(|| Node::Project(Project(found.clone())));
        }
        if let Some(found) = self.project_members.get(&id) {
            let project = self.projects.get(&found.project_id);
            return access
                .project(project)
                .then(|| Node::ProjectMember(ProjectMember(found.clone())));
        }
        if let Some(found) = self.tasks.get(&id) {
            let project = self.projects.get(&found.project_id);
            return access
                .project(project)
                .then(|| Node::Task(Task(found.clone())));
        }
        if let Some(found) = self.messages.get(&id) {
            return access
                .message(found)
                .then(|| Node::Message(Message(found.clone())));
        }
        let found = self.time_logs.get(&id)?;
        let project = self
            .tasks
            .get(&found.task_id)
            .and_then(|task| self.projects.get(&task.project_id));
        access
            .project(project)
            .then(|| Node::TimeLog(TimeLog(found.clone())))
    }
}

/// The viewer's standing towards everything found: roles and shared workspaces.
struct Access {
    viewer: Uuid,
    workspace_roles: HashMap<Uuid, Role>,
    project_roles: HashMap<Uuid, Role>,
    shares_workspace: HashMap<Uuid, bool>,
    /// The viewer's address, loaded when a chat message was found.
    email: Option<String>,
}

impl Access {
    /// One batch per question, concurrently.
    async fn load(loader: &DataLoader<Loaders>, viewer: Uuid, found: &Found) -> Result<Self> {
        let workspaces: HashSet<Uuid> = found
            .workspaces
            .keys()
            .copied()
            .chain(found.workspace_members.values().map(|m| m.workspace_id))
            .chain(found.clients.values().map(|c| c.workspace_id))
            .chain(found.projects.values().map(|p| p.workspace_id))
            .collect();
        let projects: HashSet<Uuid> = found.projects.keys().copied().collect();
        let others: HashSet<Uuid> = found
            .users
            .keys()
            .copied()
            .filter(|id| *id != viewer)
            .collect();
        let me: HashSet<Uuid> = if found.messages.is_empty() {
            HashSet::new()
        } else {
            HashSet::from([viewer])
        };
        let (workspace_roles, project_roles, shares_workspace, mut me) = tokio::try_join!(
            by_ids(loader, &workspaces, |workspace| WorkspaceRoleOf {
                user: viewer,
                workspace,
            }),
            by_ids(loader, &projects, |project| ProjectRoleOf {
                user: viewer,
                project,
            }),
            by_ids(loader, &others, |other| SharesWorkspace { viewer, other }),
            by_ids(loader, &me, UserById),
        )?;
        Ok(Self {
            viewer,
            workspace_roles,
            project_roles,
            shares_workspace,
            email: me.remove(&viewer).map(|user| user.email),
        })
    }

    fn user(&self, id: Uuid) -> bool {
        let shares = self.shares_workspace.get(&id).copied().unwrap_or(false);
        policy::user(id == self.viewer, shares).is_allowed()
    }

    fn message(&self, message: &chat_message::Model) -> bool {
        let is_recipient = self.email.as_deref() == Some(message.recipient_email.as_str());
        policy::read_message(message.sender_id == self.viewer, is_recipient).is_allowed()
    }

    fn workspace(&self, id: Uuid) -> bool {
        let role = self.workspace_roles.get(&id).copied();
        policy::workspace(role, WorkspaceAction::Read).is_allowed()
    }

    /// Whether the viewer may read `project` (`None`: it was not found, so nor is what
    /// hangs off it).
    fn project(&self, project: Option<&project::Model>) -> bool {
        project.is_some_and(|project| {
            let access = ProjectAccess {
                workspace_role: self.workspace_roles.get(&project.workspace_id).copied(),
                project_role: self.project_roles.get(&project.id).copied(),
            };
            policy::project(access, ProjectAction::Read).is_allowed()
        })
    }
}
