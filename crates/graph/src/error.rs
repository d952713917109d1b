//! The one error type of the GraphQL layer and its mapping to `extensions.code`.
//!
//! Resolvers return [`Result<T>`] and use `?`; the conversion into
//! [`async_graphql::Error`] below is the only place where a variant becomes a code, a
//! message and extensions. The `custom-error-conversion` feature of async-graphql is on,
//! so no other error type can reach a client with its `Display` text by accident.

// Over ~450 lines with its unit tests (the tests of every refusal's code and message), which
// stay beside the code they pin.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

/// The stable codes a client may see in `extensions.code`. This list is the contract.
pub mod code {
    /// No valid session came with a request that needs one.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The viewer can see the object but may not do this to it.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The object does not exist, or the viewer may not see it.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// An argument is malformed or out of range; `extensions.field` names it.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The write clashes with existing data (a unique name, the last-owner rule).
    pub const CONFLICT: &str = "CONFLICT";
    /// Too many attempts; `extensions.retryAfter` says how many seconds to wait.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// Something failed on the server; the cause is only in the server log.
    pub const INTERNAL: &str = "INTERNAL";
    /// The operation ran past its time limit and was stopped (a mutation's writes rolled
    /// back); over HTTP, the whole request did (504).
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The database could not be reached (refused, reset, no connection free in time): the
    /// request may be retried shortly, unchanged. The cause is only in the server log.
    pub const DATABASE_UNAVAILABLE: &str = "DATABASE_UNAVAILABLE";
    /// The document does not parse, or does not fit the schema (unknown field, wrong
    /// argument type, bad variable): nothing was executed.
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The document nests fields deeper than the limit: nothing was executed.
    pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
    /// The document would cost more than the limit (connections weigh their `first`), or
    /// puts too many directives on a field: nothing was executed.
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    /// The document has more aliases than the limit: nothing was executed.
    pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
    /// The document is longer than the limit: nothing was parsed or executed.
    pub const QUERY_TOO_LARGE: &str = "QUERY_TOO_LARGE";
    /// The document asks for `__schema` or `__type` and introspection is turned off.
    pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
    /// Only the hash of a persisted query was sent and the server does not have it: send
    /// the document with the hash.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// `extensions.persistedQuery` of a version other than 1.
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
    /// The server runs only its trusted documents (`WORKGRAPH_TRUSTED_DOCUMENTS`) and the
    /// request's document, by hash or by text, is not one of them: nothing was parsed.
    pub const DOCUMENT_NOT_TRUSTED: &str = "DOCUMENT_NOT_TRUSTED";

    // Refusals of a whole request, made by the server before GraphQL runs.

    /// `POST /graphql` without `Content-Type: application/json` (415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// A body over the size limit (413).
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// A body or URL that is not a GraphQL request (400).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// A batch of more operations than the limit; none of them ran (400).
    pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
    /// As many requests in flight as the server takes; retry (503).
    pub const OVERLOADED: &str = "OVERLOADED";
    /// The client accepts neither `application/graphql-response+json` nor
    /// `application/json` (406).
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    /// A mutation or subscription sent as `GET` (405, `Allow: POST`): `GET` must not
    /// change data, so a link or an image tag can't make a user's browser run one.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// A WebSocket `subscribe` past the limit of operations running on one socket.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
    /// A WebSocket `connection_init` past a cap on open sockets: the account's (the socket
    /// then closes with 4420) or the instance's (4421).
    pub const TOO_MANY_SOCKETS: &str = "TOO_MANY_SOCKETS";

    /// Every code above with the HTTP status of a response that carries it as a refusal of
    /// the whole request (`None`: it comes in a 200 beside whatever data resolved, or on
    /// a WebSocket). `DATABASE_UNAVAILABLE` is a 503 only when the session lookup before
    /// GraphQL fails; `TIMEOUT` is a 504 over HTTP.
    pub const ALL: [(&str, Option<u16>); 27] = [
        (UNAUTHENTICATED, None),
        (FORBIDDEN, None),
        (NOT_FOUND, None),
        (BAD_USER_INPUT, None),
        (CONFLICT, None),
        (RATE_LIMITED, None),
        (INTERNAL, None),
        (TIMEOUT, Some(504)),
        (DATABASE_UNAVAILABLE, Some(503)),
        (GRAPHQL_VALIDATION_FAILED, None),
        (QUERY_TOO_DEEP, None),
        (QUERY_TOO_COMPLEX, None),
        (TOO_MANY_ALIASES, None),
        (QUERY_TOO_LARGE, None),
        (INTROSPECTION_DISABLED, None),
        (PERSISTED_QUERY_NOT_FOUND, None),
        (PERSISTED_QUERY_NOT_SUPPORTED, None),
        (DOCUMENT_NOT_TRUSTED, None),
        (UNSUPPORTED_MEDIA_TYPE, Some(415)),
        (PAYLOAD_TOO_LARGE, Some(413)),
        (BAD_REQUEST, Some(400)),
        (BATCH_TOO_LARGE, Some(400)),
        (OVERLOADED, Some(503)),
        (NOT_ACCEPTABLE, Some(406)),
        (METHOD_NOT_ALLOWED, Some(405)),
        (TOO_MANY_SUBSCRIPTIONS, None),
        (TOO_MANY_SOCKETS, None),
    ];
}

/// Shorthand for resolver results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a resolver can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The request carries no session, or an expired or revoked one. Says nothing about
    /// which, so a stolen-then-revoked token learns nothing.
    #[error("authentication required")]
    Unauthenticated,

    /// The viewer may read the object but not change it. Only used where reading is
    /// allowed; otherwise [`Error::NotFound`] hides that the object exists.
    #[error("not allowed")]
    Forbidden,

    /// Missing, or invisible to the viewer: the two are deliberately indistinguishable.
    #[error("not found")]
    NotFound,

    /// Input that fails validation before the database sees it. The message is meant
    /// for the person filling in the form, `field` for the form itself.
    #[error("{message}")]
    BadUserInput { field: String, message: String },

    /// The write breaks a uniqueness or ownership rule. `field` is set when one input
    /// field is at fault (a duplicate name), absent for rules about the whole object.
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },

    /// Too many attempts in a window; the client should wait `retry_after_secs`.
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },

    /// A failure the client can do nothing about (database down, a bug). The cause is
    /// logged on the server and never sent: database messages name tables, columns
    /// and values.
    #[error("internal error")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),

    /// The database could not be reached: not a bug, and the same request should work once
    /// it is back. Like [`Error::Internal`], the cause is logged and never sent.
    #[error("the database is unavailable, try again shortly")]
    DatabaseUnavailable(Arc<sea_orm::DbErr>),
}

impl Error {
    /// A [`Error::BadUserInput`] for `field`.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Wraps any unexpected failure as [`Error::Internal`].
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(source))
    }

    /// The stable code of this error, as sent in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => code::UNAUTHENTICATED,
            Self::Forbidden => code::FORBIDDEN,
            Self::NotFound => code::NOT_FOUND,
            Self::BadUserInput { .. } => code::BAD_USER_INPUT,
            Self::Conflict { .. } => code::CONFLICT,
            Self::RateLimited { .. } => code::RATE_LIMITED,
            Self::Internal(_) => code::INTERNAL,
            Self::DatabaseUnavailable(_) => code::DATABASE_UNAVAILABLE,
        }
    }

    /// Whether this error means the request could be retried unchanged once the database
    /// is back.
    pub fn is_database_unavailable(&self) -> bool {
        matches!(self, Self::DatabaseUnavailable(_))
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::from(Arc::new(err))
    }
}

impl From<Arc<sea_orm::DbErr>> for Error {
    fn from(err: Arc<sea_orm::DbErr>) -> Self {
        if claims_a_taken_id(&err) {
            Self::id_taken()
        } else if is_unavailable(&err) {
            Self::DatabaseUnavailable(err)
        } else {
            Self::Internal(err)
        }
    }
}

/// Whether `err` is the insert of an id another object holds: the `object_ids` registry's
/// key (see the migration `m20261207_000001_object_ids`), whichever table was written.
fn claims_a_taken_id(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(message)) if message.contains("object_ids")
    )
}

/// Whether `err` says the database could not be reached, rather than that a statement
/// failed: no connection could be acquired in time (refused or unanswered connects, or
/// every connection busy), a new connection failed (SeaORM's `Conn`: whatever the
/// driver says, e.g. a peer that hangs up during the TLS negotiation reads as a protocol
/// error), or a statement's connection broke (I/O error, reset, unexpected end) or
/// PostgreSQL reported a connection exception (SQLSTATE class `08`) or is shutting down or
/// starting up (`57P01`–`57P03`). Anything else, a constraint or a malformed statement,
/// is a bug or a conflict and stays what it was.
pub fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) => {
            sqlx_unavailable(cause)
        }
        _ => false,
    }
}

fn sqlx_unavailable(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// A UNIQUE constraint of the schema and the input field it protects. The two backends
/// word a violation differently: PostgreSQL names the constraint, SQLite lists the
/// columns (`UNIQUE constraint failed: users.email`).
#[derive(Debug, Clone, Copy)]
pub struct UniqueKey {
    pub constraint: &'static str,
    pub sqlite_columns: &'static str,
    pub field: &'static str,
    pub message: &'static str,
}

impl UniqueKey {
    /// The `CONFLICT` for this key, as the API reports it when its own check finds the
    /// value taken before the database would.
    pub fn conflict(self) -> Error {
        Error::Conflict {
            field: Some(self.field.to_owned()),
            message: self.message.to_owned(),
        }
    }
}

impl Error {
    /// A client-chosen id on a create that is already taken by a different object.
    pub fn id_taken() -> Self {
        Self::Conflict {
            field: Some("id".into()),
            message: "this id is already used by a different object".into(),
        }
    }
}

/// An error with `extensions.code` = `code`, for a request refused before it runs.
pub(crate) fn refusal(code: &str, message: String) -> async_graphql::ServerError {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

/// What a too-costly query is told: what to change, since nested connections at the
/// default page size (`connection::DEFAULT_FIRST`, pinned by a test) are the usual cause.
pub fn too_complex_message() -> String {
    "Query is too complex: each connection costs its `first` (default 50) times the cost \
     of one item; ask for smaller pages"
        .to_owned()
}

/// Turns a violation of a known UNIQUE constraint into [`Error::Conflict`] on its field,
/// at the call site, with `?` still working; any other database error stays `INTERNAL`.
/// The API checks first where it can; this covers the race between check and write.
pub trait DbResultExt<T> {
    fn on_unique(self, key: UniqueKey) -> Result<T>;
}

impl<T> DbResultExt<T> for std::result::Result<T, sea_orm::DbErr> {
    fn on_unique(self, key: UniqueKey) -> Result<T> {
        self.map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(message))
                if message.contains(key.constraint) || message.contains(key.sqlite_columns) =>
            {
                key.conflict()
            }
            _ => Error::from(err),
        })
    }
}

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        // Logged here, inside the request's span, so the line carries the request id that
        // the server adds to the client's copy of this error.
        match self {
            Self::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            Self::DatabaseUnavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
            }
            _ => {}
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Self::Conflict {
                    field: Some(field), ..
                } => ext.set("field", field.as_str()),
                Self::RateLimited { retry_after_secs } => ext.set("retryAfter", *retry_after_secs),
                _ => {}
            }
        })
    }
}

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        err.extend()
    }
}

/// Gives every error a code. Ours carry one already; the rest come from async-graphql
/// itself: parse and validation errors (no path: the document was refused) and argument
/// values that don't coerce, such as a `DateTime` that is not RFC 3339 (with a path: a
/// field's input was refused).
///
/// Applied to whole responses at the executor's edge ([`crate::Api`]), not as a schema
/// extension: with any extension installed async-graphql routes every field through the
/// extension chain, which cost a wide query a sixth of its CPU.
/// async-graphql's messages for the limits it checks itself: its `ServerError` has no kind
/// to match, so these are recognised by their text, pinned by a test against the version
/// in `Cargo.lock`.
const ASYNC_GRAPHQL_TOO_DEEP: &str = "Query is nested too deep.";
const ASYNC_GRAPHQL_TOO_COMPLEX: &str = "Query is too complex.";
const ASYNC_GRAPHQL_TOO_MANY_DIRECTIVES: &str = "The number of directives on the field";

pub fn assign_codes(errors: &mut [async_graphql::ServerError]) {
    for error in errors {
        if error
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some())
        {
            continue;
        }
        let code = if error.message == ASYNC_GRAPHQL_TOO_DEEP {
            code::QUERY_TOO_DEEP
        } else if error.message == ASYNC_GRAPHQL_TOO_COMPLEX {
            error.message = too_complex_message();
            code::QUERY_TOO_COMPLEX
        } else if error.message.starts_with(ASYNC_GRAPHQL_TOO_MANY_DIRECTIVES) {
            code::QUERY_TOO_COMPLEX
        } else if error.path.is_empty() {
            code::GRAPHQL_VALIDATION_FAILED
        } else {
            code::BAD_USER_INPUT
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{ErrorExtensionValues, Value};

    use super::*;

    fn convert(err: Error) -> (String, ErrorExtensionValues) {
        let gql: async_graphql::Error = err.into();
        let ext = gql.extensions.unwrap_or_default();
        (gql.message, ext)
    }

    /// A schema of one field that async-graphql itself refuses past its limits.
    struct Probe;

    #[async_graphql::Object]
    impl Probe {
        async fn nested(&self) -> Probe {
            Probe
        }

        async fn leaf(&self) -> i32 {
            1
        }
    }

    #[tokio::test]
    async fn async_graphql_s_limit_messages_are_the_ones_recognised() {
        use async_graphql::{EmptyMutation, EmptySubscription, Schema};
        let run = |schema: Schema<Probe, EmptyMutation, EmptySubscription>, query: &str| {
            let query = query.to_owned();
            async move {
                let mut response = schema.execute(query).await;
                assign_codes(&mut response.errors);
                let error = response.errors.first().cloned().expect("a refusal");
                let code = error
                    .extensions
                    .as_ref()
                    .and_then(|ext| ext.get("code").cloned());
                (error.message, code)
            }
        };
        let schema = || Schema::build(Probe, EmptyMutation, EmptySubscription);
        let deep = run(
            schema().limit_depth(2).finish(),
            "{ nested { nested { leaf } } }",
        )
        .await;
        assert_eq!(deep.1, Some(code::QUERY_TOO_DEEP.into()), "{}", deep.0);
        let costly = run(
            schema().limit_complexity(2).finish(),
            "{ nested { nested { leaf } } }",
        )
        .await;
        assert_eq!(
            costly.1,
            Some(code::QUERY_TOO_COMPLEX.into()),
            "{}",
            costly.0
        );
        assert_eq!(costly.0, too_complex_message());
        let directives = run(
            schema().limit_directives(1).finish(),
            "{ leaf @skip(if: false) @include(if: true) }",
        )
        .await;
        assert_eq!(
            directives.1,
            Some(code::QUERY_TOO_COMPLEX.into()),
            "{}",
            directives.0
        );
    }

    #[test]
    fn every_code_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (name, _) in code::ALL {
            assert!(seen.insert(name), "{name} is listed twice");
            assert!(
                name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn the_too_complex_message_names_the_default_page_size() {
        let default = format!("(default {})", crate::connection::DEFAULT_FIRST);
        assert!(
            too_complex_message().contains(&default),
            "{}",
            too_complex_message()
        );
    }

    #[test]
    fn each_variant_maps_to_its_code() {
        let cases = [
            (Error::Unauthenticated, code::UNAUTHENTICATED),
            (Error::Forbidden, code::FORBIDDEN),
            (Error::NotFound, code::NOT_FOUND),
            (Error::bad_input("email", "bad"), code::BAD_USER_INPUT),
            (
                Error::Conflict {
                    field: None,
                    message: "taken".into(),
                },
                code::CONFLICT,
            ),
            (
                Error::RateLimited {
                    retry_after_secs: 3,
                },
                code::RATE_LIMITED,
            ),
            (
                Error::internal(std::io::Error::other("disk on fire")),
                code::INTERNAL,
            ),
        ];
        for (err, expected) in cases {
            let name = format!("{err:?}");
            let (_, ext) = convert(err);
            assert_eq!(
                ext.get("code"),
                Some(&Value::from(expected)),
                "{name} maps to {expected}"
            );
        }
    }

    #[test]
    fn field_errors_name_the_field() {
        let (message, ext) = convert(Error::bad_input("email", "not an email address"));
        assert_eq!(message, "not an email address");
        assert_eq!(ext.get("field"), Some(&Value::from("email")));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let (message, ext) = convert(Error::internal(std::io::Error::other(
            "relation \"users\" does not exist",
        )));
        assert_eq!(message, "internal error");
        assert_eq!(ext.get("field"), None);
    }

    #[test]
    fn an_unreachable_database_is_not_an_internal_error() {
        use sea_orm::sqlx::Error as Sqlx;
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        let sqlx = |err: Sqlx| RuntimeErr::SqlxError(Arc::new(err));
        let refused = || Sqlx::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let reset = || Sqlx::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let unavailable = [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::Conn(sqlx(refused())),
            DbErr::Conn(sqlx(Sqlx::Protocol(
                "unexpected response from SSLRequest".into(),
            ))),
            DbErr::Query(sqlx(reset())),
            DbErr::Exec(sqlx(Sqlx::PoolTimedOut)),
        ];
        for err in unavailable {
            let name = format!("{err:?}");
            let (message, ext) = convert(Error::from(err));
            assert_eq!(
                ext.get("code"),
                Some(&Value::from(code::DATABASE_UNAVAILABLE)),
                "{name}"
            );
            assert_eq!(message, "the database is unavailable, try again shortly");
        }
        let bugs = [
            DbErr::Query(sqlx(Sqlx::Protocol("garbled".into()))),
            DbErr::Exec(sqlx(Sqlx::RowNotFound)),
            DbErr::Custom("relation \"users\" does not exist".into()),
        ];
        for err in bugs {
            let name = format!("{err:?}");
            let (_, ext) = convert(Error::from(err));
            assert_eq!(
                ext.get("code"),
                Some(&Value::from(code::INTERNAL)),
                "{name}"
            );
        }
    }

    #[test]
    fn rate_limited_says_when_to_retry() {
        let (_, ext) = convert(Error::RateLimited {
            retry_after_secs: 42,
        });
        assert_eq!(ext.get("retryAfter"), Some(&Value::from(42u64)));
    }
}
