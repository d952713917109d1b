//! The plan as data: the planned object types, their scalars, references and lists, and
//! what one operation selects of them ([`Plan`]), as [`super::shape`] reads it from a
//! document and [`super::run`] answers it.

use async_graphql::{InputType, Name, Value};
use uuid::Uuid;

use crate::loaders::projects::ProjectFilter;
use crate::loaders::tasks::{TaskFilter, TaskOrder};
use crate::loaders::time_logs::{TimeLogFilter, TimeRange};

/// The object types a plan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Workspace,
    Client,
    Project,
    Task,
    TimeLog,
    User,
}

impl Kind {
    pub(super) fn type_name(self) -> &'static str {
        match self {
            Self::Workspace => "Workspace",
            Self::Client => "Client",
            Self::Project => "Project",
            Self::Task => "Task",
            Self::TimeLog => "TimeLog",
            Self::User => "User",
        }
    }

    pub(super) fn connection_name(self) -> &'static str {
        match self {
            Self::Workspace => "WorkspaceConnection",
            Self::Client => "ClientConnection",
            Self::Project => "ProjectConnection",
            Self::Task => "TaskConnection",
            Self::TimeLog => "TimeLogConnection",
            Self::User => "UserConnection",
        }
    }

    pub(super) fn edge_name(self) -> &'static str {
        match self {
            Self::Workspace => "WorkspaceEdge",
            Self::Client => "ClientEdge",
            Self::Project => "ProjectEdge",
            Self::Task => "TaskEdge",
            Self::TimeLog => "TimeLogEdge",
            Self::User => "UserEdge",
        }
    }

    /// The scalar field `name` of this type, if the plan reads it.
    pub(super) fn scalar(self, name: &str) -> Option<Scalar> {
        let scalar = match name {
            "id" => Scalar::Id,
            "description" if self != Self::User => Scalar::Description,
            "email" if self == Self::User => Scalar::Email,
            "phone" if self == Self::User => Scalar::Phone,
            "createdAt" => Scalar::CreatedAt,
            "updatedAt" => Scalar::UpdatedAt,
            "name" if self != Self::TimeLog => Scalar::Name,
            "deadline" if self == Self::Project => Scalar::Deadline,
            "status" if self == Self::Task => Scalar::Status,
            "hours" if self == Self::TimeLog => Scalar::Hours,
            "loggedAt" if self == Self::TimeLog => Scalar::LoggedAt,
            "contactEmail" if self == Self::Client => Scalar::ContactEmail,
            "contactPhone" if self == Self::Client => Scalar::ContactPhone,
            _ => return None,
        };
        Some(scalar)
    }

    /// The object field `name` of this type that follows one of its row's keys, if the
    /// plan reads it: the type it leads to and the key's column. The resolvers load these
    /// without a policy question (whoever reads the object may read what it belongs to),
    /// and so does the plan.
    pub(super) fn reference(self, name: &str) -> Option<(Kind, &'static str)> {
        match (self, name) {
            (Self::Client | Self::Project, "workspace") => Some((Self::Workspace, "workspace_id")),
            (Self::Project, "client") => Some((Self::Client, "client_id")),
            (Self::Task, "project") => Some((Self::Project, "project_id")),
            (Self::TimeLog, "task") => Some((Self::Task, "task_id")),
            (Self::TimeLog, "user") => Some((Self::User, "user_id")),
            _ => None,
        }
    }

    /// The list field `name` of this type, if the plan reads it.
    pub(super) fn list(self, name: &str) -> Option<List> {
        match (self, name) {
            (Self::Workspace, "projects") => Some(List::WorkspaceProjects),
            (Self::Workspace, "clients") => Some(List::WorkspaceClients),
            (Self::Client, "projects") => Some(List::ClientProjects),
            (Self::Project, "tasks") => Some(List::ProjectTasks),
            (Self::Task, "timeLogs") => Some(List::TaskTimeLogs),
            _ => None,
        }
    }

    /// The interfaces the type implements: fragments on them apply to it.
    pub(super) fn interfaces(self) -> &'static [&'static str] {
        &["Node"]
    }
}

/// A scalar field, read from the column of the same name in every planned table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
    Id,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
    Deadline,
    Status,
    Hours,
    LoggedAt,
    ContactEmail,
    ContactPhone,
    /// A user's email and phone: only for whom the policy shows them to.
    Email,
    Phone,
}

impl Scalar {
    pub(super) fn column(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::Description => "description",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Deadline => "deadline",
            Self::Status => "status",
            Self::Hours => "hours",
            Self::LoggedAt => "logged_at",
            Self::ContactEmail => "contact_email",
            Self::ContactPhone => "contact_phone",
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }
}

/// A connection field of a planned type, read without a filter, in its default order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum List {
    /// `Query.workspaces`: the viewer's.
    ViewerWorkspaces,
    WorkspaceClients,
    ClientProjects,
    WorkspaceProjects,
    ProjectTasks,
    TaskTimeLogs,
}

impl List {
    pub(super) fn child(self) -> Kind {
        match self {
            Self::ViewerWorkspaces => Kind::Workspace,
            Self::WorkspaceClients => Kind::Client,
            Self::ClientProjects | Self::WorkspaceProjects => Kind::Project,
            Self::ProjectTasks => Kind::Task,
            Self::TaskTimeLogs => Kind::TimeLog,
        }
    }

    /// The arguments besides `first` and `after`.
    pub(super) fn other_arguments(self) -> &'static [&'static str] {
        match self {
            Self::ViewerWorkspaces | Self::WorkspaceClients => &[],
            Self::ClientProjects | Self::WorkspaceProjects => &["filter"],
            Self::ProjectTasks | Self::TaskTimeLogs => &["filter", "orderBy"],
        }
    }
}

/// What a list is filtered by and ordered by, read and checked as its resolver does (a
/// value its resolver refuses leaves the operation to it).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ListArguments {
    ViewerWorkspaces,
    WorkspaceClients,
    ClientProjects(ProjectFilter),
    Projects(ProjectFilter),
    Tasks(TaskFilter, TaskOrder),
    /// The filter, and whether newest first.
    TimeLogs(TimeLogFilter, bool),
}

impl ListArguments {
    pub(super) fn read(list: List, filter: Option<Value>, order_by: Option<Value>) -> Option<Self> {
        Some(match list {
            List::ViewerWorkspaces => Self::ViewerWorkspaces,
            List::WorkspaceClients => Self::WorkspaceClients,
            List::ClientProjects => {
                let filter = InputType::parse(filter).ok()?;
                Self::ClientProjects(crate::project::project_filter(filter).ok()?)
            }
            List::WorkspaceProjects => {
                let filter = InputType::parse(filter).ok()?;
                Self::Projects(crate::project::project_filter(filter).ok()?)
            }
            List::ProjectTasks => {
                let filter = InputType::parse(filter).ok()?;
                let order_by = InputType::parse(order_by).ok()?;
                let (filter, order) = crate::task::list_arguments(filter, order_by).ok()?;
                Self::Tasks(filter, order)
            }
            List::TaskTimeLogs => {
                let filter: Option<crate::time_log::TimeLogFilterInput> =
                    InputType::parse(filter).ok()?;
                let order_by: Option<crate::time_log::TimeLogOrderInput> =
                    InputType::parse(order_by).ok()?;
                let filter = filter.unwrap_or_default().into_filter().ok()?;
                Self::TimeLogs(filter, crate::time_log::descending(order_by.as_ref()))
            }
        })
    }
}

/// What one operation reads, by response key in the order of the response.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) roots: Vec<(Name, Root)>,
}

#[derive(Debug)]
pub(super) enum Root {
    Typename,
    /// `workspace(id:)`, `project(id:)` or `task(id:)`.
    Object {
        id: Uuid,
        object: Object,
    },
    /// `workspaces`: the viewer's.
    List(Connection),
}

/// The selection on one planned object.
#[derive(Debug)]
pub(super) struct Object {
    pub(super) kind: Kind,
    pub(super) fields: Vec<(Name, Out)>,
    /// The object's connection fields, which [`Out::List`] points into.
    pub(super) lists: Vec<Connection>,
    /// The objects it belongs to, which [`Out::Reference`] points into.
    pub(super) references: Vec<Reference>,
}

impl Object {
    /// Whether what it selects needs its rows at the next level (their ids or keys).
    pub(super) fn needs_rows(&self) -> bool {
        !self.lists.is_empty()
            || !self.references.is_empty()
            || self.has_hours()
            || self.has_role()
            || self.has_contact()
    }

    /// Whether it selects a user's email or phone.
    pub(super) fn has_contact(&self) -> bool {
        self.fields
            .iter()
            .any(|(_, out)| matches!(out, Out::Scalar(Scalar::Email | Scalar::Phone)))
    }

    /// Whether it selects `viewerRole`.
    pub(super) fn has_role(&self) -> bool {
        self.fields
            .iter()
            .any(|(_, out)| matches!(out, Out::ViewerRole))
    }

    /// Whether it selects `totalHours`.
    pub(super) fn has_hours(&self) -> bool {
        self.fields
            .iter()
            .any(|(_, out)| matches!(out, Out::Hours(_)))
    }

    /// The columns its rows must have besides `id`: its scalars' and its references' keys.
    pub(super) fn columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        let scalars = self.fields.iter().filter_map(|(_, out)| match out {
            Out::Scalar(scalar) => Some(scalar.column()),
            _ => None,
        });
        scalars.chain(self.references.iter().map(|reference| reference.key))
    }
}

#[derive(Debug, PartialEq)]
pub(super) enum Out {
    Typename,
    Scalar(Scalar),
    List(usize),
    Reference(usize),
    /// `totalHours` over a range.
    Hours(TimeRange),
    /// `viewerRole` (of workspaces and projects).
    ViewerRole,
}

/// An object field that follows a key of the row (`Task.project`).
#[derive(Debug)]
pub(super) struct Reference {
    /// The column holding the key.
    pub(super) key: &'static str,
    pub(super) object: Object,
}

/// The selection on one connection field.
#[derive(Debug)]
pub(super) struct Connection {
    pub(super) list: List,
    pub(super) arguments: ListArguments,
    pub(super) first: Option<i32>,
    pub(super) after: Option<String>,
    /// `edges`, `nodes` or `pageInfo` is selected: the page's rows are loaded.
    pub(super) rows: bool,
    /// `totalCount` is selected.
    pub(super) total: bool,
    pub(super) fields: Vec<(Name, ConnectionOut)>,
    /// The selections on the page's items (`nodes`, `edges.node`), which
    /// [`ConnectionOut::Nodes`] and [`EdgeOut::Node`] point into.
    pub(super) nodes: Vec<Object>,
}

#[derive(Debug)]
pub(super) enum ConnectionOut {
    Typename,
    TotalCount,
    Nodes(usize),
    Edges(Vec<(Name, EdgeOut)>),
    PageInfo(Vec<(Name, PageInfoOut)>),
}

#[derive(Debug)]
pub(super) enum EdgeOut {
    Typename,
    Cursor,
    Node(usize),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum PageInfoOut {
    Typename,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}
