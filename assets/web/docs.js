/*
 * The API reference: Swagger UI (swagger-ui-dist, vendored by
 * `make assets`) rendering this service's own /openapi.json. Nothing
 * is fetched from elsewhere: no validator badge, no remote spec. An
 * API key entered in the web app (sessionStorage) is offered to
 * "Try it out" as X-Api-Key.
 */
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  var ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (req) {
      var key = sessionStorage.getItem("shortener.apiKey");
      if (key && !req.headers["X-Api-Key"]) req.headers["X-Api-Key"] = key;
      return req;
    }
  });
  window.ui = ui;
});
