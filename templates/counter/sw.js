/* The offline counter's service worker (served by app/counter/views.py at the counter's path,
   so that it controls the counter alone). It keeps the page, which holds no household, and
   its versioned assets; everything else (the day's data, the sync) goes to the network and is
   never kept here. A new release names new asset URLs, hence a new worker and a new cache. */
"use strict";

var CACHE = "counter-{{ version }}";
var SHELL = {{ shell|tojson }};
var ASSETS = {{ assets|tojson }};

function keepShell(response) {
  // Only the real page: not a redirect to the login form, not an error page.
  if (!response || !response.ok || response.redirected || response.type !== "basic") { return response; }
  var copy = response.clone();
  caches.open(CACHE).then(function (cache) { cache.put(SHELL, copy); });
  return response;
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(ASSETS).then(function () {
        return fetch(SHELL, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
          if (response.ok && !response.redirected) { return cache.put(SHELL, response); }
        });
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("counter-") === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === SHELL) {
    // The network first (the page may have changed); the kept page when there is none.
    event.respondWith(
      fetch(request).then(keepShell).catch(function () {
        return caches.match(SHELL).then(function (kept) {
          return kept || Response.error();
        });
      })
    );
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(
      caches.match(request).then(function (kept) { return kept || fetch(request); })
    );
  }
});
