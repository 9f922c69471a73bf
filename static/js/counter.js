/* The offline counter (templates/counter/index.html): keeps a hub's day open without a
   connection.

   - The day (the households the hub may see, as little of each as the counter needs) comes
     from the server as JSON and is kept in IndexedDB only encrypted (AES-GCM, WebCrypto) with
     the day's key, which the server gives to the logged-in session (/counter/session) and
     forgets when the day is closed or the user logs out. The key stays in this tab's
     sessionStorage, so that the page can be reopened offline; closing the tab loses it.
   - Each distribution recorded here goes into a local queue (encrypted too) with its own
     idempotency key, and is sent when the connection returns; the server applies each key
     exactly once and says what became of it, then the key leaves the queue.
   - Closing the day, or logging out, wipes what the browser kept.
   No inline script (CSP script-src 'self'); the texts come from the page (gettext). */
(function () {
  "use strict";

  var DB_NAME = "reti-counter";
  var KEY_SLOT = "reti-counter-key";
  var MAX_HITS = 10;
  var root = null;
  var state = { key: null, userId: null, day: null, queue: [], viewed: {}, chosen: null, syncing: false, csrf: null };

  // Texts and small helpers ----------------------------------------------------------------

  function text(name, values) {
    var value = (root && root.getAttribute("data-text-" + name)) || "";
    Object.keys(values || {}).forEach(function (k) { value = value.split("{" + k + "}").join(String(values[k])); });
    return value;
  }
  function el(id) { return document.getElementById(id); }
  function show(id, message) { var node = el(id); if (node) { node.textContent = message || ""; } }
  function romeToday() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Rome" }).format(new Date());
  }
  function italianDate(iso) { var p = (iso || "").split("-"); return p.length === 3 ? p[2] + "/" + p[1] + "/" + p[0] : iso; }
  function newKey() {
    var bytes = crypto.getRandomValues(new Uint8Array(24));
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function sha256Hex(value) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)).then(function (digest) {
      return Array.prototype.map.call(new Uint8Array(digest), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    });
  }

  // Storage: IndexedDB, every record encrypted ---------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("day", { keyPath: "id" });
        request.result.createObjectStore("queue", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function tx(store, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var result = work(t.objectStore(store));
        t.oncomplete = function () { db.close(); resolve(result instanceof IDBRequest ? result.result : result); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }
  function encrypt(value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var plain = new TextEncoder().encode(JSON.stringify(value));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, state.key, plain).then(function (data) {
      return { iv: iv, data: data };
    });
  }
  function decrypt(record) {
    return crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv }, state.key, record.data).then(function (plain) {
      return JSON.parse(new TextDecoder().decode(plain));
    });
  }
  function wipe() {
    sessionStorage.removeItem(KEY_SLOT);
    state.key = null; state.day = null; state.queue = []; state.viewed = {}; state.chosen = null;
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    });
  }

  // The key: from the server when online, from this tab when not ------------------------

  function importKey(raw) {
    var bytes = Uint8Array.from(atob(raw), function (c) { return c.charCodeAt(0); });
    return crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
  }
  function fetchSession() {
    return fetch(root.getAttribute("data-session-url"), { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.status === 401 || response.status === 403) { throw new Error("logged-out"); }
      if (!response.ok) { throw new Error("unavailable"); }
      return response.json();
    }).then(function (session) {
      state.csrf = session.csrf;
      sessionStorage.setItem(KEY_SLOT, JSON.stringify({ key: session.key, user: session.user_id, day: session.day }));
      return session;
    });
  }
  function loadKey() {
    var asked = navigator.onLine ? fetchSession() : Promise.reject(new Error("offline"));
    return asked.catch(function (error) {
      if (error.message === "logged-out") { throw error; }
      var kept = sessionStorage.getItem(KEY_SLOT);
      if (!kept) { throw new Error("locked"); }
      return JSON.parse(kept);
    }).then(function (session) {
      state.userId = session.user;
      if (session.user_id !== undefined) { state.userId = session.user_id; }
      return importKey(session.key).then(function (key) { state.key = key; return session; });
    });
  }

  // Loading what the phone keeps -------------------------------------------------------------

  function loadKept() {
    return tx("day", "readonly", function (store) { return store.get("day"); }).then(function (record) {
      if (!record) { return null; }
      if (record.user !== state.userId) { return wipe().then(function () { return null; }); }
      return decrypt(record).then(function (day) {
        if (day.day !== romeToday()) {  // another day's data is not used: the queue still goes
          return tx("day", "readwrite", function (store) { store.delete("day"); }).then(function () {
            show("counter-message", text("stale"));
            return null;
          });
        }
        return day;
      }, function () { return null; });  // an older key: unreadable, left to be replaced
    }).then(function (day) {
      state.day = day;
      return tx("queue", "readonly", function (store) { return store.getAll(); });
    }).then(function (records) {
      return Promise.all((records || []).filter(function (r) { return r.user === state.userId; }).map(function (r) {
        return decrypt(r).catch(function () { return null; });
      }));
    }).then(function (items) {
      state.queue = items.filter(Boolean).sort(function (a, b) { return a.recorded_at < b.recorded_at ? -1 : 1; });
    });
  }

  function saveDay(day) {
    return encrypt(day).then(function (sealed) {
      return tx("day", "readwrite", function (store) {
        store.put({ id: "day", user: state.userId, iv: sealed.iv, data: sealed.data });
      });
    });
  }
  function saveItem(item) {
    return encrypt(item).then(function (sealed) {
      return tx("queue", "readwrite", function (store) {
        store.put({ key: item.key, user: state.userId, iv: sealed.iv, data: sealed.data });
      });
    });
  }
  function dropItems(keys) {
    return tx("queue", "readwrite", function (store) { keys.forEach(function (k) { store.delete(k); }); });
  }

  // What the page shows ----------------------------------------------------------------------

  function renderStatus() {
    show("counter-connection", navigator.onLine ? text("online") : text("offline"));
    root.classList.toggle("is-offline", !navigator.onLine);
    if (state.day) {
      show("counter-day", text("day", { date: italianDate(state.day.day), count: state.day.households.length }) +
        (state.day.truncated ? " " + text("day-truncated") : ""));
    } else {
      show("counter-day", text("no-day"));
    }
    show("counter-queue-status", state.queue.length ? text("queue-some", { count: state.queue.length }) : text("queue-none"));
    var list = el("counter-queue");
    list.textContent = "";
    state.queue.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "mb-1";
      li.textContent = item.name + " · " + (kindLabel(item.kind)) + " × " + item.quantity + " · " + italianDate(item.distributed_on);
      list.appendChild(li);
    });
  }
  function kindLabel(kind) { return (state.day && state.day.kinds[kind]) || kind; }

  function householdsMatching(query) {
    var q = query.trim().toLowerCase().replace(/\s+/g, " ");
    if (!state.day) { return Promise.resolve(null); }
    var compact = q.replace(/ /g, "").toUpperCase();
    var byCode = /^[A-Z0-9]{16}$/.test(compact) ? sha256Hex(compact) : Promise.resolve(null);
    return byCode.then(function (digest) {
      var words = q.split(" ").slice(0, 4);
      var hits = state.day.households.filter(function (h) {
        if (digest && h.cf.indexOf(digest) !== -1) { return true; }
        return words.every(function (word) {
          return h.words.some(function (w) { return w.indexOf(word) === 0; });
        });
      });
      hits.sort(function (a, b) { return a.name.localeCompare(b.name, "it") || a.id - b.id; });
      return hits.slice(0, MAX_HITS);
    });
  }

  function basketsThisMonth(h) {
    var month = romeToday().slice(0, 7);
    var dates = (h.baskets || []).filter(function (d) { return d.slice(0, 7) === month; });
    state.queue.forEach(function (item) {
      if (item.household_id === h.id && item.kind === "food_basket" && item.distributed_on.slice(0, 7) === month) {
        dates.push(item.distributed_on);
      }
    });
    return dates.sort();
  }

  function renderHits(query) {
    var box = el("counter-hits");
    if (query.trim().length < 2) { box.textContent = query.trim() ? text("min-chars") : ""; return; }
    householdsMatching(query).then(function (hits) {
      box.textContent = "";
      if (hits === null) { box.textContent = text("no-day"); return; }
      if (!hits.length) { box.textContent = text("no-match", { q: query.trim() }); return; }
      var list = document.createElement("ul");
      list.className = "list-unstyled finder-hits mb-2";
      hits.forEach(function (h) {
        var li = document.createElement("li");
        li.className = "finder-hit";
        var info = document.createElement("div");
        var name = document.createElement("span");
        name.className = "fw-semibold";
        name.textContent = h.name;
        info.appendChild(name);
        var details = [];
        if (h.birth_year) { details.push(text("born", { year: h.birth_year })); }
        if (h.cf_tail) { details.push(text("cf", { tail: h.cf_tail })); }
        if (h.street) { details.push(h.street); }
        details.push(text("members", { count: h.members }));
        if (h.last) { details.push(text("last", { date: italianDate(h.last) })); }
        var line = document.createElement("span");
        line.className = "d-block small";
        line.textContent = details.join(" · ");
        info.appendChild(line);
        if (basketsThisMonth(h).length) {
          var badge = document.createElement("span");
          badge.className = "badge bg-warning";
          badge.textContent = text("basket-month");
          info.appendChild(badge);
        }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-primary btn-sm";
        button.textContent = text("select");
        button.setAttribute("aria-label", text("select-label", { name: h.name }));
        button.addEventListener("click", function () { choose(h); });
        li.appendChild(info);
        li.appendChild(button);
        list.appendChild(li);
      });
      box.appendChild(list);
    });
  }

  function fieldError(id, message) {
    var field = el(id);
    var error = el(id + "-error");
    if (error) { error.textContent = message || ""; }
    if (field) {
      field.classList.toggle("is-invalid", !!message);
      if (message) { field.setAttribute("aria-invalid", "true"); } else { field.removeAttribute("aria-invalid"); }
    }
  }

  function renderWarning() {
    var h = state.chosen;
    var warning = el("counter-warning");
    var group = el("counter-reason-group");
    var dates = h && el("counter-kind").value === "food_basket" ? basketsThisMonth(h) : [];
    warning.hidden = group.hidden = !dates.length;
    warning.textContent = dates.length ? text("second-basket", { dates: dates.map(italianDate).join(", ") }) : "";
  }

  function choose(h) {
    state.chosen = h;
    state.viewed[h.id] = true;
    el("counter-no-household").hidden = true;
    el("counter-form").hidden = false;
    show("counter-household", h.name);
    show("counter-saved", "");
    ["counter-quantity", "counter-reason", "counter-site"].forEach(function (id) { fieldError(id, ""); });
    el("counter-quantity").value = "1";
    el("counter-reason").value = "";
    renderWarning();
    var first = el("counter-site") && el("counter-site").tagName === "SELECT" ? el("counter-site") : el("counter-kind");
    first.focus();
  }

  function resetForm() {
    state.chosen = null;
    el("counter-form").hidden = true;
    el("counter-no-household").hidden = false;
    el("counter-hits").textContent = "";
    el("counter-q").value = "";
  }

  function record(event) {
    event.preventDefault();
    var h = state.chosen;
    if (!h) { return; }
    var quantityText = el("counter-quantity").value.trim();
    var quantity = /^\d+$/.test(quantityText) ? parseInt(quantityText, 10) : 0;
    var site = el("counter-site") ? parseInt(el("counter-site").value, 10) : NaN;
    var needsReason = !el("counter-reason-group").hidden;
    var reason = el("counter-reason").value.trim();
    var errors = {
      "counter-quantity": quantity >= 1 && quantity <= 100 ? "" : text("quantity-invalid"),
      "counter-site": site > 0 ? "" : text("site-required"),
      "counter-reason": needsReason && !reason ? text("reason-required") : ""
    };
    var firstBad = null;
    Object.keys(errors).forEach(function (id) {
      fieldError(id, errors[id]);
      if (errors[id] && !firstBad && el(id)) { firstBad = el(id); }
    });
    if (firstBad) { firstBad.focus(); return; }
    var item = {
      key: newKey(),
      household_id: h.id,
      name: h.name,
      site_id: site,
      kind: el("counter-kind").value,
      quantity: quantity,
      distributed_on: romeToday(),
      reason: needsReason ? reason : null,
      recorded_at: new Date().toISOString()
    };
    saveItem(item).then(function () {
      state.queue.push(item);
      h.last = item.distributed_on;
      resetForm();
      show("counter-saved", text("queued", { kind: kindLabel(item.kind), name: item.name }));
      renderStatus();
      el("counter-q").focus();
      if (navigator.onLine) { sync(); }
    });
  }

  // Talking to the server --------------------------------------------------------------------

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": state.csrf || "" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json();
    });
  }

  function openDay() {
    if (!navigator.onLine) { show("counter-message", text("open-failed")); return Promise.resolve(); }
    show("counter-message", text("opening"));
    return loadKey().then(function () {
      return fetch(root.getAttribute("data-day-url"), { credentials: "same-origin", cache: "no-store" });
    }).then(function (response) {
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json();
    }).then(function (day) {
      return saveDay(day).then(function () {
        state.day = day;
        show("counter-message", "");
        renderStatus();
      });
    }).catch(function (error) {
      show("counter-message", error.message === "logged-out" ? text("logged-out") : text("open-failed"));
    });
  }

  function sync() {
    if (state.syncing || !navigator.onLine) { return Promise.resolve(); }
    var viewed = Object.keys(state.viewed).map(Number);
    if (!state.queue.length && !viewed.length) { return Promise.resolve(); }
    state.syncing = true;
    var sending = state.queue.slice();
    show("counter-queue-status", text("syncing"));
    return fetchSession().then(function () {
      return post(root.getAttribute("data-sync-url"), {
        items: sending.map(function (item) {
          return {
            key: item.key, household_id: item.household_id, site_id: item.site_id, kind: item.kind,
            quantity: item.quantity, distributed_on: item.distributed_on, reason: item.reason,
            recorded_at: item.recorded_at
          };
        }),
        viewed: viewed
      });
    }).then(function (answer) {
      var done = {};
      var counts = { recorded: 0, held: 0, refused: 0 };
      answer.results.forEach(function (result) {
        done[result.key] = true;
        if (result.status === "recorded") { counts.recorded += 1; } else if (result.held) { counts.held += 1; } else { counts.refused += 1; }
      });
      viewed.forEach(function (id) { delete state.viewed[id]; });
      return dropItems(Object.keys(done)).then(function () {
        state.queue = state.queue.filter(function (item) { return !done[item.key]; });
        if (answer.results.length) {
          show("counter-saved", "");  // "it will be sent" is now told by the summary
          show("counter-message", text("synced", { sent: answer.results.length, recorded: counts.recorded, held: counts.held, refused: counts.refused }));
        }
        refreshEntries();
      });
    }).catch(function (error) {
      show("counter-message", error.message === "logged-out" ? text("logged-out") : text("sync-failed"));
    }).then(function () {
      state.syncing = false;
      renderStatus();
    });
  }

  // What the queue sent, as the server has it (not when offline: there is nothing to ask).
  function refreshEntries() {
    var entries = el("counter-entries");
    if (entries && navigator.onLine) { entries.dispatchEvent(new CustomEvent("counter-synced")); }
  }

  function closeDay() {
    return sync().then(function () {
      if (state.queue.length) { show("counter-message", text("close-pending")); return null; }
      return fetchSession().then(function () {
        return post(root.getAttribute("data-close-url"));
      }).then(function () {
        return wipe();
      }).then(function () {
        resetForm();
        renderStatus();
        show("counter-message", text("closed"));
      }).catch(function () { show("counter-message", text("open-failed")); });
    });
  }

  // A card read by the scanner or the camera (static/js/card-scan.js submits this form).
  function scanned(event) {
    event.preventDefault();
    var field = el("card-token");
    var token = (field.value || "").replace(/[\s-]/g, "").toUpperCase();
    field.value = "";
    if (!/^[A-Z2-7]{32}$/.test(token) || !state.day) { show("card-scan-status", text("card-unknown")); return; }
    sha256Hex(token).then(function (digest) {
      var found = state.day.households.filter(function (h) { return h.card === digest; })[0];
      if (!found) { show("card-scan-status", text("card-unknown")); return; }
      show("card-scan-status", "");
      choose(found);
    });
  }

  // Logging out with distributions still on the phone would lose them: send first.
  function guardLogout(event) {
    var form = event.target;
    if (!form || !form.action || !/\/logout$/.test(new URL(form.action, location.href).pathname)) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    sync().then(function () {
      if (state.queue.length) { show("counter-message", text("logout-pending")); return; }
      wipe().then(function () { HTMLFormElement.prototype.submit.call(form); });
    });
  }

  function start() {
    root = el("counter");
    if (!root || root.getAttribute("data-started")) { return; }
    root.setAttribute("data-started", "1");
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(root.getAttribute("data-sw-url"), { scope: root.getAttribute("data-scope") }).catch(function () {});
    }
    el("counter-open").addEventListener("click", openDay);
    el("counter-sync").addEventListener("click", sync);
    el("counter-close").addEventListener("click", closeDay);
    el("counter-cancel").addEventListener("click", resetForm);
    el("counter-form").addEventListener("submit", record);
    el("counter-kind").addEventListener("change", renderWarning);
    el("counter-find").addEventListener("submit", function (event) { event.preventDefault(); });
    el("counter-q").addEventListener("input", function () { renderHits(el("counter-q").value); });
    el("card-scan-form").addEventListener("submit", scanned);
    document.addEventListener("submit", guardLogout, true);
    window.addEventListener("online", function () { renderStatus(); sync(); });
    window.addEventListener("offline", renderStatus);
    window.setInterval(function () { if (state.queue.length) { sync(); } }, 30000);
    renderStatus();
    refreshEntries();
    loadKey().then(loadKept).then(function () {
      renderStatus();
      if (navigator.onLine && state.queue.length) { sync(); }
    }).catch(function (error) {
      if (error.message === "logged-out") {
        show("counter-message", text("logged-out"));
      } else {
        show("counter-message", text("locked"));
      }
      renderStatus();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
