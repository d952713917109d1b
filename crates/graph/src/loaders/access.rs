//! The SQL form of the policy's read rule, for statements that read many objects at once:
//! which projects a viewer may read, as a condition, and the viewer's roles selected beside
//! each row, so an object and the standing the rules decide on come in one statement.
//!
//! The rules themselves live in [`crate::policy`], which re-exports these and whose tests
//! pin them to [`ProjectAccess::can_read`]; the loaders use them without depending on the
//! policy, so the policy may ask the loaders and never the other way round.

use entity::role::Role;
use entity::{project, project_user, workspace_user};
use sea_orm::sea_query::{
    Alias, ColumnRef, Condition, Expr, ExprTrait, IntoColumnRef, Query, SelectStatement,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryResult,
    QueryTrait, Select,
};
use uuid::Uuid;

/// The roles that manage a workspace or project: OWNER and ADMIN.
pub(crate) const MANAGERS: [Role; 2] = [Role::Owner, Role::Admin];

/// The viewer's standing in a project: their roles in its workspace and in itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProjectAccess {
    pub workspace_role: Option<Role>,
    pub project_role: Option<Role>,
}

/// The projects `viewer` may read, as a condition on `projects` rows: the rule of
/// [`ProjectAccess::can_read`] for statements that list or sum over many projects at once,
/// so that what a viewer may not see is never loaded (the statement must have `projects`
/// in its `FROM`):
///
/// `EXISTS (SELECT 1 FROM project_users WHERE project_id = projects.id AND user_id = :viewer)
/// OR EXISTS (SELECT 1 FROM workspace_users WHERE workspace_id = projects.workspace_id
/// AND user_id = :viewer AND role IN ('OWNER', 'ADMIN'))`
pub fn readable_projects(viewer: Uuid) -> Condition {
    let member = Query::select()
        .expr(Expr::val(1))
        .from(project_user::Entity)
        .and_where(
            Expr::col((project_user::Entity, project_user::Column::ProjectId))
                .equals((project::Entity, project::Column::Id)),
        )
        .and_where(project_user::Column::UserId.eq(viewer))
        .to_owned();
    let manager = Query::select()
        .expr(Expr::val(1))
        .from(workspace_user::Entity)
        .and_where(
            Expr::col((workspace_user::Entity, workspace_user::Column::WorkspaceId))
                .equals((project::Entity, project::Column::WorkspaceId)),
        )
        .and_where(workspace_user::Column::UserId.eq(viewer))
        .and_where(workspace_user::Column::Role.is_in(MANAGERS))
        .to_owned();
    Condition::any()
        .add(Expr::exists(member))
        .add(Expr::exists(manager))
}

/// The viewer's role in the workspace whose id is in `workspace` (a column of the
/// statement's own tables), as a column to select beside the object: `(SELECT role FROM
/// workspace_users WHERE workspace_id = <workspace> AND user_id = :viewer)`, `NULL` for a
/// non-member. A read by id then learns the object and the viewer's standing in one
/// statement, and [`workspace`] or [`project`] decides on them as for any other caller.
pub fn workspace_role_column(viewer: Uuid, workspace: impl IntoColumnRef) -> Expr {
    let role = Query::select()
        .column((workspace_user::Entity, workspace_user::Column::Role))
        .from(workspace_user::Entity)
        .and_where(
            Expr::col((workspace_user::Entity, workspace_user::Column::WorkspaceId))
                .equals(workspace),
        )
        .and_where(workspace_user::Column::UserId.eq(viewer))
        .to_owned();
    Expr::SubQuery(None, Box::new(role.into()))
}

/// The viewer's role in the project whose id is in `project`, as [`workspace_role_column`]
/// does for workspaces: `(SELECT role FROM project_users WHERE project_id = <project> AND
/// user_id = :viewer)`.
pub fn project_role_column(viewer: Uuid, project: impl IntoColumnRef) -> Expr {
    let role = Query::select()
        .column((project_user::Entity, project_user::Column::Role))
        .from(project_user::Entity)
        .and_where(
            Expr::col((project_user::Entity, project_user::Column::ProjectId)).equals(project),
        )
        .and_where(project_user::Column::UserId.eq(viewer))
        .to_owned();
    Expr::SubQuery(None, Box::new(role.into()))
}

/// The column aliases [`rows_with_access`] selects the viewer's roles as.
const WORKSPACE_ROLE: &str = "viewer_workspace_role";
const PROJECT_ROLE: &str = "viewer_project_role";

/// Runs `query` with the viewer's standing in each row's project beside the row (the
/// project's id in column `project`, its workspace's in `workspace`): objects and the roles
/// the rules need in one statement.
pub(crate) async fn rows_with_access<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    viewer: Uuid,
    workspace: impl IntoColumnRef,
    project: impl IntoColumnRef,
) -> std::result::Result<Vec<(E::Model, ProjectAccess)>, DbErr> {
    let rows = raw_rows_with_access(
        db,
        QueryTrait::into_query(query),
        viewer,
        workspace,
        Some(project.into_column_ref()),
    )
    .await?;
    rows.into_iter()
        .map(|(row, access)| Ok((E::Model::from_query_result(&row, "")?, access)))
        .collect()
}

/// [`rows_with_access`] with the rows left undecoded, for a reader of a few columns (the
/// planned read path, [`crate::plan`]). Without a `project` column the project role is
/// not selected (`None`): a workspace read needs only the workspace role.
pub(crate) async fn raw_rows_with_access(
    db: &impl ConnectionTrait,
    mut query: SelectStatement,
    viewer: Uuid,
    workspace: impl IntoColumnRef,
    project: Option<ColumnRef>,
) -> std::result::Result<Vec<(QueryResult, ProjectAccess)>, DbErr> {
    query.expr_as(
        workspace_role_column(viewer, workspace),
        Alias::new(WORKSPACE_ROLE),
    );
    let has_project = project.is_some();
    if let Some(project) = project {
        query.expr_as(
            project_role_column(viewer, project),
            Alias::new(PROJECT_ROLE),
        );
    }
    let statement = db.get_database_backend().build(&query);
    let rows = db.query_all_raw(statement).await?;
    rows.into_iter()
        .map(|row| {
            let role = |alias: &str| -> std::result::Result<Option<Role>, DbErr> {
                let stored: Option<String> = row.try_get("", alias)?;
                stored.map(|role| Role::try_from_value(&role)).transpose()
            };
            let access = ProjectAccess {
                workspace_role: role(WORKSPACE_ROLE)?,
                project_role: if has_project {
                    role(PROJECT_ROLE)?
                } else {
                    None
                },
            };
            Ok((row, access))
        })
        .collect()
}
