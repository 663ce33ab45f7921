// Service worker for holder pages (/h/...): network first, so a revocation shows as soon
// as the phone is online; the last copy of each page when there is no network.
"use strict";
var CACHE = "{{CACHE}}";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (!/^\/h\/[A-Za-z0-9_-]+$/.test(url.pathname)) { return; }
  event.respondWith(
    fetch(request, { cache: "no-store" }).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.href, copy); });
      } else if (response.status === 404) {
        caches.open(CACHE).then(function (cache) { cache.delete(url.href); });
      }
      return response;
    }).catch(function (error) {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(url.href, { ignoreSearch: false }).then(function (cached) {
          if (cached) { return cached; }
          throw error;
        });
      });
    })
  );
});
