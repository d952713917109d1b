//! Accounts: signing up, logging in and out.
//!
//! Passwords are argon2id hashes made off the async workers ([`password`]); sessions are
//! opaque bearer tokens stored as digests ([`session`]); failed log-ins are rate-limited per
//! email and per client address ([`rate_limit`]).

pub mod password;
pub mod rate_limit;
pub mod session;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use entity::user;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::context::ContextExt;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::tally::{Limit, Tally};
use crate::user::User;
use crate::validate;
use password::{Password, Passwords};
use rate_limit::LoginLimiter;
use session::SessionSettings;

const USERS_EMAIL: UniqueKey = UniqueKey {
    constraint: "uq_users_email",
    sqlite_columns: "users.email",
    field: "email",
    message: "an account with this email already exists",
};

/// What `signUp` asks for.
#[derive(InputObject)]
pub struct SignUpInput {
    /// Display name, 1–50 characters (trimmed).
    pub name: String,
    /// Email address, at most 255 characters; stored trimmed and lower-cased, so
    /// `Ann@X.io` and `ann@x.io` are one account.
    pub email: String,
    /// The password: 8–128 characters, taken exactly as given (not trimmed).
    pub password: String,
    /// Optional phone number: at most 20 digits, spaces and `+ - ( ) .`.
    pub phone: Option<String>,
}

/// What `logIn` asks for.
#[derive(InputObject)]
pub struct LogInInput {
    /// The account's email address, in any letter case.
    pub email: String,
    /// The account's password, exactly as chosen at sign-up.
    pub password: String,
}

/// A new session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// The bearer token: send it as `Authorization: Bearer <token>` on HTTP, or as
    /// `{"authorization": "Bearer <token>"}` in the WebSocket `connection_init` payload.
    /// It is shown only this once; the server keeps only its digest.
    pub token: String,
    /// The signed-in user.
    pub user: User,
}

#[derive(Default)]
pub struct AccountMutation;

/// Account mutations.
#[Object]
impl AccountMutation {
    /// Creates an account and signs it in. Errors: `BAD_USER_INPUT` with the offending
    /// `field`; `CONFLICT` on `email` when the address already has an account.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account's name, email, password and optional phone.")]
        input: SignUpInput,
    ) -> Result<AuthPayload> {
        let name = validate::required_text("name", &input.name, validate::PERSON_NAME_CHARS)?;
        let email = validate::email("email", &input.email)?;
        let phone = validate::phone("phone", input.phone.as_deref())?;
        let password = Password::new(input.password);
        if !(password::MIN_CHARS..=password::MAX_CHARS).contains(&password.chars()) {
            return Err(Error::bad_input(
                "password",
                format!(
                    "password must be {}–{} characters",
                    password::MIN_CHARS,
                    password::MAX_CHARS
                ),
            ));
        }
        let db = ctx.db()?;
        // Checked before hashing so a duplicate costs no CPU; the constraint still
        // decides a race between two sign-ups.
        let taken = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(db)
            .await?;
        if taken.is_some() {
            return Err(USERS_EMAIL.conflict());
        }
        let hash = ctx.service::<Passwords>()?.hash(password).await?;
        let settings = *ctx.service::<SessionSettings>()?;

        let tx = crate::context::begin_write(db).await?;
        let created = user::ActiveModel {
            name: Set(name),
            email: Set(email),
            password: Set(hash),
            phone: Set(phone),
            ..Default::default()
        }
        .insert(&tx)
        .await
        .on_unique(USERS_EMAIL)?;
        let token = session::create(&tx, created.id, settings).await?;
        tx.commit().await?;
        Ok(AuthPayload {
            token: token.expose().to_owned(),
            user: User::for_themself(created),
        })
    }

    /// Signs in with email and password. A wrong password and an unknown email both give
    /// `UNAUTHENTICATED` with the same message, in about the same time. After 10 failures
    /// for one email (or 50 from one address) within 15 minutes: `RATE_LIMITED`, with
    /// `extensions.retryAfter` in seconds.
    async fn log_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email and password to sign in with.")] input: LogInInput,
    ) -> Result<AuthPayload> {
        let email = input.email.trim().to_lowercase();
        let address = ctx.client_addr();
        let limiter = ctx.service::<LoginLimiter>()?;
        if let Err(refused) = limiter.check(&email, address) {
            ctx.service::<Tally>()?.rate_limited(Limit::LogIn);
            return Err(refused);
        }

        let db = ctx.db()?;
        // No account has an over-long address or one with NUL in it (which PostgreSQL's
        // text can't even compare): those fail like any unknown email.
        let found = if email.chars().count() <= validate::EMAIL_MAX && !email.contains('\0') {
            user::Entity::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .one(db)
                .await?
        } else {
            None
        };
        let password = Password::new(input.password);
        let verified = password.chars() <= password::MAX_CHARS
            && ctx
                .service::<Passwords>()?
                .verify(password, found.as_ref().map(|user| user.password.clone()))
                .await?;
        let Some(user) = found.filter(|_| verified) else {
            limiter.record_failure(&email, address);
            return Err(Error::Unauthenticated);
        };
        limiter.record_success(&email);
        let settings = *ctx.service::<SessionSettings>()?;
        let token = session::create(db, user.id, settings).await?;
        Ok(AuthPayload {
            token: token.expose().to_owned(),
            user: User::for_themself(user),
        })
    }

    /// Ends the session whose token came with this request; the token stops working at
    /// once. Other sessions of the same user stay. `UNAUTHENTICATED` without a session.
    async fn log_out(&self, ctx: &Context<'_>) -> Result<bool> {
        let viewer = ctx.require_viewer()?;
        let db = ctx.db()?;
        session::revoke(db, viewer.session_id).await?;
        let bus = &ctx.service::<crate::chat::Chat>()?.bus;
        // Out of this instance's memory now; the others forget it on the notice below.
        bus.sessions().forget(viewer.session_id);
        // The session's open subscriptions end too, on every instance.
        bus.publish(
            db,
            crate::chat::bus::ChatEvent::SessionEnded {
                user: viewer.user_id,
                session: viewer.session_id,
            },
        )
        .await?;
        Ok(true)
    }
}
