// Starts Swagger UI on the page's #swagger-ui element, for the OpenAPI document its
// data-spec-url names. A file of its own (no inline script), so the page runs under a
// content security policy of script-src 'self'.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
})();
