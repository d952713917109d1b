// How a front end uses the generated types: every operation in operations/ is a typed
// document, so Apollo Client infers the result and the variables. `tsc --noEmit` checks
// this file against generated/graphql.ts (run.sh does); it is never executed.
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client/core";
import type { TypedDocumentNode } from "@apollo/client/core";

import {
  ConversationsDocument,
  LogTimeDocument,
  MeDocument,
  MessageReceivedDocument,
  SendMessageDocument,
  SignUpDocument,
  TaskCardFragmentDoc,
  WorkspacesDocument,
} from "./generated/graphql";
import type {
  ChatMessageFragment,
  LogTimeMutationVariables,
  MeQuery,
  MeQueryVariables,
  TaskCardFragment,
  TaskStatus,
} from "./generated/graphql";

export function makeClient(uri: string, token: string) {
  return new ApolloClient({
    link: new HttpLink({ uri, headers: { authorization: `Bearer ${token}` } }),
    cache: new InMemoryCache(),
  });
}

/** Signs up and returns the session token: `signUp.token` is a `string`. */
export async function signUp(client: ApolloClient<object>, email: string): Promise<string> {
  const { data } = await client.mutate({
    mutation: SignUpDocument,
    variables: { input: { name: "Ann", email, password: "correct horse battery" } },
  });
  if (!data) throw new Error("signUp answered no data");
  return data.signUp.token;
}

/** The explicit form: `client.query<MeQuery>` with the document as a plain `DocumentNode`. */
export async function myName(client: ApolloClient<object>): Promise<string | null> {
  const query: TypedDocumentNode<MeQuery, MeQueryVariables> = MeDocument;
  const { data } = await client.query<MeQuery, MeQueryVariables>({ query });
  return data.me?.name ?? null;
}

/** Walks workspaces → projects → tasks; the nesting is typed all the way down. */
export async function openTasks(client: ApolloClient<object>): Promise<TaskCardFragment[]> {
  const { data } = await client.query({ query: WorkspacesDocument, variables: { tasks: 50 } });
  const pending: TaskStatus = "PENDING";
  return data.workspaces.nodes
    .flatMap((workspace) => workspace.projects.nodes)
    .flatMap((project) => project.tasks.nodes)
    .filter((task) => task.status === pending);
}

/** Logs time and reads the task back from the normalized cache through its fragment. */
export async function logHours(
  client: ApolloClient<object>,
  taskId: string,
  hours: number,
): Promise<number | undefined> {
  await client.mutate({ mutation: LogTimeDocument, variables: { input: { taskId, hours } } });
  const task = client.cache.readFragment({
    id: client.cache.identify({ __typename: "Task", id: taskId }),
    fragment: TaskCardFragmentDoc,
  });
  return task?.totalHours;
}

export async function say(
  client: ApolloClient<object>,
  recipientEmail: string,
  content: string,
): Promise<ChatMessageFragment | undefined> {
  const { data } = await client.mutate({
    mutation: SendMessageDocument,
    variables: { input: { recipientEmail, content } },
  });
  return data?.sendMessage;
}

export async function unread(client: ApolloClient<object>): Promise<number> {
  const { data } = await client.query({ query: ConversationsDocument });
  return data.conversations.nodes.reduce((sum, conversation) => sum + conversation.unreadCount, 0);
}

/** Subscriptions need a WebSocket link (graphql-ws's `createClient`); the typing is the same. */
export function watchInbox(
  client: ApolloClient<object>,
  onMessage: (message: ChatMessageFragment) => void,
) {
  return client.subscribe({ query: MessageReceivedDocument }).subscribe({
    next: ({ data }) => {
      if (data) onMessage(data.messageReceived);
    },
  });
}

// Type errors a front end is protected from (each line fails to compile without the
// `@ts-expect-error` above it).
export async function mistakes(client: ApolloClient<object>) {
  // @ts-expect-error `hours` is an Int
  const wrong: LogTimeMutationVariables = { input: { taskId: "x", hours: "2" } };
  void wrong;
  const { data } = await client.query({ query: MeDocument });
  // @ts-expect-error `me` is nullable
  void data.me.name;
  // @ts-expect-error no such status
  const done: TaskStatus = "DONE";
  void done;
}
