// Starts GraphiQL on the page's #graphiql element, querying the endpoint its data-endpoint
// names. A file of its own (no inline script), so the page runs under a content security
// policy of script-src 'self'.
(function () {
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: root.getAttribute("data-default-query") || undefined,
      // The caller's token goes in the Headers pane ({"Authorization": "Bearer <token>"})
      // and stays there for the next visit.
      shouldPersistHeaders: true,
    })
  );
})();
