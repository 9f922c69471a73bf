/* The portal's only script, served from /static so the CSP stays script-src 'self'.
   Fonts come from a static stylesheet (bootstrap.loadFonts() would inject an inline style). */
(function () {
  "use strict";

  var INPUT_SKIP = "select,[type=radio],[type=checkbox],[type=time],[type=hidden]," +
    "input[data-bs-input][type=password],input[data-bs-input][type=number]," +
    "input[data-bs-autocomplete][type=search]";

  // Bootstrap Italia scans the page only at load: do it again for what htmx swaps in.
  function initComponents(root) {
    if (!(root instanceof Element) || !window.bootstrap) { return; }
    var bs = window.bootstrap;
    function all(selector) {
      var found = Array.prototype.slice.call(root.querySelectorAll(selector));
      if (root.matches(selector)) { found.unshift(root); }
      return found;
    }
    all("input,textarea").forEach(function (el) {
      if (!el.matches(INPUT_SKIP) && bs.Input) { bs.Input.getOrCreateInstance(el); }
    });
    all("input[data-bs-input][type=password]").forEach(function (el) {
      if (bs.InputPassword) { bs.InputPassword.getOrCreateInstance(el); }
    });
    all('[data-bs-toggle="tooltip"]').forEach(function (el) { bs.Tooltip.getOrCreateInstance(el); });
    all('[data-bs-toggle="popover"]').forEach(function (el) { bs.Popover.getOrCreateInstance(el); });
  }

  function showMessage(text) {
    var area = document.getElementById("messages");
    if (!area) { return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    area.replaceChildren(alert);
  }

  var english = (document.documentElement.lang || "it") === "en";
  var networkError = english
    ? "The portal cannot be reached. Check the connection and try again: what you typed is still here."
    : "Il portale non risponde. Controlla la connessione e riprova: quello che hai scritto è ancora qui.";

  // htmx:after:process runs for <body> at start-up and for every node htmx swaps in.
  document.addEventListener("htmx:after:process", function (event) { initComponents(event.target); });
  // A request that got no answer at all (network down, timeout): say so; the form stays as it is.
  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (!ctx || !ctx.response) { showMessage(networkError); }
  });
})();
