//! SeaORM models of workgraph's tables, one module per table, matching the migrations.

/// Implements `ActiveModelBehavior` for the `ActiveModel` in scope, so ids and timestamps are
/// filled in one place rather than by every caller.
///
/// On insert, an unset `id` becomes a UUID v7 (time-ordered, so new rows land at the end of
/// the primary-key index) and an unset `created_at` becomes now; `updated_at` moves on every
/// insert and update. `timestamped_behavior!(created_at_only)` is for tables without
/// `updated_at`. Bulk writes (`Entity::update_many`, `insert_many`) bypass these hooks.
macro_rules! timestamped_behavior {
    () => {
        timestamped_behavior!(@impl updated_at);
    };
    (created_at_only) => {
        timestamped_behavior!(@impl);
    };
    (@impl $($updated_at:ident)?) => {
        #[::sea_orm::entity::prelude::async_trait::async_trait]
        impl ::sea_orm::ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, ::sea_orm::DbErr>
            where
                C: ::sea_orm::ConnectionTrait,
            {
                // PostgreSQL keeps microseconds; truncating here makes both backends store,
                // and hand back, the same instant.
                let now = ::chrono::SubsecRound::trunc_subsecs(::chrono::Utc::now(), 6);
                if insert {
                    if self.id.is_not_set() {
                        self.id = ::sea_orm::ActiveValue::Set(::uuid::Uuid::now_v7());
                    }
                    if self.created_at.is_not_set() {
                        self.created_at = ::sea_orm::ActiveValue::Set(now);
                    }
                }
                $(self.$updated_at = ::sea_orm::ActiveValue::Set(now);)?
                Ok(self)
            }
        }
    };
}

pub mod chat_message;
pub mod client;
pub mod project;
pub mod project_user;
pub mod role;
pub mod session;
pub mod task;
pub mod time_log;
pub mod user;
pub mod workspace;
pub mod workspace_user;

pub mod prelude {
    pub use super::chat_message::Entity as ChatMessage;
    pub use super::client::Entity as Client;
    pub use super::project::Entity as Project;
    pub use super::project_user::Entity as ProjectUser;
    pub use super::role::Role;
    pub use super::session::Entity as Session;
    pub use super::task::Entity as Task;
    pub use super::task::TaskStatus;
    pub use super::time_log::Entity as TimeLog;
    pub use super::user::Entity as User;
    pub use super::workspace::Entity as Workspace;
    pub use super::workspace_user::Entity as WorkspaceUser;
}
