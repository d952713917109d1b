//! People: the `User` type and the `me` query.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::EntityTrait;

use crate::context::ContextExt;
use crate::error::Result;

/// A person with an account. The stored password hash has no field here by design.
pub struct User(pub user::Model);

/// A person with an account.
#[Object]
impl User {
    /// Stable identifier of the user.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Display name, 1–50 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Email address, unique per account. `null` when the viewer may not see it: it is
    /// shown to the user themself only.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        is_self(ctx, &self.0).then_some(self.0.email.as_str())
    }

    /// Phone number, up to 20 characters. `null` when unset or when the viewer may not see
    /// it (the same rule as `email`).
    async fn phone(&self, ctx: &Context<'_>) -> Option<&str> {
        is_self(ctx, &self.0)
            .then_some(self.0.phone.as_deref())
            .flatten()
    }

    /// When the account was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

fn is_self(ctx: &Context<'_>, user: &user::Model) -> bool {
    ctx.viewer().is_some_and(|viewer| viewer.user_id == user.id)
}

/// Reads about the viewer.
#[derive(Default)]
pub struct UserQuery;

/// Reads about the viewer.
#[Object]
impl UserQuery {
    /// The signed-in user, or `null` for an anonymous request.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(viewer) = ctx.viewer() else {
            return Ok(None);
        };
        let found = user::Entity::find_by_id(viewer.user_id)
            .one(ctx.db()?)
            .await?;
        Ok(found.map(User))
    }
}
