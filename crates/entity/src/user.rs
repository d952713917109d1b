//! `users`: a person who signs in; `password` holds an argon2id PHC string, never plain text.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub email: String,
    #[sea_orm(column_type = "Text")]
    pub password: String,
    pub phone: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::chat_message::Entity")]
    ChatMessage,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
    #[sea_orm(has_many = "super::project_user::Entity")]
    ProjectUser,
    #[sea_orm(has_many = "super::time_log::Entity")]
    TimeLog,
    #[sea_orm(has_many = "super::workspace_user::Entity")]
    WorkspaceUser,
}

/// The messages this user sent.
impl Related<super::chat_message::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ChatMessage.def()
    }
}

impl Related<super::project_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProjectUser.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::time_log::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TimeLog.def()
    }
}

impl Related<super::workspace_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WorkspaceUser.def()
    }
}

/// The workspaces this user is a member of, through `workspace_users`.
impl Related<super::workspace::Entity> for Entity {
    fn to() -> RelationDef {
        super::workspace_user::Relation::Workspace.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::workspace_user::Relation::User.def().rev())
    }
}

/// The projects this user is a member of, through `project_users`.
impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        super::project_user::Relation::Project.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::project_user::Relation::User.def().rev())
    }
}

timestamped_behavior!();
