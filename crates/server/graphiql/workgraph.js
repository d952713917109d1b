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

  // Whether the operation GraphiQL runs is a subscription (the same test its fetcher makes).
  function isSubscription(params, options) {
    var document = options && options.documentAST;
    if (!document) {
      return false;
    }
    return document.definitions.some(function (definition) {
      return (
        definition.kind === 'OperationDefinition' &&
        definition.operation === 'subscription' &&
        (!params.operationName ||
          (definition.name && definition.name.value === params.operationName))
      );
    });
  }

  var http = GraphiQL.createFetcher({ url: endpoint });

  function fetcher(params, options) {
    if (!isSubscription(params, options)) {
      return http(params, options);
    }
    var authorization = authorizationOf(options && options.headers);
    var sockets = GraphiQL.createFetcher({
      url: endpoint,
      subscriptionUrl: socketUrl.toString(),
      wsConnectionParams: authorization === undefined ? {} : { authorization: authorization },
    });
    // Without the headers, which GraphiQL would otherwise copy into the payload too.
    return sockets(params, Object.assign({}, options, { headers: undefined }));
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
