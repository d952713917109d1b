//! The executor a WebSocket runs its operations with: the API's, with what HTTP gives each
//! request around it: queries and mutations under the request time limit, and an id per
//! operation in its log span and in every `INTERNAL` error it answers.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_graphql::futures_util::stream::BoxStream;
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response};
use futures_util::{Stream, StreamExt};
use graph::time_limit::OperationTimeout;
use uuid::Uuid;

use crate::app::RequestId;
use crate::metrics::{self, Metrics, Timed, Transport};
use crate::respond::stamp_request_id;

#[derive(Clone)]
pub(super) struct SocketExecutor {
    pub(super) api: graph::Api,
    /// How long a query or mutation may run.
    pub(super) timeout: Duration,
    pub(super) metrics: Metrics,
}

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> Response {
        let id = RequestId(Uuid::now_v7());
        let mut response = self
            .api
            .execute(request.data(OperationTimeout(self.timeout)))
            .await;
        stamp_request_id(&mut response.errors, id);
        response
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let id = RequestId(Uuid::now_v7());
        let span = tracing::info_span!(
            "operation",
            transport = "websocket",
            request_id = %id.0,
            operation = request.operation_name.as_deref().unwrap_or_default(),
        );
        let started = Instant::now();
        let (ty, stream) = {
            let _entered = span.enter();
            self.api
                .open_stream(request.data(OperationTimeout(self.timeout)), session_data)
        };
        let metrics = self.metrics.clone();
        let subscribes = ty
            .as_ref()
            .is_some_and(|operation| operation.ty == OperationType::Subscription);
        // Held by the stream: the subscription counts as running until the stream ends.
        let running = subscribes.then(|| metrics.subscription());
        let mut first = true;
        InSpan { stream, span }
            .map(move |mut response| {
                let _running = &running;
                if first {
                    // The first answer tells how the operation went: a subscription's
                    // first event, or a query's only response.
                    first = false;
                    metrics.request(
                        Transport::WebSocket,
                        metrics::operation_label(ty.as_ref().map(|operation| operation.ty)),
                        metrics::outcome(&response.errors),
                    );
                    if !subscribes {
                        let name = ty.as_ref().and_then(|operation| operation.name.as_deref());
                        metrics.duration(Timed::Operation(name), started.elapsed());
                    }
                }
                stamp_request_id(&mut response.errors, id);
                response
            })
            .boxed()
    }
}

/// A stream polled inside `span`, so what its operation logs carries the operation's id.
struct InSpan<S> {
    stream: S,
    span: tracing::Span,
}

impl<S: Stream + Unpin> Stream for InSpan<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        this.stream.poll_next_unpin(cx)
    }
}
