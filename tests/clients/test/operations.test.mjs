// Each example operation in operations/ runs against the server as written, default
// variables included (the nested Workspaces query stays under the cost limit).
import assert from "node:assert/strict";
import { test } from "node:test";

import { OPERATION_NAMES, PASSWORD, operation, request, run, unique } from "../lib/support.mjs";

/** Only over a WebSocket: see the graphql-ws and subscriptions-transport-ws tests. */
const SUBSCRIPTIONS = ["MessageReceived"];

test("every example operation runs as written", async () => {
  const ran = new Set();
  const as = (token, name, variables) => {
    ran.add(name);
    return run(token, name, variables);
  };
  const account = async (name) => {
    const email = `${unique(name)}@example.io`;
    const data = await as(null, "SignUp", { input: { name, email, password: PASSWORD } });
    return { id: data.signUp.user.id, email, token: data.signUp.token };
  };

  const ann = await account("ann");
  const bo = await account("bo");
  const loggedIn = await as(null, "LogIn", {
    input: { email: ann.email.toUpperCase(), password: PASSWORD },
  });
  assert.equal(loggedIn.logIn.user.id, ann.id);
  const session = loggedIn.logIn.token;
  assert.equal((await as(session, "Me")).me.email, ann.email);

  const workspace = (await as(ann.token, "CreateWorkspace", { input: { name: unique("Acme") } }))
    .createWorkspace;
  await as(ann.token, "AddWorkspaceMember", {
    input: { workspaceId: workspace.id, email: bo.email, role: "USER" },
  });
  const customer = (await as(ann.token, "CreateClient", {
    input: { workspaceId: workspace.id, name: "Globex", contactEmail: "pm@globex.example" },
  })).createClient;
  const project = (await as(ann.token, "CreateProject", {
    input: { workspaceId: workspace.id, clientId: customer.id, name: "Website" },
  })).createProject;
  const task = (await as(ann.token, "CreateTask", {
    input: { projectId: project.id, name: "Copy" },
  })).createTask;
  await as(ann.token, "UpdateTask", { input: { id: task.id, status: "COMPLETED" } });
  const logged = await as(ann.token, "LogTime", { input: { taskId: task.id, hours: 2 } });
  assert.equal(logged.logTime.task.totalHours, 2);
  assert.equal((await as(ann.token, "Task", { id: task.id })).task.status, "COMPLETED");

  const { workspaces } = await as(ann.token, "Workspaces");
  assert.deepEqual(
    workspaces.nodes.map((w) => w.projects.nodes.map((p) => p.tasks.nodes.map((t) => t.id))),
    [[[task.id]]],
  );

  const first = (await as(ann.token, "SendMessage", {
    input: { recipientEmail: bo.email, content: "Hi Bo" },
  })).sendMessage;
  await as(ann.token, "SendMessage", {
    input: { recipientEmail: bo.email, content: "Copy is done" },
  });
  const { conversations } = await as(bo.token, "Conversations");
  assert.equal(conversations.totalCount, 1);
  const [conversation] = conversations.nodes;
  assert.equal(conversation.with, ann.email);
  assert.equal(conversation.counterpart.id, ann.id);
  assert.equal(conversation.unreadCount, 2);
  assert.equal(conversation.lastMessage.content, "Copy is done");
  const { messages } = await as(bo.token, "Messages", { with: ann.email });
  assert.deepEqual(
    messages.nodes.map((m) => m.content),
    ["Copy is done", "Hi Bo"],
    "newest first",
  );
  assert.equal(messages.nodes[1].id, first.id);
  const marked = await as(bo.token, "MarkConversationRead", { with: ann.email });
  assert.equal(marked.markConversationRead, 2, "both messages were unread");

  assert.equal((await as(session, "LogOut")).logOut, true);
  const afterLogOut = await request(session, operation("Me"));
  assert.equal(afterLogOut.body.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");

  assert.deepEqual(
    [...ran, ...SUBSCRIPTIONS].sort(),
    [...OPERATION_NAMES].sort(),
    "a test here for each example operation",
  );
});
