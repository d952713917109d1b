//! Cross-origin access for browser apps served from other origins: only the origins in
//! `WORKGRAPH_CORS_ORIGINS` may call the API, with the methods and headers a GraphQL
//! client sends. Without the setting the server sends no CORS headers, so browsers keep
//! other origins' scripts from reading its answers.

use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The CORS layer for a comma-separated list of origins (`scheme://host[:port]`), or
/// `None` when the list is empty. Refuses `*` and anything that is not an origin, so a
/// typo is a start-up error rather than an open door or a silent lock-out.
pub fn layer(origins: &str) -> anyhow::Result<Option<CorsLayer>> {
    let origins = origins
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(parse_origin)
        .collect::<anyhow::Result<Vec<_>>>()?;
    if origins.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(600)),
    ))
}

fn parse_origin(origin: &str) -> anyhow::Result<HeaderValue> {
    if origin == "*" {
        bail!("WORKGRAPH_CORS_ORIGINS: list the allowed origins; `*` is not accepted");
    }
    let Some((scheme, host)) = origin.split_once("://") else {
        bail!("WORKGRAPH_CORS_ORIGINS: `{origin}` is not an origin like https://app.example.com");
    };
    if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains('/') {
        bail!(
            "WORKGRAPH_CORS_ORIGINS: `{origin}` is not an origin (scheme://host[:port], no path)"
        );
    }
    HeaderValue::from_str(origin)
        .with_context(|| format!("WORKGRAPH_CORS_ORIGINS: `{origin}` is not a valid header value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_no_layer() {
        assert!(layer("").expect("empty is fine").is_none());
        assert!(layer(" , ").expect("blanks are fine").is_none());
    }

    #[test]
    fn origins_are_checked() {
        assert!(
            layer("https://app.example.com, http://localhost:5173")
                .expect("two origins")
                .is_some()
        );
        for bad in [
            "*",
            "app.example.com",
            "https://app.example.com/path",
            "ftp://x",
        ] {
            assert!(layer(bad).is_err(), "{bad}");
        }
    }
}
