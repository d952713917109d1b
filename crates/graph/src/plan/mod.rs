//! The planned read path: a query that lies inside the planned types is answered by a
//! plan instead of field-by-field resolution, one statement per root type and per
//! connection field, selecting only the columns asked for, its `data` written straight
//! from the rows into one buffer.
//!
//! async-graphql still parses and validates every operation (and checks the limits
//! before that, [`crate::limits`]): the plan is made after validation, in a schema
//! extension ([`Planner`]), and only when the transport asked for one by putting a
//! [`PlanSlot`] in the request's data. When a plan can't answer exactly as the resolvers
//! would (a field it does not know, an error to report), the resolvers run the whole
//! operation: the plan is an optimisation, never a second meaning.
//!
//! Who may read what is asked of [`crate::policy`] as the resolvers ask it: the roles
//! come beside a by-id row ([`crate::policy::workspace_role_column`]) and lists carry the
//! same visibility condition as their loaders.

mod items;
mod json;
mod lists;
mod load;
mod rows;
mod run;
mod shape;
mod tree;
mod write;

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerResult, Variables};
use sea_orm::DatabaseConnection;

use crate::context::Authentication;
use crate::tally::{Fallback, Tally};

/// Where a planned operation's response body is left for the transport to finish: it holds
/// `{"data":` and the `data` (JSON), and the transport appends the rest of the response
/// (`,"extensions":…}`) to the same buffer, so the body is written once. The response the
/// schema returns then has no `data` of its own. Put one in a request's data to have it
/// planned.
#[derive(Clone, Default)]
pub struct PlanSlot(Arc<Mutex<Option<Vec<u8>>>>);

impl PlanSlot {
    /// The start of the planned body (see [`PlanSlot`]), if the operation was planned.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn put(&self, data: Vec<u8>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(data);
    }
}

/// The schema extension that plans the operations of requests carrying a [`PlanSlot`].
pub struct Planner;

impl ExtensionFactory for Planner {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PlannerExtension::default())
    }
}

/// One request's planner: the operation's name, document and variables, kept from
/// parsing for the plan made after validation.
#[derive(Default)]
struct PlannerExtension {
    operation_name: Mutex<Option<String>>,
    parsed: Mutex<Option<(ExecutableDocument, Variables)>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for PlannerExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self
            .operation_name
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        // Only a document with a query in it can be planned: mutations are not copied.
        let has_query = document
            .operations
            .iter()
            .any(|(_, operation)| operation.node.ty == OperationType::Query);
        if has_query && ctx.data_opt::<PlanSlot>().is_some() {
            *self.parsed.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((document.clone(), variables.clone()));
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let parsed = self
            .parsed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let (Some(slot), Some((document, variables))) = (ctx.data_opt::<PlanSlot>(), parsed) else {
            return next.run(ctx, operation_name).await;
        };
        let (Some(Authentication::Signed(viewer)), Some(db)) = (
            ctx.data_opt::<Authentication>(),
            ctx.data_opt::<DatabaseConnection>(),
        ) else {
            tally(ctx, Fallback::NoSession);
            tracing::debug!(reason = "no session", "operation not planned");
            return next.run(ctx, operation_name).await;
        };
        let requested = self
            .operation_name
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(plan) = shape::plan(&document, requested.as_deref(), &variables) else {
            tally(ctx, Fallback::Unplanned);
            tracing::debug!(
                reason = "outside the planned types",
                "operation not planned"
            );
            return next.run(ctx, operation_name).await;
        };
        match run::run(&plan, db, viewer.user_id).await {
            Ok(data) => {
                slot.put(data);
                Response::default()
            }
            Err(stop) => {
                tally(
                    ctx,
                    match stop {
                        json::Stop::Database(_) => Fallback::Database,
                        json::Stop::Fallback(_) | json::Stop::Write(_) => Fallback::Resolvers,
                    },
                );
                tracing::debug!(reason = %stop, "plan stopped");
                next.run(ctx, operation_name).await
            }
        }
    }
}

/// Counts a fallback in the API's [`Tally`], when the schema has one.
fn tally(ctx: &ExtensionContext<'_>, reason: Fallback) {
    if let Some(tally) = ctx.data_opt::<Tally>() {
        tally.plan_fallback(reason);
    }
}
