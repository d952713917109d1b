// graphql-ws (the `graphql-transport-ws` protocol), as a browser app would use it, with
// `ws` standing in for the browser's WebSocket.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createClient } from "graphql-ws";
import { print } from "graphql";
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

/** A graphql-ws client signed in with `token`, trying once (no retries). */
function connect(token) {
  return createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

/** Subscribes `client` to `MessageReceived`; events go to the returned inbox. */
function subscribe(client) {
  const inbox = new Inbox();
  const stop = client.subscribe(
    { query: print(operation("MessageReceived")) },
    {
      next: (result) => inbox.push(result),
      error: (error) => inbox.push({ error }),
      complete: () => inbox.push({ complete: true }),
    },
  );
  return { inbox, stop };
}

test("graphql-ws: a message sent over HTTP reaches its recipient", async (t) => {
  const { ann, bo } = await colleagues();
  const client = connect(bo.token);
  t.after(() => client.dispose());
  const { inbox, stop } = subscribe(client);

  await untilLive(inbox, ann, bo);
  const sent = await sendMessage(ann, bo, "Lunch at noon?");
  const received = await inbox.nextMessage();

  assert.equal(received.id, sent.id);
  assert.equal(received.content, "Lunch at noon?");
  assert.equal(received.sender.id, ann.id);
  assert.equal(received.recipientEmail, bo.email);
  assert.deepEqual(received, sent, "the subscription delivers what sendMessage answered");

  stop();
  const after = await inbox.next(PROMPTLY_MS);
  assert.deepEqual(after, { complete: true }, "unsubscribing completes the subscription");
});

test("graphql-ws: a bad token is refused at connection_init with 4403", async (t) => {
  // graphql-ws retries a 4403 by default (access might be granted later); a client that
  // knows its token is bad stops at once, as this one does.
  const client = createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: "Bearer not-a-token" },
    shouldRetry: (closeEvent) => closeEvent?.code !== 4403,
  });
  t.after(() => client.dispose());
  const { inbox } = subscribe(client);

  const event = await inbox.next(PROMPTLY_MS);
  assert.ok(event?.error, `an error, got ${JSON.stringify(event)}`);
  // graphql-ws hands over the CloseEvent: the protocol's Forbidden.
  const { code, reason } = event.error;
  assert.equal(code, 4403, `close code ${code} (${reason})`);
  assert.equal(reason, "Forbidden");
});
