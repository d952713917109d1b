//! GraphiQL on `GET /graphql`, from the binary: the bundles committed in
//! crates/server/graphiql/vendor/ (checked against their hashes here), with no network. The
//! browser itself is driven by tests/browser/run.sh.

use server::graphiql::{ASSETS, VERSION};
use sha2::{Digest, Sha256};
use tests::TestApp;

/// What the page loads: each `src` and `href` attribute, but `data:` URLs.
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in page.match_indices(attribute) {
            let rest = &page[start + attribute.len()..];
            let value = rest.split('"').next().unwrap_or_default();
            if !value.starts_with("data:") {
                found.push(value.to_owned());
            }
        }
    }
    found
}

/// `GET /graphql` as a browser asks for it: the page and its Content-Security-Policy.
pub(crate) async fn page(app: &TestApp) -> (String, String) {
    let response = app
        .http()
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii header")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let policy = response
        .headers()
        .get("content-security-policy")
        .expect("a Content-Security-Policy")
        .to_str()
        .expect("ascii header")
        .to_owned();
    (response.text().await.expect("body"), policy)
}

#[tokio::test]
async fn the_page_loads_only_its_own_assets() {
    let app = TestApp::spawn().await;
    let (page, policy) = page(&app).await;
    assert!(page.contains("<title>workgraph</title>"), "{page}");
    let references = references(&page);
    let prefix = format!("/graphiql/{VERSION}/");
    for reference in &references {
        assert!(reference.starts_with(&prefix), "{reference} is not ours");
    }
    for asset in ASSETS {
        assert!(
            references.contains(&format!("{prefix}{}", asset.name)),
            "the page loads {}",
            asset.name
        );
    }
    assert!(!page.contains("unpkg"), "{page}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("http"), "{policy}");
}

/// The vendored bundles are the ones `vendor/SHA256SUMS` names (which `refresh` checks
/// against what npm serves for the pinned versions), and the binary serves them unchanged.
#[tokio::test]
async fn the_served_bundles_are_the_vendored_files_their_hashes_name() {
    let vendor =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/server/graphiql/vendor");
    let sums = std::fs::read_to_string(vendor.join("SHA256SUMS")).expect("vendor/SHA256SUMS");
    let app = TestApp::spawn().await;
    let mut checked = 0;
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").expect("`<hash>  <name>` lines");
        let file = std::fs::read(vendor.join(name)).expect("a vendored bundle");
        let hex = |bytes: &[u8]| {
            Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(hex(&file), hash, "{name} differs from vendor/SHA256SUMS");
        let served = app
            .http()
            .get(app.url(&format!("/graphiql/{VERSION}/{name}")))
            .send()
            .await
            .expect("GET a bundle");
        assert_eq!(served.status(), 200, "{name}");
        let body = served.bytes().await.expect("body");
        assert_eq!(hex(&body), hash, "{name} is served as vendored");
        checked += 1;
    }
    assert_eq!(checked, 4, "react, react-dom, graphiql.min.js and .css");
    assert!(
        vendor.join("THIRD-PARTY-LICENSES.txt").is_file(),
        "the bundles' licences are committed beside them"
    );
}

#[tokio::test]
async fn each_asset_the_page_loads_is_served_with_its_type_and_cached_for_good() {
    let app = TestApp::spawn().await;
    let (page, _) = page(&app).await;
    let own: Vec<String> = references(&page)
        .into_iter()
        .filter(|reference| reference.starts_with('/'))
        .collect();
    assert_eq!(own.len(), ASSETS.len(), "{own:?}");
    for path in own {
        let response = app
            .http()
            .get(app.url(&path))
            .send()
            .await
            .expect("GET an asset");
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response.headers()[name]
                .to_str()
                .expect("ascii header")
                .to_owned()
        };
        let expected = if path.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            assert!(path.ends_with(".css"), "{path} is a script or a style");
            "text/css; charset=utf-8"
        };
        assert_eq!(header("content-type"), expected, "{path}");
        assert_eq!(
            header("cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        let body = response.bytes().await.expect("body");
        assert!(body.len() > 100, "{path} has {} bytes", body.len());
    }
}

#[tokio::test]
async fn an_unknown_asset_or_version_is_404() {
    let app = TestApp::spawn().await;
    let paths = [
        format!("/graphiql/{VERSION}/nothing.js"),
        format!("/graphiql/{VERSION}/..%2F..%2FCargo.toml"),
        "/graphiql/0000000000000000/graphiql.min.js".to_owned(),
        "/graphiql/graphiql.min.js".to_owned(),
    ];
    for path in paths {
        let response = app
            .http()
            .get(app.url(&path))
            .send()
            .await
            .expect("GET an asset");
        assert_eq!(response.status(), 404, "{path}");
    }
}
