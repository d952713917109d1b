//! [`Api`]: the schema as the HTTP and WebSocket transports run it, with what every
//! operation gets around async-graphql's execution: untrusted documents refused, persisted
//! queries filled in, the document limits checked, codes on errors, the cost reported, and the planned read path
//! offered for queries.

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql::parser::types::{DocumentOperations, OperationType};

use crate::{WorkgraphSchema, error, persisted, plan, query_limits, trusted};

/// The schema as the transports run it: every response leaves with a code on each error
/// ([`error::assign_codes`]) and its cost ([`query_limits`]), over HTTP and WebSocket alike; a
/// persisted query's document is filled in from its hash ([`persisted`]), and a document
/// over the [`query_limits::Limits`] is refused before it runs.
#[derive(Clone)]
pub struct Api {
    pub schema: WorkgraphSchema,
    pub limits: query_limits::Limits,
    pub(crate) persisted: Option<Arc<persisted::PersistedQueries>>,
    pub(crate) trusted: Option<Arc<trusted::TrustedDocuments>>,
}

impl Api {
    /// Fills in a persisted query's document from its hash ([`persisted`]), as
    /// [`async_graphql::Executor::execute`] does first; a transport that must look at the
    /// document before it runs (`GET` runs queries only) calls this first. Answers the hash
    /// to keep the document under once it passes the limits.
    ///
    /// With trusted documents ([`trusted`]) this is where a request whose document is not
    /// listed is refused, unparsed; a hash is then looked up in the list only, and nothing
    /// is kept.
    pub fn resolve_persisted(
        &self,
        request: &mut async_graphql::Request,
    ) -> Result<Option<String>, ServerError> {
        if let Some(trusted) = &self.trusted {
            trusted.admit(request, self.limits.max_document_chars)?;
            return Ok(None);
        }
        match &self.persisted {
            Some(persisted) => persisted.resolve(request),
            None if request.query.is_empty() && persisted::requested_hash(request)?.is_some() => {
                Err(error::refusal(
                    error::code::PERSISTED_QUERY_NOT_SUPPORTED,
                    "persisted queries are turned off on this server: send the document".to_owned(),
                ))
            }
            None => Ok(None),
        }
    }

    /// Everything done to a request before async-graphql sees it: the persisted query
    /// filled in, the limits checked, and a document sent with its hash kept if it parsed
    /// and fits the limits. Answers the document's cost.
    fn prepare(&self, request: &mut async_graphql::Request) -> Result<Option<usize>, ServerError> {
        let keep = self.resolve_persisted(request)?;
        let cost = self.limits.check(request)?;
        if let (Some(persisted), Some(hash), Some(_)) = (&self.persisted, keep, cost) {
            persisted.keep(hash, &request.query);
        }
        Ok(cost)
    }
}

/// The planned `data` of each operation of a batch, in order: `None` for one the
/// resolvers answered (its response carries its `data`).
pub type PlannedData = Vec<Option<Vec<u8>>>;

/// The operation a request ran: its type and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub ty: OperationType,
    /// `None` for an anonymous one.
    pub name: Option<String>,
}

/// The operation of each request of a batch, in order: `None` for one refused before its
/// document was read or naming no operation it has.
pub type Operations = Vec<Option<Operation>>;

impl Api {
    /// Runs `batch` as [`async_graphql::Executor::execute_batch`] does, and with `plan`
    /// lets the planned read path ([`plan`]) answer the queries it covers: their `data`
    /// comes back as JSON beside a response that has none of its own, for the transport
    /// to write in its place.
    pub async fn answer_batch(
        &self,
        batch: async_graphql::BatchRequest,
        plan: bool,
    ) -> (async_graphql::BatchResponse, PlannedData, Operations) {
        let answer = |request: async_graphql::Request| async move {
            if !plan {
                let (response, ty) = self.run(request).await;
                return (response, None, ty);
            }
            let slot = plan::PlanSlot::default();
            let (response, ty) = self.run(request.data(slot.clone())).await;
            (response, slot.take(), ty)
        };
        match batch {
            async_graphql::BatchRequest::Single(request) => {
                let (response, planned, ty) = answer(request).await;
                (
                    async_graphql::BatchResponse::Single(response),
                    vec![planned],
                    vec![ty],
                )
            }
            async_graphql::BatchRequest::Batch(requests) => {
                let mut responses = Vec::with_capacity(requests.len());
                let mut planned = Vec::with_capacity(requests.len());
                let mut types = Vec::with_capacity(requests.len());
                for request in requests {
                    let (response, data, ty) = answer(request).await;
                    responses.push(response);
                    planned.push(data);
                    types.push(ty);
                }
                (
                    async_graphql::BatchResponse::Batch(responses),
                    planned,
                    types,
                )
            }
        }
    }

    /// The operation `request` selects, once [`Api::prepare`] answered `cost`: its document
    /// is parsed by then (the limits parsed it), and one that did not parse (no cost) is
    /// not parsed twice.
    fn operation(
        &self,
        request: &mut async_graphql::Request,
        cost: Option<usize>,
    ) -> Option<Operation> {
        cost?;
        let (document, operation) =
            query_limits::selected_operation(request, self.limits.max_document_chars)?;
        let name = match &document.operations {
            DocumentOperations::Single(_) => None,
            DocumentOperations::Multiple(operations) => operations
                .iter()
                .find(|(_, named)| std::ptr::eq(*named, operation))
                .map(|(name, _)| name.to_string()),
        };
        Some(Operation {
            ty: operation.node.ty,
            name,
        })
    }

    /// [`async_graphql::Executor::execute_stream`], answering also the operation (`None`
    /// for one refused before its document was read).
    pub fn open_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<std::sync::Arc<async_graphql::Data>>,
    ) -> (
        Option<Operation>,
        async_graphql::futures_util::stream::BoxStream<'static, async_graphql::Response>,
    ) {
        use async_graphql::futures_util::StreamExt;
        let cost = match self.prepare(&mut request) {
            Ok(cost) => cost,
            Err(refused) => {
                let response = async_graphql::Response::from_errors(vec![refused]);
                let once = async_graphql::futures_util::stream::once(async move { response });
                return (None, once.boxed());
            }
        };
        let ty = self.operation(&mut request, cost);
        let maximum = self.limits.max_complexity;
        let stream = self
            .schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |mut response| {
                error::assign_codes(&mut response.errors);
                match cost {
                    Some(cost) => {
                        response.extension("cost", query_limits::cost_report(cost, maximum))
                    }
                    None => response,
                }
            })
            .boxed();
        (ty, stream)
    }

    /// [`async_graphql::Executor::execute`], answering also the operation.
    async fn run(
        &self,
        mut request: async_graphql::Request,
    ) -> (async_graphql::Response, Option<Operation>) {
        let cost = match self.prepare(&mut request) {
            Ok(cost) => cost,
            Err(refused) => return (async_graphql::Response::from_errors(vec![refused]), None),
        };
        let ty = self.operation(&mut request, cost);
        let mut response = self.schema.execute(request).await;
        error::assign_codes(&mut response.errors);
        let response = match cost {
            Some(cost) => response.extension(
                "cost",
                query_limits::cost_report(cost, self.limits.max_complexity),
            ),
            None => response,
        };
        (response, ty)
    }
}

impl async_graphql::Executor for Api {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        self.run(request).await.0
    }

    /// Runs a batch's operations one after another, not concurrently as async-graphql
    /// does: each `logIn` of a batch then meets the failures its predecessors recorded, so
    /// a batch can't try more passwords than separate requests could, and one batch can't
    /// take more than its share of the cores.
    async fn execute_batch(
        &self,
        batch: async_graphql::BatchRequest,
    ) -> async_graphql::BatchResponse {
        match batch {
            async_graphql::BatchRequest::Single(request) => {
                async_graphql::BatchResponse::Single(self.execute(request).await)
            }
            async_graphql::BatchRequest::Batch(requests) => {
                let mut responses = Vec::with_capacity(requests.len());
                for request in requests {
                    responses.push(self.execute(request).await);
                }
                async_graphql::BatchResponse::Batch(responses)
            }
        }
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<std::sync::Arc<async_graphql::Data>>,
    ) -> async_graphql::futures_util::stream::BoxStream<'static, async_graphql::Response> {
        self.open_stream(request, session_data).1
    }
}
