//! A membership row of either level, and reading and writing it in that level's table
//! (`workspace_users` or `project_users`, which have one shape).

use chrono::{DateTime, Utc};
use entity::role::Role as StoredRole;
use entity::{project_user, workspace_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::Level;
use crate::error::Result;

/// A membership row of either level: both tables have this one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The workspace or the project.
    pub parent_id: Uuid,
    pub role: StoredRole,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<workspace_user::Model> for Row {
    fn from(row: workspace_user::Model) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            parent_id: row.workspace_id,
            role: row.role,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<Row> for workspace_user::Model {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            workspace_id: row.parent_id,
            role: row.role,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<project_user::Model> for Row {
    fn from(row: project_user::Model) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            parent_id: row.project_id,
            role: row.role,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<Row> for project_user::Model {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            project_id: row.parent_id,
            role: row.role,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

pub(super) async fn find_by_id(
    db: &impl ConnectionTrait,
    level: Level,
    id: Uuid,
) -> Result<Option<Row>> {
    Ok(match level {
        Level::Workspace => workspace_user::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(Row::from),
        Level::Project => project_user::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(Row::from),
    })
}

pub(super) async fn find(
    db: &impl ConnectionTrait,
    level: Level,
    parent: Uuid,
    user: Uuid,
) -> Result<Option<Row>> {
    Ok(match level {
        Level::Workspace => workspace_user::Entity::find()
            .filter(workspace_user::Column::WorkspaceId.eq(parent))
            .filter(workspace_user::Column::UserId.eq(user))
            .one(db)
            .await?
            .map(Row::from),
        Level::Project => project_user::Entity::find()
            .filter(project_user::Column::ProjectId.eq(parent))
            .filter(project_user::Column::UserId.eq(user))
            .one(db)
            .await?
            .map(Row::from),
    })
}

pub(super) async fn insert_row(
    tx: &DatabaseTransaction,
    level: Level,
    id: Option<Uuid>,
    parent: Uuid,
    user: Uuid,
    role: StoredRole,
) -> std::result::Result<Row, sea_orm::DbErr> {
    let id = id.map_or(sea_orm::ActiveValue::NotSet, Set);
    Ok(match level {
        Level::Workspace => workspace_user::ActiveModel {
            id,
            user_id: Set(user),
            workspace_id: Set(parent),
            role: Set(role),
            ..Default::default()
        }
        .insert(tx)
        .await?
        .into(),
        Level::Project => project_user::ActiveModel {
            id,
            user_id: Set(user),
            project_id: Set(parent),
            role: Set(role),
            ..Default::default()
        }
        .insert(tx)
        .await?
        .into(),
    })
}

pub(super) async fn update_role(
    tx: &DatabaseTransaction,
    level: Level,
    target: Row,
    role: StoredRole,
) -> Result<Row> {
    Ok(match level {
        Level::Workspace => {
            let mut change: workspace_user::ActiveModel =
                workspace_user::Model::from(target).into();
            change.role = Set(role);
            change.update(tx).await?.into()
        }
        Level::Project => {
            let mut change: project_user::ActiveModel = project_user::Model::from(target).into();
            change.role = Set(role);
            change.update(tx).await?.into()
        }
    })
}
