//! Automatic persisted queries, as Apollo Client's persisted-queries link speaks them: a
//! client first sends only the SHA-256 of its document in
//! `extensions.persistedQuery = {version: 1, sha256Hash}`; an unknown hash is answered with
//! `PERSISTED_QUERY_NOT_FOUND`, the client resends with the document, and the server keeps
//! it for the next time.
//!
//! Done here rather than with async-graphql's extension: any schema extension sends every
//! field's resolution through the extension chain, which costs a wide query a sixth of its
//! CPU. A document is kept only once it has passed the limits ([`crate::limits`]), and passes
//! them again each time it is used.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_graphql::{Request, ServerError, Value};
use sha2::{Digest, Sha256};

use crate::error::code;
use crate::error::refusal;

/// The documents kept, by hash; the oldest goes when `capacity` is reached.
pub struct PersistedQueries {
    capacity: usize,
    documents: Mutex<Documents>,
}

#[derive(Default)]
struct Documents {
    by_hash: HashMap<String, Arc<str>>,
    order: VecDeque<String>,
}

impl PersistedQueries {
    /// Keeps at most `capacity` documents (each at most the document-size limit long).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            documents: Mutex::new(Documents::default()),
        }
    }

    /// Fills in `request`'s document from its hash when it came without one. When it came
    /// with one, checks the hash and answers it: the caller [`keep`](Self::keep)s the
    /// document once it has passed the limits. `extensions.persistedQuery` stays on the
    /// request, so doing this twice is harmless. Requests without it pass untouched.
    pub fn resolve(&self, request: &mut Request) -> Result<Option<String>, ServerError> {
        let Some(hash) = requested_hash(request)? else {
            return Ok(None);
        };
        if request.query.is_empty() {
            let found = self
                .documents
                .lock()
                .ok()
                .and_then(|documents| documents.by_hash.get(&hash).cloned());
            return match found {
                Some(document) => {
                    request.query = document.to_string();
                    Ok(None)
                }
                // Apollo's link looks for this exact message (older versions) or the code.
                None => Err(refusal(
                    code::PERSISTED_QUERY_NOT_FOUND,
                    "PersistedQueryNotFound".to_owned(),
                )),
            };
        }
        if hex(&Sha256::digest(request.query.as_bytes())) != hash {
            return Err(refusal(
                code::BAD_USER_INPUT,
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query".to_owned(),
            ));
        }
        Ok(Some(hash))
    }

    /// Keeps `document` under `hash` (the oldest goes when full).
    pub fn keep(&self, hash: String, document: &str) {
        let Ok(mut documents) = self.documents.lock() else {
            return;
        };
        if documents.by_hash.contains_key(&hash) {
            return;
        }
        if documents.order.len() >= self.capacity
            && let Some(oldest) = documents.order.pop_front()
        {
            documents.by_hash.remove(&oldest);
        }
        documents.by_hash.insert(hash.clone(), Arc::from(document));
        documents.order.push_back(hash);
    }
}

/// The hash `extensions.persistedQuery` names, lower-cased; `None` without the extension.
pub fn requested_hash(request: &Request) -> Result<Option<String>, ServerError> {
    let Some(extension) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let (version, hash) = match extension {
        Value::Object(fields) => (fields.get("version"), fields.get("sha256Hash")),
        _ => (None, None),
    };
    if version != Some(&Value::from(1)) {
        return Err(refusal(
            code::PERSISTED_QUERY_NOT_SUPPORTED,
            "only version 1 of extensions.persistedQuery is supported".to_owned(),
        ));
    }
    match hash {
        Some(Value::String(hash)) => Ok(Some(hash.to_ascii_lowercase())),
        _ => Err(refusal(
            code::BAD_USER_INPUT,
            "extensions.persistedQuery needs sha256Hash".to_owned(),
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_extension(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        let extension = serde_json::json!({ "version": 1, "sha256Hash": hash });
        request.extensions.insert(
            "persistedQuery".to_owned(),
            Value::from_json(extension).expect("JSON converts"),
        );
        request
    }

    fn code_of(error: &ServerError) -> Option<String> {
        match error.extensions.as_ref()?.get("code")? {
            Value::String(code) => Some(code.clone()),
            _ => None,
        }
    }

    #[test]
    fn unknown_then_sent_then_known() {
        let cache = PersistedQueries::new(2);
        let query = "{ me { id } }";
        let hash = hex(&Sha256::digest(query.as_bytes()));
        let err = cache
            .resolve(&mut with_extension("", &hash))
            .expect_err("not kept yet");
        assert_eq!(code_of(&err).as_deref(), Some("PERSISTED_QUERY_NOT_FOUND"));
        let kept = cache
            .resolve(&mut with_extension(query, &hash))
            .expect("the hash matches");
        assert_eq!(kept.as_deref(), Some(hash.as_str()));
        cache.keep(hash.clone(), query);
        let mut request = with_extension("", &hash);
        cache.resolve(&mut request).expect("found");
        assert_eq!(request.query, query);
    }

    #[test]
    fn a_wrong_hash_is_refused_and_not_kept() {
        let cache = PersistedQueries::new(2);
        let hash = hex(&Sha256::digest(b"{ me { id } }"));
        let err = cache
            .resolve(&mut with_extension("{ workspaces { totalCount } }", &hash))
            .expect_err("a hash of another document");
        assert_eq!(code_of(&err).as_deref(), Some("BAD_USER_INPUT"));
        assert!(cache.resolve(&mut with_extension("", &hash)).is_err());
    }

    #[test]
    fn the_oldest_document_goes_first() {
        let cache = PersistedQueries::new(2);
        let queries = ["{ a }", "{ b }", "{ c }"];
        for query in queries {
            cache.keep(hex(&Sha256::digest(query.as_bytes())), query);
        }
        let found = |query: &str| {
            let hash = hex(&Sha256::digest(query.as_bytes()));
            cache.resolve(&mut with_extension("", &hash)).is_ok()
        };
        assert!(!found("{ a }"));
        assert!(found("{ b }") && found("{ c }"));
    }
}
