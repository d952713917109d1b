// Starts GraphiQL on the page the server renders (crates/server/src/graphiql.rs).
//
// Queries and mutations go to POST /graphql with the headers editor's headers. A
// subscription opens its own socket on /graphql/ws (graphql-transport-ws, GraphiQL's bundled
// graphql-ws client) whose `connection_init` payload is `{"authorization": <the headers
// editor's Authorization header>}`: the server authenticates sockets only there.
'use strict';

(function () {
  var root = document.getElementById('graphiql');
  var endpoint = new URL(root.dataset.endpoint, window.location.href).toString();
  var socketUrl = new URL(root.dataset.subscriptions, window.location.href);
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';

  // The value of the editor's Authorization header, whatever its case.
  function authorizationOf(headers) {
    var found;
    Object.keys(headers || {}).forEach(function (name) {
      if (name.toLowerCase() === 'authorization') {
        found = headers[name];
      }
    });
    return typeof found === 'string' ? found : undefined;
  }

  // The operations of a document, in order: `{kind, name}`, `kind` being `query`,
  // `mutation` or `subscription`. A scan of its text rather than GraphiQL's parsed
  // `documentAST`, which lags the editor by a debounce: a query run just after an edit would
  // be judged by the text before it.
  function operationsOf(query) {
    var source = query.replace(/"""[\s\S]*?"""|"(?:[^"\\\n\r]|\\.)*"|#[^\n\r]*/g, ' ');
    var tokens = source.match(/[{}()]|@?[_A-Za-z][_0-9A-Za-z]*/g) || [];
    var operations = [];
    var depth = 0;
    var heading = null; // the definition whose selection set comes next, named or not yet
    tokens.forEach(function (token) {
      if (token === '{' || token === '(') {
        if (depth === 0 && token === '{') {
          if (heading === null) {
            operations.push({ kind: 'query' }); // the `{ ... }` shorthand
          }
          heading = null;
        }
        depth += 1;
      } else if (token === '}' || token === ')') {
        depth = Math.max(0, depth - 1);
      } else if (depth === 0 && heading === null) {
        heading = { kind: token, named: false };
        if (token === 'query' || token === 'mutation' || token === 'subscription') {
          operations.push(heading);
        }
      } else if (depth === 0 && !heading.named && token.charAt(0) !== '@') {
        heading.name = token;
        heading.named = true;
      }
    });
    return operations;
  }

  // Whether the operation GraphiQL runs is a subscription.
  function isSubscription(params) {
    var operations = operationsOf(params.query || '');
    var operation = params.operationName
      ? operations.filter(function (candidate) {
          return candidate.name === params.operationName;
        })[0]
      : operations.length === 1
        ? operations[0]
        : undefined;
    return operation !== undefined && operation.kind === 'subscription';
  }

  var http = GraphiQL.createFetcher({ url: endpoint });

  function fetcher(params, options) {
    if (!isSubscription(params)) {
      return http(params, options);
    }
    var authorization = authorizationOf(options && options.headers);
    var sockets = GraphiQL.createFetcher({
      url: endpoint,
      subscriptionUrl: socketUrl.toString(),
      wsConnectionParams: authorization === undefined ? {} : { authorization: authorization },
    });
    // GraphiQL's fetcher takes the socket only for a `documentAST` with a subscription: the
    // smallest such document stands for the one in the editor, whose parse may lag. Without
    // the headers, which it would copy into the payload too.
    var name = params.operationName ? { kind: 'Name', value: params.operationName } : undefined;
    var documentAST = {
      kind: 'Document',
      definitions: [{ kind: 'OperationDefinition', operation: 'subscription', name: name }],
    };
    return sockets(params, Object.assign({}, options, { headers: undefined, documentAST: documentAST }));
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      // A bearer token stays in this tab, never in localStorage.
      shouldPersistHeaders: false,
    })
  );
})();
