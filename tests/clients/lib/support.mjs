// What the client tests share: the server's address, the example operations in
// operations/, plain HTTP calls for setting up, and waiting on subscription events with a
// deadline.
import { randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

import { Kind, parse, print, visit } from "graphql";

/** The running server, e.g. `http://127.0.0.1:8000` (run.sh sets it). */
export const SERVER = (process.env.WORKGRAPH_URL ?? "").replace(/\/+$/, "");
if (!SERVER) {
  throw new Error("WORKGRAPH_URL is not set: run the tests with run.sh, or point it at a server");
}
export const HTTP_URL = `${SERVER}/graphql`;
export const WS_URL = `${SERVER.replace(/^http/, "ws")}/graphql/ws`;
export const PASSWORD = "correct horse battery";

/** How long a test waits for something the server should do at once. */
export const PROMPTLY_MS = 5_000;

const OPERATIONS_DIR = new URL("../operations/", import.meta.url);
const definitions = readdirSync(OPERATIONS_DIR)
  .filter((file) => file.endsWith(".graphql"))
  .flatMap((file) => parse(readFileSync(new URL(file, OPERATIONS_DIR), "utf8")).definitions);
const fragments = new Map(
  definitions
    .filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
    .map((definition) => [definition.name.value, definition]),
);

/** Every operation name in operations/*.graphql. */
export const OPERATION_NAMES = definitions
  .filter((definition) => definition.kind === Kind.OPERATION_DEFINITION)
  .map((definition) => definition.name.value);

/** A document holding `definition` and the fragments it spreads, transitively. */
function withFragments(definition) {
  const needed = new Map();
  const collect = (node) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (needed.has(name)) return;
        const fragment = fragments.get(name);
        if (!fragment) throw new Error(`no fragment ${name} in operations/`);
        needed.set(name, fragment);
        collect(fragment);
      },
    });
  collect(definition);
  needed.delete(definition.name.value);
  return { kind: Kind.DOCUMENT, definitions: [definition, ...needed.values()] };
}

/** The operation `name` from operations/, as a document with its fragments. */
export function operation(name) {
  const definition = definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name,
  );
  if (!definition) throw new Error(`no operation ${name} in operations/`);
  return withFragments(definition);
}

/** The fragment `name` from operations/, as a document (for `cache.readFragment`). */
export function fragment(name) {
  const definition = fragments.get(name);
  if (!definition) throw new Error(`no fragment ${name} in operations/`);
  return withFragments(definition);
}

/**
 * The client preset's persisted-documents.json (run.sh sets this for the server started with
 * WORKGRAPH_TRUSTED_DOCUMENTS): then operations go by hash, as `documentId`, never as text.
 */
export const TRUSTED_DOCUMENTS = process.env.WORKGRAPH_TRUSTED_DOCUMENTS ?? "";

/** The name of the operation in `document`. */
export function operationName(document) {
  return document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)?.name?.value;
}

/** Each listed operation's hash, by the operation's name. */
export const TRUSTED_HASHES = new Map(
  TRUSTED_DOCUMENTS
    ? Object.entries(JSON.parse(readFileSync(TRUSTED_DOCUMENTS, "utf8"))).map(([hash, text]) => [
        operationName(parse(text)),
        hash,
      ])
    : [],
);

/** The listed hash of `document`'s operation; throws when it is not listed. */
export function trustedHash(document) {
  const name = operationName(document);
  const hash = TRUSTED_HASHES.get(name);
  if (!hash) throw new Error(`${name} is not in ${TRUSTED_DOCUMENTS}`);
  return hash;
}

/**
 * `POST /graphql` as `token` (anonymous when null); the raw response body. Against a server
 * of trusted documents the document goes by its hash, as the client preset sends it.
 */
export async function request(token, document, variables = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = TRUSTED_DOCUMENTS
    ? { documentId: trustedHash(document), variables }
    : { query: print(document), variables };
  const response = await fetch(HTTP_URL, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Runs the example operation `name` as `token`; its `data`, or throws on any error. */
export async function run(token, name, variables = {}) {
  const { status, body } = await request(token, operation(name), variables);
  if (status !== 200 || body.errors) {
    throw new Error(`${name}: HTTP ${status}: ${JSON.stringify(body)}`);
  }
  return body.data;
}

/** A string no other test (or earlier run against the same database) uses. */
export function unique(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Signs up a new account; `{ id, email, token }`. */
export async function signUp(name) {
  const email = `${unique(name)}@example.io`;
  const data = await run(null, "SignUp", { input: { name, email, password: PASSWORD } });
  return { id: data.signUp.user.id, email: data.signUp.user.email, token: data.signUp.token };
}

/**
 * Ann and Bo, who share a workspace of Ann's (so they may message each other), and
 * the workspace's id.
 */
export async function colleagues() {
  const [ann, bo] = await Promise.all([signUp("ann"), signUp("bo")]);
  const created = await run(ann.token, "CreateWorkspace", { input: { name: unique("Acme") } });
  const workspace = created.createWorkspace.id;
  await run(ann.token, "AddWorkspaceMember", {
    input: { workspaceId: workspace, email: bo.email, role: "USER" },
  });
  return { ann, bo, workspace };
}

/** Sends a direct message over HTTP; what `sendMessage` answered. */
export async function sendMessage(from, to, content) {
  const data = await run(from.token, "SendMessage", {
    input: { recipientEmail: to.email, content },
  });
  return data.sendMessage;
}

/**
 * What a subscription delivered, in order: `push` from the client's callbacks, `next`
 * to wait for the following event with a deadline.
 */
export class Inbox {
  #events = [];
  #waiting = null;

  /** Records an event: `{ data }`, `{ error }` or `{ complete: true }`. */
  push(event) {
    this.#events.push(event);
    if (this.#waiting) {
      const wake = this.#waiting;
      this.#waiting = null;
      wake();
    }
  }

  /** The next event, or `undefined` if none comes within `ms`. */
  async next(ms) {
    const deadline = Date.now() + ms;
    while (this.#events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      const ac = new AbortController();
      const arrived = new Promise((resolve) => {
        this.#waiting = resolve;
      });
      await Promise.race([arrived, delay(left, undefined, { signal: ac.signal }).catch(() => {})]);
      ac.abort();
      this.#waiting = null;
    }
    return this.#events.shift();
  }

  /** The next message delivered; fails on anything else or after `ms`. */
  async nextMessage(ms = PROMPTLY_MS) {
    const event = await this.next(ms);
    if (event === undefined) throw new Error(`no message within ${ms} ms`);
    if (event.errors || !event.data) {
      throw new Error(`expected a message, got ${JSON.stringify(event)}`);
    }
    return event.data.messageReceived;
  }
}

/**
 * Returns once the subscription feeding `inbox` is live. A subscription gives no sign
 * that it has started, and a message sent before then is not for it, so `from` sends
 * probes to `to` until the latest one arrives (earlier probes may arrive first).
 */
export async function untilLive(inbox, from, to) {
  for (let attempt = 1; attempt <= 8; attempt += 1) {
    const probe = `probe ${attempt}`;
    await sendMessage(from, to, probe);
    const deadline = Date.now() + 250 * attempt;
    for (;;) {
      const event = await inbox.next(deadline - Date.now());
      if (event === undefined) break;
      const content = event.data?.messageReceived?.content;
      if (content === probe) return;
      if (!content?.startsWith("probe ")) {
        throw new Error(`nothing but probes yet: ${JSON.stringify(event)}`);
      }
    }
  }
  throw new Error("the subscription did not start");
}
