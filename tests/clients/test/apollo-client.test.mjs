// Apollo Client 3 without React: an HttpLink on Node's fetch with the session in the
// Authorization header, the example operations with their fragments and variables, and
// the normalized cache a mutation's answer updates.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client/core/index.js";

import { HTTP_URL, PASSWORD, fragment, operation, unique } from "../lib/support.mjs";

/** An Apollo client that sends `token` (none when null) with each request. */
function apollo(token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  return new ApolloClient({
    link: new HttpLink({ uri: HTTP_URL, headers }),
    cache: new InMemoryCache(),
  });
}

async function mutate(client, name, variables) {
  const { data } = await client.mutate({ mutation: operation(name), variables });
  return data;
}

test("Apollo Client: fragments, variables, a mutation updating the normalized cache", async () => {
  const email = `${unique("ann")}@example.io`;
  const signedUp = await mutate(apollo(null), "SignUp", {
    input: { name: "Ann", email, password: PASSWORD },
  });
  const client = apollo(signedUp.signUp.token);

  const me = await client.query({ query: operation("Me") });
  assert.equal(me.data.me.id, signedUp.signUp.user.id);
  assert.equal(me.data.me.email, email);

  const { createWorkspace: workspace } = await mutate(client, "CreateWorkspace", {
    input: { name: unique("Acme") },
  });
  assert.equal(workspace.viewerRole, "OWNER");
  const { createClient: customer } = await mutate(client, "CreateClient", {
    input: { workspaceId: workspace.id, name: "Globex" },
  });
  const { createProject: project } = await mutate(client, "CreateProject", {
    input: { workspaceId: workspace.id, clientId: customer.id, name: "Website" },
  });
  const { createTask: created } = await mutate(client, "CreateTask", {
    input: { projectId: project.id, name: "Design the landing page" },
  });
  assert.deepEqual(
    { name: created.name, status: created.status, totalHours: created.totalHours },
    { name: "Design the landing page", status: "PENDING", totalHours: 0 },
  );

  // The nested list, through fragments, with the page sizes as variables.
  const variables = { workspaces: 5, projects: 5, tasks: 5 };
  const listed = await client.query({ query: operation("Workspaces"), variables });
  const [only] = listed.data.workspaces.nodes;
  assert.equal(listed.data.workspaces.totalCount, 1);
  assert.equal(only.id, workspace.id);
  assert.equal(only.projects.nodes[0].client.name, "Globex");
  const listedTask = only.projects.nodes[0].tasks.nodes[0];
  assert.equal(listedTask.id, created.id);
  assert.equal(listedTask.__typename, "Task", "Apollo asked for __typename");

  const fetched = await client.query({ query: operation("Task"), variables: { id: created.id } });
  assert.equal(fetched.data.task.project.id, project.id);

  // Every object is cached under its type and its Node id.
  const cacheId = client.cache.identify({ __typename: "Task", id: created.id });
  assert.equal(cacheId, `Task:${created.id}`);
  assert.ok(client.cache.extract()[cacheId], "the task is in the normalized cache");
  const taskCard = fragment("TaskCard");
  const readTask = () =>
    client.cache.readFragment({ id: cacheId, fragment: taskCard, fragmentName: "TaskCard" });
  assert.equal(readTask().totalHours, 0);

  // logTime answers with the task: its new total replaces the cached one.
  const logged = await mutate(client, "LogTime", {
    input: { taskId: created.id, hours: 3, description: "wireframes" },
  });
  assert.equal(logged.logTime.hours, 3);
  assert.equal(readTask().totalHours, 3, "the cached task has the mutation's total");

  const updated = await mutate(client, "UpdateTask", {
    input: { id: created.id, status: "IN_PROGRESS" },
  });
  assert.equal(updated.updateTask.status, "IN_PROGRESS");
  assert.equal(readTask().status, "IN_PROGRESS", "the cached task has the mutation's status");

  // The list query read back from the cache, without a request, sees both changes.
  const cached = client.readQuery({ query: operation("Workspaces"), variables });
  const cachedTask = cached.workspaces.nodes[0].projects.nodes[0].tasks.nodes[0];
  assert.deepEqual(
    { id: cachedTask.id, status: cachedTask.status, totalHours: cachedTask.totalHours },
    { id: created.id, status: "IN_PROGRESS", totalHours: 3 },
  );
});

test("Apollo Client: a request without a session gets UNAUTHENTICATED", async () => {
  const client = apollo(null);
  const anonymous = await client.query({ query: operation("Me") });
  assert.equal(anonymous.data.me, null, "me is null without a session");

  await assert.rejects(client.query({ query: operation("Conversations") }), (error) => {
    assert.equal(error.graphQLErrors?.[0]?.extensions?.code, "UNAUTHENTICATED");
    return true;
  });
});
