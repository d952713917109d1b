//! A time limit on one query or mutation, for a transport that carries many operations on
//! one connection (a WebSocket): past it, the operation is dropped (a mutation's
//! transaction rolls back) and answered with `TIMEOUT`. HTTP times each request itself,
//! reading its body included, so only operations that carry an [`OperationTimeout`] are
//! timed here. Subscriptions are not: they run as long as their socket.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Response;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};

use crate::error::code;
use crate::error::refusal;

/// How long the operation it comes with may run (in the request's or the socket's data).
#[derive(Debug, Clone, Copy)]
pub struct OperationTimeout(pub Duration);

/// The schema extension that applies [`OperationTimeout`].
pub struct TimeLimit;

impl ExtensionFactory for TimeLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(TimeLimit)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for TimeLimit {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let Some(&OperationTimeout(limit)) = ctx.data_opt::<OperationTimeout>() else {
            return next.run(ctx, operation_name).await;
        };
        match tokio::time::timeout(limit, next.run(ctx, operation_name)).await {
            Ok(response) => response,
            Err(_elapsed) => Response::from_errors(vec![refusal(
                code::TIMEOUT,
                format!(
                    "the operation took longer than {} s and was stopped",
                    limit.as_secs()
                ),
            )]),
        }
    }
}
