//! People: the `User` type and the `me` query.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::EntityTrait;

use crate::context::ContextExt;
use crate::error::Result;
use crate::loaders::{Loaders, SharesWorkspace};

/// A person with an account. The stored password hash has no field here by design.
pub struct User {
    model: user::Model,
    /// Set when the response goes to this very user although the request carried no
    /// session yet (the payload of `signUp` and `logIn`).
    is_recipient: bool,
}

impl User {
    pub fn new(model: user::Model) -> Self {
        Self {
            model,
            is_recipient: false,
        }
    }

    /// A user shown to themself, whatever the request's credentials.
    pub fn for_themself(model: user::Model) -> Self {
        Self {
            model,
            is_recipient: true,
        }
    }

    /// Whether the viewer may see this user's email and phone: the user themself and
    /// people who share a workspace with them.
    async fn contact_visible(&self, ctx: &Context<'_>) -> Result<bool> {
        if self.is_recipient {
            return Ok(true);
        }
        let Ok(Some(viewer)) = ctx.viewer() else {
            return Ok(false);
        };
        if viewer.user_id == self.model.id {
            return Ok(true);
        }
        let loader = ctx.service::<DataLoader<Loaders>>()?;
        let shares = loader
            .load_one(SharesWorkspace {
                viewer: viewer.user_id,
                other: self.model.id,
            })
            .await?;
        Ok(shares.unwrap_or(false))
    }
}

/// A person with an account.
#[Object]
impl User {
    /// Stable identifier of the user.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// Display name, 1–50 characters.
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// Email address, unique per account, lower-case. `null` when the viewer may not see
    /// it: it is shown to the user themself and to people who share a workspace with them.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self
            .contact_visible(ctx)
            .await?
            .then_some(self.model.email.as_str()))
    }

    /// Phone number, up to 20 characters. `null` when unset or when the viewer may not see
    /// it (the same rule as `email`).
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self
            .contact_visible(ctx)
            .await?
            .then_some(self.model.phone.as_deref())
            .flatten())
    }

    /// When the account was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}

/// Reads about the viewer.
#[derive(Default)]
pub struct UserQuery;

/// Reads about the viewer.
#[Object]
impl UserQuery {
    /// The signed-in user, or `null` for a request without a session. A token that is
    /// expired or revoked is an `UNAUTHENTICATED` error instead.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(viewer) = ctx.viewer()? else {
            return Ok(None);
        };
        let found = user::Entity::find_by_id(viewer.user_id)
            .one(ctx.db()?)
            .await?;
        Ok(found.map(User::new))
    }
}
