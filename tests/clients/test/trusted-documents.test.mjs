// A server started with WORKGRAPH_TRUSTED_DOCUMENTS pointing at the client preset's
// persisted-documents.json: the listed operations run by hash (Apollo's persisted-queries
// link, the preset's `documentId`), anything else is refused with DOCUMENT_NOT_TRUSTED, and
// SIGHUP reloads the list. run.sh runs this file (with operations.test.mjs, all by hash)
// against that second server; against an ordinary server it is skipped.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

import {
  HTTP_URL,
  Inbox,
  OPERATION_NAMES,
  PROMPTLY_MS,
  TRUSTED_DOCUMENTS,
  TRUSTED_HASHES,
  WS_URL,
  operation,
  request,
  signUp,
  trustedHash,
} from "../lib/support.mjs";

const skip = TRUSTED_DOCUMENTS ? false : "not a server of trusted documents (see run.sh)";
/** The file the server reads (a copy of TRUSTED_DOCUMENTS), and the server's process. */
const SERVER_FILE = process.env.WORKGRAPH_TRUSTED_FILE ?? "";
const SERVER_PID = Number(process.env.WORKGRAPH_PID ?? 0);

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** An Apollo client that sends each operation as its hash alone, as a production build would. */
function apollo(token, generateHash) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  return new ApolloClient({
    link: createPersistedQueryLink({ sha256, generateHash }).concat(
      new HttpLink({ uri: HTTP_URL, headers }),
    ),
    // The listed documents are the preset's, which asks for no `__typename`.
    cache: new InMemoryCache({ addTypename: false }),
    defaultOptions: { query: { fetchPolicy: "no-cache" }, mutate: { fetchPolicy: "no-cache" } },
  });
}

/** The listed hash of an operation, as the preset's `__meta__.hash` gives it. */
const listedHash = (document) => trustedHash(document);

/** `POST /graphql` of `body` with `accept`: status and body. */
async function post(body, accept = "application/json") {
  const response = await fetch(HTTP_URL, {
    method: "POST",
    headers: { "content-type": "application/json", accept },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const codeOf = (body) => body.errors?.[0]?.extensions?.code;

test("the list is the preset's: every example operation, keyed by its SHA-256", { skip }, () => {
  const list = JSON.parse(readFileSync(TRUSTED_DOCUMENTS, "utf8"));
  for (const [hash, text] of Object.entries(list)) assert.equal(sha256(text), hash, text);
  assert.deepEqual([...TRUSTED_HASHES.keys()].sort(), [...OPERATION_NAMES].sort());
});

test("Apollo Client's persisted-queries link runs listed operations by hash", { skip }, async () => {
  const anonymous = apollo(null, listedHash);
  const email = `trusted-${Date.now()}@example.io`;
  const signedUp = await anonymous.mutate({
    mutation: operation("SignUp"),
    variables: { input: { name: "Ann", email, password: "correct horse battery" } },
  });
  const me = await apollo(signedUp.data.signUp.token, listedHash).query({ query: operation("Me") });
  assert.equal(me.data.me.email, email);
});

test("an operation not in the list is refused, by text or by hash", { skip }, async () => {
  const unlisted = "query Unlisted { __typename }";
  let answer = await post({ query: unlisted });
  assert.equal(answer.status, 200, "as application/json");
  assert.equal(codeOf(answer.body), "DOCUMENT_NOT_TRUSTED", JSON.stringify(answer.body));
  assert.equal(answer.body.data ?? null, null, "nothing ran");
  answer = await post({ query: unlisted }, "application/graphql-response+json");
  assert.equal(answer.status, 400, "as application/graphql-response+json");
  assert.equal(codeOf(answer.body), "DOCUMENT_NOT_TRUSTED");
  answer = await post({ documentId: sha256(unlisted) });
  assert.equal(codeOf(answer.body), "DOCUMENT_NOT_TRUSTED");

  // A listed operation respelled is another document (the text is compared as sent).
  answer = await post({ query: "mutation LogOut {\n  logOut\n}" });
  assert.equal(codeOf(answer.body), "DOCUMENT_NOT_TRUSTED");

  // Apollo's link sends the hash, then (told no) the full text: neither gets in.
  await assert.rejects(
    apollo(null, undefined).query({ query: gql(unlisted) }),
    (error) => {
      assert.equal(error.graphQLErrors?.[0]?.extensions?.code, "DOCUMENT_NOT_TRUSTED", String(error));
      return true;
    },
  );
});

test("a subscription not in the list is refused over graphql-ws", { skip }, async () => {
  const ann = await signUp("ann");
  const client = createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ann.token}` },
    retryAttempts: 0,
  });
  const inbox = new Inbox();
  client.subscribe(
    { query: "subscription Unlisted { messageReceived { id content } }" },
    {
      next: (result) => inbox.push(result),
      error: (error) => inbox.push({ error }),
      complete: () => inbox.push({ complete: true }),
    },
  );
  const event = await inbox.next(PROMPTLY_MS);
  await client.dispose();
  // Refused before it runs, as the document limits are: a result of errors alone (`next`,
  // then `complete`), or an `error` message.
  const errors = event?.errors ?? event?.error;
  assert.equal(errors?.[0]?.extensions?.code, "DOCUMENT_NOT_TRUSTED", JSON.stringify(event));
  assert.equal(event.data ?? null, null, "nothing ran");
});

/** Waits up to 5 s for `Me` by hash to be answered with (or without) a refusal. */
async function untilMe(refused) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { body } = await request(null, operation("Me"));
    if ((codeOf(body) === "DOCUMENT_NOT_TRUSTED") === refused) return;
    if (Date.now() > deadline) throw new Error(`Me is still ${refused ? "run" : "refused"}`);
    await delay(50);
  }
}

test("SIGHUP reloads the list from the file", { skip: skip || (!SERVER_PID && "no WORKGRAPH_PID") }, async () => {
  const original = readFileSync(SERVER_FILE, "utf8");
  const list = JSON.parse(original);
  delete list[trustedHash(operation("Me"))];
  try {
    writeFileSync(SERVER_FILE, JSON.stringify(list));
    process.kill(SERVER_PID, "SIGHUP");
    await untilMe(true);
    // A bad file keeps the list in force.
    writeFileSync(SERVER_FILE, "{ not json");
    process.kill(SERVER_PID, "SIGHUP");
    await delay(200);
    await untilMe(true);
  } finally {
    writeFileSync(SERVER_FILE, original);
    process.kill(SERVER_PID, "SIGHUP");
  }
  await untilMe(false);
});
