//! GraphQL over HTTP as the spec words it: queries over `GET` (a mutation is 405 and runs
//! nothing), the response's media type from `Accept` (406 when neither GraphQL type is
//! acceptable) and the status codes each media type calls for.

use entity::user;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

mod media_types;
mod over_get;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

const SIGN_UP: &str = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token } }";

/// A response as a test reads it: status, the headers it asserts on, the JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    allow: Option<String>,
    body: Value,
}

impl Answer {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().expect("ascii header").to_owned())
        };
        let content_type = header("content-type").unwrap_or_default();
        let allow = header("allow");
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("GraphQL JSON expected, got {text}: {err}"));
        Self {
            status,
            content_type,
            allow,
            body,
        }
    }

    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code, got {}", self.body))
    }

    fn is(&self, media_type: &str) -> bool {
        self.content_type.starts_with(media_type)
    }
}

/// `/graphql` with `params` URL-encoded as its query string.
fn url(app: &TestApp, params: &[(&str, &str)]) -> reqwest::Url {
    reqwest::Url::parse_with_params(&app.url("/graphql"), params).expect("a valid URL")
}

/// `GET /graphql` with `params` as the query string and `accept` when given.
async fn get(app: &TestApp, params: &[(&str, &str)], accept: Option<&str>) -> Answer {
    let mut request = app.http().get(url(app, params));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    Answer::from(request.send().await.expect("GET /graphql")).await
}

/// `POST /graphql` with the JSON `body` and `accept` when given.
async fn post(app: &TestApp, body: &Value, accept: Option<&str>) -> Answer {
    let mut request = app.http().post(app.url("/graphql")).json(body);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    Answer::from(request.send().await.expect("POST /graphql")).await
}

async fn users(app: &TestApp) -> u64 {
    user::Entity::find()
        .count(&app.db)
        .await
        .expect("count users")
}
