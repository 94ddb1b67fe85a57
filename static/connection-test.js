/* The connection admin's Test button: the form's fields as they are (unsaved) go to
   POST /api/v2/connections/test (the REST API, with this session and its CSRF token), and the
   hook's answer is shown beside the button. An empty password and `***` in the extra stand
   for the stored values, as when saving. */
(function () {
  "use strict";

  function value(id) {
    var el = document.getElementById(id);
    return el ? el.value : "";
  }

  function show(output, ok, text) {
    output.textContent = (ok ? "✓ " : "✗ ") + text;
    output.className = ok ? "test-ok" : "test-failed";
  }

  function detail(body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.detail)) {
      return body.detail.map(function (d) { return (d.loc || []).slice(1).join(".") + ": " + d.msg; }).join("; ");
    }
    return "the server refused the test";
  }

  function test(box, button, output) {
    var body = {
      connection_id: box.getAttribute("data-conn-id") || value("id_conn_id"),
      conn_type: value("id_conn_type"),
      description: value("id_description") || null,
      host: value("id_host") || null,
      schema: value("id_schema") || null,
      login: value("id_login") || null,
      port: value("id_port") === "" ? null : Number(value("id_port")),
      password: value("id_password") || null,
      extra: value("id_extra") || null
    };
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    button.disabled = true;
    output.className = "";
    output.textContent = "Testing…";
    fetch(box.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (result.ok) show(output, result.data.status, result.data.message || (result.data.status ? "Connection success!" : "Connection failed!"));
      else show(output, false, detail(result.data));
    }).catch(function () {
      show(output, false, "the server could not be reached");
    }).then(function () {
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("connection-test");
    var button = document.getElementById("test-connection-button");
    var output = document.getElementById("test-connection-result");
    if (!box || !button || !output || button.disabled) return;
    button.addEventListener("click", function () { test(box, button, output); });
  });
})();
