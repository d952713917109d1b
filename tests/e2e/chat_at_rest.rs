//! Chat content at rest: sealed in every row under the server's key, a tampered row fails
//! alone, and a key rotation re-seals every row so that instances with the new key read
//! them all.

use std::collections::HashSet;

use entity::chat_message;
use graph::chat::keys::ChatKeys;
use graph::chat::rotate::{Rotation, rotate};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde_json::{Value, json};
use tests::TestApp;

use crate::chat::{MESSAGES, Trio, contents, messages, send, str_at, trio};

/// Text that must never be found in the database.
const SECRET: &str = "Quetzal-7f3a9c launch code 0451";

fn key_id(spec: &str) -> &str {
    spec.split_once(':').map_or(spec, |(id, _)| id)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

async fn rows(app: &TestApp) -> Vec<chat_message::Model> {
    chat_message::Entity::find()
        .order_by_asc(chat_message::Column::Id)
        .all(&app.db)
        .await
        .expect("read chat_messages")
}

#[tokio::test]
async fn content_is_sealed_at_rest_and_a_tampered_row_fails_alone() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, .. } = trio(&app).await;
    let sent: Vec<String> = ["first", "second", "third"]
        .iter()
        .map(|n| format!("{SECRET} ({n})"))
        .collect();
    for content in &sent {
        send(&app, &ann, &bo.email, content).await;
    }

    let stored = rows(&app).await;
    assert_eq!(stored.len(), 3);
    let mut nonces = HashSet::new();
    for (row, plaintext) in stored.iter().zip(&sent) {
        let columns: [&[u8]; 6] = [
            row.id.as_bytes(),
            row.sender_id.as_bytes(),
            row.recipient_email.as_bytes(),
            &row.content,
            &row.nonce,
            row.key_id.as_bytes(),
        ];
        for column in columns {
            assert!(
                !contains(column, SECRET.as_bytes()),
                "plaintext in a column of {}",
                row.id
            );
        }
        assert_eq!(
            row.content.len(),
            plaintext.len() + 16,
            "ciphertext and a 16-byte tag"
        );
        assert_eq!(row.nonce.len(), 24, "an XChaCha20 nonce");
        assert!(
            nonces.insert(row.nonce.clone()),
            "a fresh nonce per message"
        );
        assert_eq!(row.key_id, key_id(&app.chat_keys), "the server's key");
    }

    // Swap the ciphertexts of the first two messages: each is bound to its own row.
    let (first, second) = (stored[0].clone(), stored[1].clone());
    for (row, from) in [(&first, &second), (&second, &first)] {
        chat_message::ActiveModel {
            id: Set(row.id),
            content: Set(from.content.clone()),
            nonce: Set(from.nonce.clone()),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .expect("swap ciphertexts");
    }
    let response = app
        .graphql_as(Some(&bo.token), MESSAGES, json!({ "with": ann.email }))
        .await;
    let nodes = response.body["data"]["messages"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("the list survives: {}", response.body));
    assert_eq!(nodes.len(), 3, "{}", response.body);
    // Newest first: the intact third message, then the two tampered ones.
    assert_eq!(nodes[0]["content"], sent[2].as_str());
    let errors = response.body["errors"].as_array().expect("errors");
    assert_eq!(
        errors.len(),
        2,
        "one error per tampered message: {errors:?}"
    );
    for (index, row) in [(1, &second), (2, &first)] {
        assert_eq!(nodes[index]["id"], row.id.to_string());
        assert_eq!(nodes[index]["content"], Value::Null, "{}", nodes[index]);
        let error = errors
            .iter()
            .find(|error| error["path"] == json!(["messages", "nodes", index, "content"]))
            .unwrap_or_else(|| panic!("an error at node {index}: {errors:?}"));
        assert_eq!(error["extensions"]["code"], "INTERNAL");
        assert!(
            !error.to_string().contains(SECRET),
            "the error says nothing of the content"
        );
    }
}

#[tokio::test]
async fn rotation_reseals_every_row_and_instances_with_the_new_key_read_them() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, .. } = trio(&app).await;
    let mut sent = Vec::new();
    for n in 1..=5 {
        let content = format!("message {n} before the rotation");
        send(&app, &ann, &bo.email, &content).await;
        sent.push(content);
    }
    sent.reverse(); // as `messages` lists them
    let before = rows(&app).await;

    let (_, new_key) = ChatKeys::generate("next").expect("a new key");
    let both = format!("{new_key},{}", app.chat_keys);
    let keys = ChatKeys::parse(&both).expect("new key first, old key second");
    let done = rotate(&app.db, &keys, 2).await.expect("rotate");
    assert_eq!(
        done,
        Rotation {
            resealed: 5,
            failed: 0,
            skipped: 0
        }
    );
    let after = rows(&app).await;
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(new.key_id, "next", "{}", new.id);
        assert_ne!(new.content, old.content, "re-sealed: {}", new.id);
        assert_ne!(new.nonce, old.nonce, "with a new nonce: {}", new.id);
    }
    assert_eq!(
        rotate(&app.db, &keys, 2).await.expect("rotate again"),
        Rotation::default(),
        "a second run finds nothing left to do"
    );

    for spec in [both.as_str(), new_key.as_str()] {
        let instance = app.another_instance(spec).await;
        let read = messages(&instance, &bo, json!({ "with": ann.email })).await;
        assert_eq!(contents(&read), sent, "keys {:?}", key_id(spec));
    }
    // The first instance, which only ever had the old key, no longer opens them.
    let stale = app
        .graphql_as(Some(&bo.token), MESSAGES, json!({ "with": ann.email }))
        .await;
    let errors = stale.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 5, "{}", stale.body);
    assert!(
        errors
            .iter()
            .all(|error| str_at(&error["extensions"]["code"]) == "INTERNAL")
    );
}
