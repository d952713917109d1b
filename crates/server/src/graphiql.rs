//! GraphiQL, the in-browser IDE on `GET /graphql`, working without the internet.
//!
//! GraphiQL's bundles are committed in `crates/server/graphiql/vendor/` and inside the
//! binary (`build.rs`): the page loads them from `/graphiql/<version>/<name>` on this server
//! and its Content-Security-Policy allows nothing else, so it works with no network at
//! build or run time.
//!
//! The page shows the headers editor, for `{"Authorization": "Bearer <token>"}`; queries go
//! to `POST /graphql` with those headers, subscriptions to `/graphql/ws` over
//! graphql-transport-ws with `{"authorization": <that header>}` as the `connection_init`
//! payload (`graphiql/workgraph.js`).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// One file the page loads, served from memory.
pub struct Asset {
    /// Its name in `/graphiql/<version>/<name>`.
    pub name: &'static str,
    /// The `Content-Type` it is served with.
    pub content_type: &'static str,
    pub body: &'static [u8],
}

mod generated {
    use super::Asset;

    include!(concat!(env!("OUT_DIR"), "/graphiql_assets.rs"));
}

/// The path segment that changes whenever an asset does, so assets may be cached forever.
pub const VERSION: &str = generated::VERSION;

/// Every asset `/graphiql/<version>/<name>` serves.
pub const ASSETS: &[Asset] = generated::ASSETS;

/// The route of the assets, for `router()`.
pub const ASSET_ROUTE: &str = "/graphiql/{version}/{name}";

/// Where GraphiQL sends queries and opens subscriptions.
const ENDPOINT: &str = "/graphql";
const SUBSCRIPTIONS: &str = "/graphql/ws";

/// The page's sources: this server only (fonts are `data:` URLs inside GraphiQL's
/// style sheet); `connect-src 'self'` covers the same-origin WebSocket. The browser test
/// (tests/browser) fails on any violation the page reports.
const POLICY: &str = "default-src 'self'; \
    script-src 'self'; \
    style-src 'self'; \
    font-src 'self' data:; \
    img-src 'self' data:; \
    connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The GraphiQL page with its Content-Security-Policy.
pub fn page() -> Response {
    let mut response = Html(html()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    // The page names the assets' version: a new binary must not meet a stale page.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Our page: the embedded bundles, then `workgraph.js`, which starts GraphiQL.
fn html() -> String {
    let asset = |name: &str| format!("/graphiql/{VERSION}/{name}");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>workgraph</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{graphiql_css}">
    <link rel="stylesheet" href="{page_css}">
  </head>
  <body>
    <div id="graphiql" data-endpoint="{ENDPOINT}" data-subscriptions="{SUBSCRIPTIONS}">Loading…</div>
    <script src="{react}"></script>
    <script src="{react_dom}"></script>
    <script src="{graphiql_js}"></script>
    <script src="{page_js}"></script>
  </body>
</html>
"#,
        graphiql_css = asset("graphiql.min.css"),
        page_css = asset("workgraph.css"),
        react = asset("react.production.min.js"),
        react_dom = asset("react-dom.production.min.js"),
        graphiql_js = asset("graphiql.min.js"),
        page_js = asset("workgraph.js"),
    )
}

/// `GET /graphiql/<version>/<name>`: an embedded asset, cached for a year (a new build
/// changes the version), or 404 for another version or an unknown name.
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    let found = ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .filter(|_| version == VERSION);
    let Some(asset) = found else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.body,
    )
        .into_response()
}
