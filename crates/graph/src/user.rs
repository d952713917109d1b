//! People: the `User` type, their time logs and the `me` query.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::user;

use crate::context::ContextExt;
use crate::error::Result;
use crate::loaders::time_logs::{TimeLogFilter, TimeLogParent};
use crate::loaders::{self, Loaders, SharesWorkspace, UserById};
use crate::policy;
use crate::time_log::{self, TimeLogConnection, TimeLogOrderInput};

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
        let is_self = viewer.user_id == self.model.id;
        let shares = if is_self {
            false
        } else {
            let loader = ctx.service::<DataLoader<Loaders>>()?;
            let key = SharesWorkspace {
                viewer: viewer.user_id,
                other: self.model.id,
            };
            loader.load_one(key).await?.unwrap_or(false)
        };
        Ok(policy::user(is_self, shares).is_allowed())
    }
}

/// Which of a user's time logs a list shows.
#[derive(InputObject, Default)]
pub struct UserTimeLogFilterInput {
    /// Logged at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Logged before this instant (so `from`/`to` spans that meet never share a log).
    pub to: Option<DateTime<Utc>>,
}

/// A person with an account.
#[Object]
impl User {
    /// Stable identifier of the user, unique across all types (a UUID): see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
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

    /// When the account was last saved (RFC 3339, UTC); equal to `createdAt` until then.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    /// The time this user logged on projects the viewer may read (for the user themself,
    /// the projects they are still a member of or administer), oldest first unless
    /// `orderBy` says otherwise. `first` is at most 100 (default 50). `UNAUTHENTICATED`
    /// without a session.
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn time_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many logs to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
        #[graphql(desc = "Which logs to list.")] filter: Option<UserTimeLogFilterInput>,
        #[graphql(desc = "The order; `LOGGED_AT` ascending when absent.")] order_by: Option<
            TimeLogOrderInput,
        >,
    ) -> Result<TimeLogConnection> {
        let viewer = ctx.require_viewer()?.user_id;
        let filter = filter.unwrap_or_default();
        let filter = TimeLogFilter {
            logged: time_log::time_range("filter.to", filter.from, filter.to)?,
            user: None,
        };
        let parent = TimeLogParent::User {
            user: self.model.id,
            viewer,
        };
        time_log::time_logs_of(ctx, parent, first, after, filter, order_by).await
    }
}

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
        let loader = ctx.service::<DataLoader<Loaders>>()?;
        let found = loaders::by_id(loader, UserById(viewer.user_id)).await?;
        Ok(found.map(User::new))
    }
}
