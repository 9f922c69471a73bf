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

  function showMessage(text, kind) {
    var area = document.getElementById("messages");
    if (!area) { return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (kind || "danger");
    alert.setAttribute("role", kind === "success" ? "status" : "alert");
    alert.textContent = text;
    area.replaceChildren(alert);
    showArea(area);
  }

  // The message area is at the top: a user who pressed a button at the end of a long form
  // would not see what happened. Bring the message into view (the form keeps what was typed).
  function showArea(area) {
    if (area.getBoundingClientRect().top < 0) { area.scrollIntoView({ block: "start", behavior: "instant" }); }
  }

  var english = (document.documentElement.lang || "it") === "en";
  var texts = english ? {
    network: "The portal cannot be reached. Check the connection and try again: what you typed is still here.",
    server: "The portal could not complete the request and nothing was saved. Try again in a moment: what you typed is still here.",
    renewed: "You are logged in again: press the button once more to save."
  } : {
    network: "Il portale non risponde. Controlla la connessione e riprova: quello che hai scritto è ancora qui.",
    server: "Il portale non è riuscito a completare la richiesta e non ha salvato nulla. Riprova tra poco: quello che hai scritto è ancora qui.",
    renewed: "Hai di nuovo accesso al portale: premi di nuovo il pulsante per salvare."
  };

  // A form that outlived its session or its token: after a login (in another tab) the page
  // takes the new session's token, so pressing the button again saves what the user typed.
  var waitingForLogin = false;
  function renewToken(afterLogin) {
    var url = document.body && document.body.getAttribute("data-csrf-url");
    if (!url || !window.fetch) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.csrf_token) { return; }
        document.body.setAttribute("hx-headers:inherited", JSON.stringify({ "X-CSRFToken": data.csrf_token }));
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
          input.value = data.csrf_token;
        });
        if (afterLogin) {
          waitingForLogin = false;
          showMessage(texts.renewed, "success");
        }
      })
      .catch(function () { /* still offline or logged out: the message on screen stands */ });
  }
  function onReturn() {
    if (waitingForLogin && document.visibilityState !== "hidden") { renewToken(true); }
  }
  window.addEventListener("focus", onReturn);
  document.addEventListener("visibilitychange", onReturn);

  function header(ctx, name) {
    var headers = ctx && ctx.response && ctx.response.headers;
    return headers && headers.get ? headers.get(name) : null;
  }

  // A live filter may replace only the message next to a field (data-feedback-for): the field's
  // invalid state follows its message, so a screen reader hears it on the field too.
  function syncFeedback() {
    document.querySelectorAll("[data-feedback-for]").forEach(function (feedback) {
      var field = document.getElementById(feedback.getAttribute("data-feedback-for"));
      if (!field) { return; }
      var invalid = feedback.textContent.trim() !== "";
      field.classList.toggle("is-invalid", invalid);
      if (invalid) { field.setAttribute("aria-invalid", "true"); } else { field.removeAttribute("aria-invalid"); }
    });
  }

  // The server's own error answers are put in the message area (HX-Retarget): show them too.
  document.addEventListener("htmx:after:swap", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var area = document.getElementById("messages");
    if (area && ctx && ctx.target === area && area.textContent.trim()) { showArea(area); }
    syncFeedback();
    focusFirstError();
  });

  // A page that comes back with errors (a boosted form, a filter in the address) puts the cursor
  // on the first wrong field, unless the page chose a field itself (autofocus) or the cursor is
  // still where the user left it (a live filter that did not replace the field).
  function focusFirstError() {
    if (document.querySelector("[autofocus]")) { return; }
    var first = document.querySelector('main [aria-invalid="true"]');
    if (first && document.activeElement === document.body) { first.focus(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }
  // On a phone a table's rows are shown as cards (app.css): each cell is headed by its column's
  // name, taken from the table's own header (colspans counted). Run for every swapped-in table or row.
  function labelCells(root) {
    if (!(root instanceof Element)) { return; }
    var tables = root.closest("table") ? [root.closest("table")] :
      Array.prototype.slice.call(root.querySelectorAll("table"));
    tables.forEach(function (table) {
      if (!table.tHead || !table.tHead.rows.length) { return; }
      // Every header row counts (rowspans and colspans placed as the browser does): a column
      // under a group is named by both, "Paniere alimentare · Quantità".
      var grid = [];
      Array.prototype.forEach.call(table.tHead.rows, function (row, r) {
        grid[r] = grid[r] || [];
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          while (grid[r][column] !== undefined) { column++; }
          var shown = cell.cloneNode(true);  // the name as printed, without what only screen readers hear
          shown.querySelectorAll(".visually-hidden").forEach(function (hidden) { hidden.remove(); });
          var name = shown.textContent.replace(/\s+/g, " ").trim();
          for (var dr = 0; dr < Math.max(cell.rowSpan, 1); dr++) {
            grid[r + dr] = grid[r + dr] || [];
            for (var dc = 0; dc < cell.colSpan; dc++) { grid[r + dr][column + dc] = name; }
          }
          column += cell.colSpan;
        });
      });
      var names = [];
      grid.forEach(function (row) {
        row.forEach(function (name, column) {
          var parts = names[column] || (names[column] = []);
          if (name && parts.indexOf(name) < 0) { parts.push(name); }
        });
      });
      names = names.map(function (parts) { return parts.join(" · "); });
      Array.prototype.forEach.call(table.querySelectorAll(":scope > tbody > tr, :scope > tfoot > tr"), function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column];
          // An empty cell (no second-basket reason) gets no name: a name over nothing reads as missing.
          var empty = !cell.textContent.trim() && !cell.querySelector("img,svg,input,select,textarea,button");
          if (name && !empty && cell.colSpan === 1 && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", name); }
          column += cell.colSpan;
        });
      });
    });
  }

  // A link of the open phone menu loads the next page in place (hx-boost): close the menu first,
  // or the new page would stay under its backdrop, not scrollable.
  document.addEventListener("htmx:before:request", function () {
    var open = document.querySelector(".navbar-collapsable.expanded");
    var menu = open && window.bootstrap && window.bootstrap.NavBarCollapsible;
    if (menu && menu.getInstance(open)) { menu.getInstance(open).hide(); }
  });
  // Bootstrap Italia shows and hides the menu with an inline style; htmx would copy it onto the
  // new page's menu, which the CSP (style-src-attr) refuses. The stylesheet hides the menu anyway.
  document.addEventListener("htmx:before:swap", function () {
    var menu = document.getElementById("main-menu");
    if (menu && menu.hasAttribute("style")) { menu.removeAttribute("style"); }
  });

  // Double clicks: while a write is in flight (a POST of a form, boosted or not, or of a button)
  // its submit buttons are disabled, so a second press or an Enter in a field sends nothing;
  // searches (role=search) are reads and stay as they are. The buttons are held by this request
  // (ctx), not by the form, so a row added or removed inside the form cannot keep them disabled.
  // A disabled button loses the keyboard focus to <body>. The answer frees the buttons and gives
  // the focus back before it is swapped in, so htmx keeps it on the control of the same id and the
  // other focus rules (first wrong field, swapped row) see what they did before; an answer that
  // swaps nothing (an error page not shown, a network failure) frees them as it ends.
  var SUBMITS = "button[type=submit],button:not([type]),input[type=submit],input[type=image]";
  function busyButtons(ctx) {
    var source = ctx.sourceElement;
    var method = String((ctx.request && ctx.request.method) || "GET").toUpperCase();
    if (method === "GET" || !(source instanceof Element)) { return []; }
    var form = ctx.request.form || source.closest("form");
    if ((form && form.matches("[role=search]")) || source.closest("[role=search]")) { return []; }
    var buttons = form ? Array.prototype.slice.call(form.querySelectorAll(SUBMITS)) : [];
    if (form && form.id) {
      buttons = buttons.concat(Array.prototype.slice.call(document.querySelectorAll(
        'button[form="' + form.id + '"],input[type=submit][form="' + form.id + '"]')));
    }
    if (source.matches("button,input[type=submit]") && buttons.indexOf(source) < 0) { buttons.push(source); }
    return buttons.filter(function (button) { return !button.disabled; });
  }
  function focusLost() {
    return !document.activeElement || document.activeElement === document.body;
  }
  function releaseButtons(ctx) {
    var guard = ctx && ctx.guard;
    if (!guard) { return; }
    ctx.guard = null;
    guard.buttons.forEach(function (button) { button.disabled = false; });
    if (!focusLost() || !guard.focus) { return; }
    var back = document.contains(guard.focus) ? guard.focus :
      (guard.focusId ? document.getElementById(guard.focusId) : null);
    // Without scrolling: a message the answer brought into view (at the top) stays in view.
    if (back && !back.disabled) { back.focus({ preventScroll: true }); }
  }
  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (!ctx) { return; }
    var buttons = busyButtons(ctx);
    if (!buttons.length) { return; }
    var focused = focusLost() ? null : document.activeElement;
    ctx.guard = { buttons: buttons, focus: focused, focusId: focused && focused.id };
    buttons.forEach(function (button) { button.disabled = true; });
  });
  document.addEventListener("htmx:before:swap", function (event) {
    releaseButtons(event.detail && event.detail.ctx);
  });
  document.addEventListener("htmx:finally:request", function (event) {
    releaseButtons(event.detail && event.detail.ctx);
  });

  // htmx:after:process runs for <body> at start-up and for every node htmx swaps in.
  document.addEventListener("htmx:after:process", function (event) {
    initComponents(event.target);
    labelCells(event.target);
  });
  document.addEventListener("htmx:response:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (header(ctx, "X-Session-Expired")) { waitingForLogin = true; }
    if (header(ctx, "X-CSRF-Expired")) { renewToken(false); }
  });
  // A server error the portal did not answer itself (a proxy's 502 page, a crash before the
  // portal's error handler) must not replace the form: say so in the message area instead.
  document.addEventListener("htmx:before:swap", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.response && ctx.response.status >= 500 && !header(ctx, "HX-Retarget")) {
      event.preventDefault();
      showMessage(texts.server);
    }
  });
  // An inline edit swaps a table row for its form and back: the focused button went with the old
  // row, so the cursor would fall to the page's body. Put it in the new row instead: on the
  // field the page chose (autofocus), else the form's first field, else the row's first control.
  function focusSwappedRow(event) {
    var ctx = event.detail && event.detail.ctx;
    var swapped = [event.target, ctx && ctx.target].filter(function (el) {
      return el && el.tagName === "TR" && el.id;
    })[0];
    if (!swapped) { return; }
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) { return; }
    var row = document.getElementById(swapped.id);
    if (!row) { return; }
    var target = row.querySelector("[autofocus]") ||
      row.querySelector("form input:not([type=hidden]), form select, form textarea") ||
      row.querySelector("a[href], button, input:not([type=hidden])");
    if (!target) { row.setAttribute("tabindex", "-1"); target = row; }
    target.focus();
  }
  document.addEventListener("htmx:after:swap", focusSwappedRow);
  // A request that got no answer at all (network down, timeout): say so; the form stays as it is.
  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (!ctx || !ctx.response) { showMessage(texts.network); }
  });
})();
