//! Which media type a GraphQL response is sent as, from the request's `Accept` header
//! (GraphQL over HTTP, "Accept" and "Legacy watershed").
//!
//! `application/graphql-response+json` is chosen when the client names it at least as
//! highly as `application/json`. `application/json` is chosen when only it is named, when
//! the client accepts anything (`*/*`, `application/*`) and when there is no `Accept` at
//! all: that is what clients written before the new type existed expect, and what the spec
//! asks of a server for them. Neither acceptable is 406.

use axum::http::{HeaderMap, HeaderValue, header};

/// The media types a GraphQL response can be sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: the status code says whether the request was
    /// executed (400 for a document that does not parse or validate, no `data` entry).
    GraphQlResponse,
    /// `application/json`: 200 for every well-formed GraphQL request, as legacy clients
    /// expect; the body alone tells success from failure.
    Json,
}

impl MediaType {
    const GRAPHQL_RESPONSE: &'static str = "application/graphql-response+json";
    const JSON: &'static str = "application/json";

    /// The `Content-Type` value (UTF-8 is JSON's only encoding; the charset says it for
    /// clients that look).
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphQlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }
}

/// What the `Accept` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The GraphQL media type to answer in, `None` when the client accepts neither (406).
    pub media_type: Option<MediaType>,
    /// Whether the client prefers `text/html` to both GraphQL types: a browser opening
    /// the endpoint, which gets GraphiQL.
    pub prefers_html: bool,
}

/// Reads the `Accept` header(s). An absent or empty header accepts anything.
pub fn negotiate(headers: &HeaderMap) -> Negotiated {
    let ranges: Vec<Range<'_>> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(Range::parse)
        .collect();
    if ranges.is_empty() {
        return Negotiated {
            media_type: Some(MediaType::Json),
            prefers_html: false,
        };
    }
    let graphql_response = Preference::of(&ranges, MediaType::GRAPHQL_RESPONSE);
    let json = Preference::of(&ranges, MediaType::JSON);
    let html = Preference::of(&ranges, "text/html");
    // On a tie, the type the client named outright wins; when both were named alike the
    // newer one does, when both came from a wildcard the legacy one does.
    let best = if graphql_response > json
        || (graphql_response == json && graphql_response.specificity == Specificity::Exact)
    {
        graphql_response
            .accepted()
            .then_some(MediaType::GraphQlResponse)
    } else {
        json.accepted().then_some(MediaType::Json)
    };
    let best_graphql = graphql_response.max(json);
    Negotiated {
        media_type: best,
        prefers_html: html.accepted() && html > best_graphql,
    }
}

/// How closely a media range matched a type, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Specificity {
    None,
    Any,
    Type,
    Exact,
}

/// A type's weight in the header: the `q` of the most specific range that matches it.
/// Ordered by weight, then by how specifically the client named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Preference {
    /// `q` in thousandths (the header allows three decimals).
    weight: u16,
    specificity: Specificity,
}

impl Preference {
    fn of(ranges: &[Range<'_>], media_type: &str) -> Self {
        let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
        ranges
            .iter()
            .filter_map(|range| {
                let specificity = if range.essence.eq_ignore_ascii_case(media_type) {
                    Specificity::Exact
                } else if range.essence == "*/*" {
                    Specificity::Any
                } else if range
                    .essence
                    .strip_suffix("/*")
                    .is_some_and(|prefix| prefix.eq_ignore_ascii_case(kind))
                {
                    Specificity::Type
                } else {
                    return None;
                };
                Some((specificity, range.weight))
            })
            // The most specific range decides, even when it weighs less (`*/*, text/html;q=0`).
            .max_by_key(|&(specificity, weight)| (specificity, weight))
            .map_or(
                Self {
                    weight: 0,
                    specificity: Specificity::None,
                },
                |(specificity, weight)| Self {
                    weight,
                    specificity,
                },
            )
    }

    fn accepted(self) -> bool {
        self.weight > 0
    }
}

/// One media range of an `Accept` header: `type/subtype` and its `q`.
struct Range<'a> {
    essence: &'a str,
    weight: u16,
}

impl<'a> Range<'a> {
    /// `None` for an empty or malformed element, which then counts for nothing.
    fn parse(element: &'a str) -> Option<Self> {
        let mut parts = element.split(';');
        let essence = parts.next()?.trim();
        if !essence.contains('/') {
            return None;
        }
        let mut weight = 1000;
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                weight = parse_q(value.trim())?;
            }
        }
        Some(Self { essence, weight })
    }
}

/// `q` (`0` to `1` with at most three decimals, RFC 9110's `qvalue`) in thousandths;
/// `None` when malformed.
fn parse_q(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let fraction: u16 = format!("{fraction:0<3}").parse().ok()?;
    let q = whole + fraction;
    (q <= 1000).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: Option<&str>) -> Negotiated {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(
                header::ACCEPT,
                HeaderValue::from_str(value).unwrap_or_else(|err| panic!("{value}: {err}")),
            );
        }
        negotiate(&headers)
    }

    #[test]
    fn media_type_per_accept_header() {
        use MediaType::{GraphQlResponse, Json};
        let cases: &[(Option<&str>, Option<MediaType>)] = &[
            (None, Some(Json)),
            (Some(""), Some(Json)),
            (Some("*/*"), Some(Json)),
            (Some("application/*"), Some(Json)),
            (Some("application/json"), Some(Json)),
            (Some("application/json; charset=utf-8"), Some(Json)),
            (
                Some("application/graphql-response+json"),
                Some(GraphQlResponse),
            ),
            (
                Some("application/graphql-response+json, application/json;q=0.9"),
                Some(GraphQlResponse),
            ),
            (
                Some("application/json, application/graphql-response+json"),
                Some(GraphQlResponse),
            ),
            (
                Some("application/graphql-response+json;q=0.5, application/json"),
                Some(Json),
            ),
            (
                Some("application/graphql-response+json, */*;q=0.1"),
                Some(GraphQlResponse),
            ),
            (Some("*/*, application/json;q=0"), Some(GraphQlResponse)),
            (
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                Some(Json),
            ),
            (Some("text/html"), None),
            (Some("application/xml"), None),
            (Some("application/json;q=0"), None),
            (Some("application/json;q=0.5"), Some(Json)),
            // A malformed header counts as none.
            (Some("application/json;q=2"), Some(Json)),
            (Some("nonsense"), Some(Json)),
        ];
        for (header, expected) in cases {
            assert_eq!(accept(*header).media_type, *expected, "Accept: {header:?}");
        }
    }

    #[test]
    fn a_browser_prefers_html() {
        let cases: &[(Option<&str>, bool)] = &[
            (
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                true,
            ),
            (Some("text/html"), true),
            (Some("text/*"), true),
            (Some("*/*"), false),
            (None, false),
            (Some("application/json"), false),
            (Some("text/html;q=0.5, application/json"), false),
            (Some("text/html, application/json"), false),
        ];
        for (header, expected) in cases {
            assert_eq!(
                accept(*header).prefers_html,
                *expected,
                "Accept: {header:?}"
            );
        }
    }
}
