// The /docs page: Swagger UI over /openapi.json, from the files this server serves (no CDN, no inline script).
// "Try it out" sends the page's CSRF token, as the dashboard's own buttons do.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: (request) => { request.headers["X-CSRF-Token"] = csrf; return request; },
  });
});
