//! Trusted documents: a server that runs only the operations its own front ends were built
//! with. The list is a JSON object of `sha256 hex → document`, as GraphQL Code Generator's
//! client preset writes it with `persistedDocuments: true` (`persisted-documents.json`).
//!
//! A request names a listed document by its hash (`extensions.persistedQuery.sha256Hash`,
//! or the client preset's `documentId`, which the server reads into the same place) or
//! sends its full text; the text is hashed exactly as sent (no whitespace or formatting is
//! normalised) and looked up. Anything else is refused with `DOCUMENT_NOT_TRUSTED` before
//! it is parsed: one hash lookup per request, and one SHA-256 when the text came. While the
//! list is on, automatic persisted queries register nothing: a hash is looked up in the
//! list only.
//!
//! The one exception is introspection, when the operator turned it on explicitly: then a
//! document that asks for nothing but `__schema`, `__type` and `__typename` runs too (so
//! GraphiQL and code generators can read the schema). That check parses the document,
//! within the length limit.
//!
//! The list is swapped whole on reload ([`TrustedDocuments::replace`]); a request holds the
//! set it started with, so a reload drops nothing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, ServerError};
use sha2::{Digest, Sha256};

use crate::error::{code, refusal};
use crate::persisted;
use crate::query_limits;

/// Why a list of trusted documents could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("not a JSON object of `sha256 hash → document` (persisted-documents.json)")]
    NotAnObject,
    #[error("the entry {hash:?} is not a string")]
    NotAString { hash: String },
    #[error(
        "the key {hash:?} is not a SHA-256 hash (64 hex digits); generate the file with \
         `persistedDocuments: {{ hashAlgorithm: 'sha256' }}`"
    )]
    NotAHash { hash: String },
    #[error("the key {hash:?} is not the SHA-256 of its document ({actual}); regenerate the file")]
    WrongHash { hash: String, actual: String },
}

/// One loaded list: documents by the lower-case hex SHA-256 of their text.
#[derive(Debug, Default)]
pub struct DocumentSet {
    by_hash: HashMap<String, Arc<str>>,
}

impl DocumentSet {
    /// Reads a `persisted-documents.json`. Every key must be the SHA-256 of its document as
    /// written (checked here, so a request's text and its hash can't disagree later).
    pub fn from_json(text: &str) -> Result<Self, LoadError> {
        let serde_json::Value::Object(entries) = serde_json::from_str(text)? else {
            return Err(LoadError::NotAnObject);
        };
        let mut by_hash = HashMap::with_capacity(entries.len());
        for (key, document) in entries {
            let serde_json::Value::String(document) = document else {
                return Err(LoadError::NotAString { hash: key });
            };
            if key.len() != 64 || !key.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(LoadError::NotAHash { hash: key });
            }
            let hash = key.to_ascii_lowercase();
            let actual = sha256_hex(&document);
            if actual != hash {
                return Err(LoadError::WrongHash { hash: key, actual });
            }
            by_hash.insert(hash, Arc::from(document));
        }
        Ok(Self { by_hash })
    }

    /// How many documents the list holds.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the list is empty (then every request is refused).
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// The list in force, swapped whole on reload.
#[derive(Debug)]
pub struct TrustedDocuments {
    current: RwLock<Arc<DocumentSet>>,
    /// Whether an unlisted document that only introspects may run: the operator turned
    /// introspection on explicitly.
    introspection: bool,
}

/// The mark a request gets once admitted, so a transport that checks it early (`GET`)
/// doesn't have it looked up twice.
struct Admitted;

impl TrustedDocuments {
    /// Admits the documents of `set`, and with `introspection` any document that only
    /// introspects.
    pub fn new(set: DocumentSet, introspection: bool) -> Self {
        Self {
            current: RwLock::new(Arc::new(set)),
            introspection,
        }
    }

    /// Puts `set` in force; requests already admitted keep running.
    pub fn replace(&self, set: DocumentSet) {
        let set = Arc::new(set);
        match self.current.write() {
            Ok(mut current) => *current = set,
            // A panic while holding the lock can't leave a half-written `Arc`.
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    /// How many documents are in force.
    pub fn len(&self) -> usize {
        self.current().len()
    }

    /// Whether no document is in force.
    pub fn is_empty(&self) -> bool {
        self.current().is_empty()
    }

    fn current(&self) -> Arc<DocumentSet> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Lets `request` through if its document is listed, filling in the text when only
    /// the hash came; refuses it with `DOCUMENT_NOT_TRUSTED` otherwise, unparsed.
    /// `max_chars` bounds the document parsed to tell introspection apart.
    pub fn admit(&self, request: &mut Request, max_chars: usize) -> Result<(), ServerError> {
        if request
            .data
            .contains_key(&std::any::TypeId::of::<Admitted>())
        {
            return Ok(());
        }
        let set = self.current();
        match persisted::requested_hash(request)? {
            Some(hash) => {
                let Some(document) = set.by_hash.get(&hash) else {
                    return Err(not_trusted(
                        "the document of this hash is not among the server's trusted documents",
                    ));
                };
                if request.query.is_empty() {
                    request.query = document.to_string();
                } else if request.query.as_str() != &**document {
                    // Keys are checked against their text at load: equal text is equal hash.
                    return Err(not_trusted(
                        "the query sent is not the trusted document its hash names; send the \
                         hash alone",
                    ));
                }
            }
            None => {
                let admitted = set.by_hash.contains_key(&sha256_hex(&request.query))
                    || (self.introspection && only_introspects(request, max_chars));
                if !admitted {
                    return Err(not_trusted(
                        "this server runs only its trusted documents, and this is not one of \
                         them (the text is compared exactly as sent)",
                    ));
                }
            }
        }
        request.data.insert(Admitted);
        Ok(())
    }
}

fn not_trusted(message: &str) -> ServerError {
    refusal(code::DOCUMENT_NOT_TRUSTED, message.to_owned())
}

/// The lower-case hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether the operation `request` selects is a query that asks for nothing but
/// `__schema`, `__type` and `__typename` at its root (through fragments too). A document
/// over `max_chars`, that does not parse or names no operation it has is not.
fn only_introspects(request: &mut Request, max_chars: usize) -> bool {
    let Some((document, operation)) = query_limits::selected_operation(request, max_chars) else {
        return false;
    };
    operation.node.ty == OperationType::Query
        && introspects_only(
            document,
            &operation.node.selection_set.node,
            &mut HashSet::new(),
        )
}

fn introspects_only<'a>(
    document: &'a ExecutableDocument,
    selections: &'a SelectionSet,
    seen: &mut HashSet<&'a str>,
) -> bool {
    selections
        .items
        .iter()
        .all(|selection| match &selection.node {
            Selection::Field(field) => matches!(
                field.node.name.node.as_str(),
                "__schema" | "__type" | "__typename"
            ),
            Selection::InlineFragment(fragment) => {
                introspects_only(document, &fragment.node.selection_set.node, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                // A fragment met again adds nothing (and a cycle fails validation later).
                if !seen.insert(name) {
                    return true;
                }
                document.fragments.get(name).is_some_and(|fragment| {
                    introspects_only(document, &fragment.node.selection_set.node, seen)
                })
            }
        })
}

#[cfg(test)]
mod tests {
    use async_graphql::Value;

    use super::*;

    const ME: &str = "query Me { me { id } }";

    fn listed(introspection: bool) -> TrustedDocuments {
        let json = serde_json::json!({ sha256_hex(ME): ME }).to_string();
        TrustedDocuments::new(
            DocumentSet::from_json(&json).expect("a valid list"),
            introspection,
        )
    }

    fn by_hash(hash: &str, query: &str) -> Request {
        let mut request = Request::new(query);
        let extension = serde_json::json!({ "version": 1, "sha256Hash": hash });
        request.extensions.insert(
            "persistedQuery".to_owned(),
            Value::from_json(extension).expect("JSON converts"),
        );
        request
    }

    fn code_of(result: Result<(), ServerError>) -> Option<String> {
        match result.err()?.extensions?.get("code")? {
            Value::String(code) => Some(code.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_listed_hash_fills_in_its_document() {
        let trusted = listed(false);
        let mut request = by_hash(&sha256_hex(ME).to_ascii_uppercase(), "");
        trusted.admit(&mut request, 1000).expect("listed");
        assert_eq!(request.query, ME);
    }

    #[test]
    fn listed_text_passes_and_other_text_does_not() {
        let trusted = listed(false);
        assert!(trusted.admit(&mut Request::new(ME), 1000).is_ok());
        let reformatted = "query Me { me { id }}";
        assert_eq!(
            code_of(trusted.admit(&mut Request::new(reformatted), 1000)).as_deref(),
            Some("DOCUMENT_NOT_TRUSTED")
        );
    }

    #[test]
    fn an_unlisted_hash_registers_nothing() {
        let trusted = listed(false);
        let other = "{ workspaces { totalCount } }";
        for query in [other, ""] {
            let result = trusted.admit(&mut by_hash(&sha256_hex(other), query), 1000);
            assert_eq!(code_of(result).as_deref(), Some("DOCUMENT_NOT_TRUSTED"));
        }
        let mismatched = trusted.admit(&mut by_hash(&sha256_hex(ME), other), 1000);
        assert_eq!(code_of(mismatched).as_deref(), Some("DOCUMENT_NOT_TRUSTED"));
    }

    #[test]
    fn introspection_passes_only_when_turned_on() {
        let introspection =
            "query I { __schema { queryType { name } } ...T } fragment T on Query { __typename }";
        let mixed = "{ __typename me { id } }";
        let off = listed(false);
        assert!(off.admit(&mut Request::new(introspection), 1000).is_err());
        let on = listed(true);
        assert!(on.admit(&mut Request::new(introspection), 1000).is_ok());
        assert!(on.admit(&mut Request::new(mixed), 1000).is_err());
        assert!(on.admit(&mut Request::new(introspection), 10).is_err());
        let spread_twice = "{ ...A ...A } fragment A on Query { __typename ...A }";
        assert!(on.admit(&mut Request::new(spread_twice), 1000).is_ok());
    }

    #[test]
    fn a_replaced_list_is_in_force_at_once() {
        let trusted = listed(false);
        trusted.replace(DocumentSet::default());
        assert!(trusted.is_empty());
        assert!(trusted.admit(&mut Request::new(ME), 1000).is_err());
    }

    #[test]
    fn bad_lists_are_refused_with_the_reason() {
        let cases = [
            ("[]", "not a JSON object"),
            ("{", "not JSON"),
            (r#"{"ab": "{ me { id } }"}"#, "not a SHA-256 hash"),
            (&format!(r#"{{"{}": 1}}"#, sha256_hex(ME)), "not a string"),
            (
                &format!(r#"{{"{}": "{{ me {{ name }} }}"}}"#, sha256_hex(ME)),
                "not the SHA-256 of its document",
            ),
        ];
        for (json, reason) in cases {
            let err = DocumentSet::from_json(json).expect_err(json);
            assert!(err.to_string().contains(reason), "{json}: {err}");
        }
    }
}
