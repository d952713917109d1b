// subscriptions-transport-ws's SubscriptionClient: the legacy `graphql-ws` protocol that
// older Apollo set-ups still speak.
import assert from "node:assert/strict";
import { test } from "node:test";

import { SubscriptionClient } from "subscriptions-transport-ws";
import WebSocket from "ws";

import {
  Inbox,
  PROMPTLY_MS,
  WS_URL,
  colleagues,
  operation,
  sendMessage,
  untilLive,
} from "../lib/support.mjs";

/**
 * A SubscriptionClient signed in with `token`, speaking the `graphql-ws` subprotocol;
 * what the server answers `connection_init` goes to `connection`.
 */
function connect(token, connection = new Inbox()) {
  const client = new SubscriptionClient(
    WS_URL,
    {
      connectionParams: { authorization: `Bearer ${token}` },
      reconnect: false,
      connectionCallback: (error) => connection.push(error ? { error } : { ack: true }),
    },
    WebSocket,
    "graphql-ws",
  );
  return { client, connection };
}

test("subscriptions-transport-ws: a message sent over HTTP reaches its recipient", async (t) => {
  const { ann, bo } = await colleagues();
  const { client, connection } = connect(bo.token);
  t.after(() => client.close());
  const inbox = new Inbox();
  const subscription = client.request({ query: operation("MessageReceived") }).subscribe({
    next: (result) => inbox.push(result),
    error: (error) => inbox.push({ error }),
    complete: () => inbox.push({ complete: true }),
  });

  assert.deepEqual(await connection.next(PROMPTLY_MS), { ack: true }, "connection_ack");
  await untilLive(inbox, ann, bo);
  const sent = await sendMessage(ann, bo, "Lunch at noon?");
  const received = await inbox.nextMessage();

  assert.equal(received.id, sent.id);
  assert.equal(received.content, "Lunch at noon?");
  assert.equal(received.sender.id, ann.id);
  assert.equal(received.recipientEmail, bo.email);
  assert.deepEqual(received, sent, "the subscription delivers what sendMessage answered");

  // `stop` ends the first subscription; a second one on the same socket hears the
  // probes the first one would have.
  subscription.unsubscribe();
  const again = new Inbox();
  client.request({ query: operation("MessageReceived") }).subscribe({
    next: (result) => again.push(result),
    error: (error) => again.push({ error }),
  });
  await untilLive(again, ann, bo);
  assert.equal(await inbox.next(0), undefined, "nothing after unsubscribing");
});

test("subscriptions-transport-ws: a bad token gets connection_error", async (t) => {
  const { client, connection } = connect("not-a-token");
  t.after(() => client.close());

  const event = await connection.next(PROMPTLY_MS);
  assert.ok(event?.error, `connection_error, got ${JSON.stringify(event)}`);
  assert.match(event.error.message, /authentication/i);
});
