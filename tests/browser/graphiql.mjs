// GraphiQL works offline: Debian's Chromium, headless, with every request that leaves
// 127.0.0.1 blocked, opens /graphql on a running workgraph, puts a bearer token in the
// headers editor, runs `{ me { id } }` and must see the signed-up user's id; then starts a
// subscription, whose socket must sign in with `{"authorization": "Bearer <token>"}`.
//
// Started by run.sh, which starts the server. Environment:
//   WORKGRAPH_URL   the server, e.g. http://127.0.0.1:8123
//   WORKGRAPH_PID   its process id, so a server that died fails the wait at once
//   SCREENSHOT      where to save a PNG of the page with the result
//   CHROMIUM        the browser (default /usr/bin/chromium)

import { chromium } from 'playwright-core';

const base = required('WORKGRAPH_URL');
const serverPid = Number(required('WORKGRAPH_PID'));
const screenshot = required('SCREENSHOT');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const QUERY = '{ me { id } }';
const SUBSCRIPTION = 'subscription { messageReceived { id } }';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (run tests/browser/run.sh)`);
  }
  return value;
}

// Polls GET /readyz until it answers 200, the server exits, or the deadline passes.
async function waitUntilReady(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      process.kill(serverPid, 0);
    } catch {
      throw new Error('the server exited before it was ready');
    }
    try {
      const response = await fetch(`${base}/readyz`);
      if (response.ok) {
        return;
      }
      last = `status ${response.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/readyz not ready within ${timeoutMs} ms (${last})`);
}

// Signs a fresh user up over HTTP: their id and bearer token.
async function signUp() {
  const email = `browser-${Date.now()}@example.com`;
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `mutation SignUp($input: SignUpInput!) {
        signUp(input: $input) { token user { id } }
      }`,
      variables: { input: { name: 'Browser', email, password: 'correct horse battery' } },
    }),
  });
  const body = await response.json();
  const payload = body.data && body.data.signUp;
  if (!payload || !payload.token || !payload.user || !payload.user.id) {
    throw new Error(`signUp failed: ${JSON.stringify(body)}`);
  }
  return { id: payload.user.id, token: payload.token };
}

// Waits until the CodeMirror editor at `selector` holds `text`: CodeMirror reads what is
// typed or pasted into it a moment later, and GraphiQL runs what the editor holds.
async function holds(page, selector, text) {
  try {
    await page.waitForFunction(
      ([selector, text]) => document.querySelector(selector).CodeMirror.getValue() === text,
      [selector, text],
      { timeout: 5_000 },
    );
  } catch (err) {
    const held = await page.locator(selector).evaluate((element) => element.CodeMirror.getValue());
    throw new Error(`${selector} holds ${JSON.stringify(held)}, not ${JSON.stringify(text)}`);
  }
}

async function main() {
  await waitUntilReady(30_000);
  const user = await signUp();

  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: ['--no-sandbox'],
  });
  const offsite = [];
  const problems = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // Anything not for the server is refused and remembered: the page must not need it.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') {
        return route.continue();
      }
      offsite.push(url.href);
      return route.abort('blockedbyclient');
    });
    // Sockets to the server pass through, their frames noted (`to` the server or `from` it).
    const frames = [];
    await context.routeWebSocket(/.*/, (socket) => {
      if (new URL(socket.url()).hostname !== '127.0.0.1') {
        offsite.push(socket.url());
        socket.close();
        return;
      }
      const server = socket.connectToServer();
      socket.onMessage((message) => {
        frames.push({ to: JSON.parse(message) });
        server.send(message);
      });
      server.onMessage((message) => {
        frames.push({ from: JSON.parse(message) });
        socket.send(message);
      });
    });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') {
        problems.push(`console error: ${message.text()}`);
      }
    });

    const response = await page.goto(`${base}/graphql`);
    if (!response || response.status() !== 200) {
      throw new Error(`GET /graphql answered ${response && response.status()}`);
    }
    const title = await page.title();
    if (title !== 'workgraph') {
      throw new Error(`the page's title is ${JSON.stringify(title)}`);
    }

    // The headers editor is open from the start, for the user's bearer token.
    const headers = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
    await headers.waitFor({ state: 'visible' });
    const activeTab = await page.locator('.graphiql-editor-tools button.active').textContent();
    if (activeTab !== 'Headers') {
      throw new Error(`the open editor tool is ${JSON.stringify(activeTab)}, not Headers`);
    }
    await headers.click();
    const bearer = JSON.stringify({ Authorization: `Bearer ${user.token}` }, null, 2);
    await page.keyboard.insertText(bearer);
    await holds(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', bearer);

    const query = page.locator('.graphiql-query-editor .CodeMirror');
    await query.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(QUERY);
    // The editor closes brackets as one types: it must hold the query as typed.
    await holds(page, '.graphiql-query-editor .CodeMirror', QUERY);

    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.graphiql-response .CodeMirror');
    await page.waitForFunction(
      (id) => {
        const element = document.querySelector('.graphiql-response .CodeMirror');
        return element !== null && element.CodeMirror.getValue().includes(id);
      },
      user.id,
      { timeout: 20_000 },
    );
    const shown = JSON.parse(await result.evaluate((element) => element.CodeMirror.getValue()));
    if (!shown.data || !shown.data.me || shown.data.me.id !== user.id) {
      throw new Error(`the result pane shows ${JSON.stringify(shown)}, not me.id ${user.id}`);
    }
    await page.screenshot({ path: screenshot });
    console.log(`GraphiQL showed me.id ${user.id}; screenshot at ${screenshot}`);

    // A subscription opens /graphql/ws and signs in with the headers editor's token.
    await query.evaluate((element) => element.CodeMirror.setValue(''));
    await query.click();
    await page.keyboard.insertText(SUBSCRIPTION);
    await holds(page, '.graphiql-query-editor .CodeMirror', SUBSCRIPTION);
    await page.locator('.graphiql-execute-button').click();
    const deadline = Date.now() + 20_000;
    const sent = (type) => frames.find((frame) => frame.to && frame.to.type === type);
    const heard = (type) => frames.find((frame) => frame.from && frame.from.type === type);
    while (!(heard('connection_ack') && sent('subscribe')) && Date.now() < deadline) {
      if (heard('error') || heard('complete')) {
        break;
      }
      await page.waitForTimeout(50);
    }
    const init = sent('connection_init');
    const expected = JSON.stringify({ authorization: `Bearer ${user.token}` });
    if (!init || JSON.stringify(init.to.payload) !== expected) {
      throw new Error(`connection_init was ${JSON.stringify(init)}, not ${expected}`);
    }
    if (!heard('connection_ack') || !sent('subscribe') || heard('error')) {
      throw new Error(`the subscription did not start: ${JSON.stringify(frames)}`);
    }
    console.log('the subscription signed in on /graphql/ws with the bearer token');
  } catch (err) {
    // Say first whether the page wanted the internet, the likely cause of what failed.
    for (const url of offsite) {
      console.error(`blocked a request off 127.0.0.1: ${url}`);
    }
    for (const problem of problems) {
      console.error(problem);
    }
    throw err;
  } finally {
    await browser.close();
  }

  for (const problem of problems) {
    console.error(problem);
  }
  if (offsite.length > 0) {
    throw new Error(`the page tried to leave 127.0.0.1:\n  ${offsite.join('\n  ')}`);
  }
  if (problems.length > 0) {
    throw new Error(`the page reported ${problems.length} error(s), above`);
  }
}

main().catch((err) => {
  console.error(`FAIL: ${err.stack || err}`);
  process.exit(1);
});
