// The service worker: keeps the whole app (shell, code, decoder, catalogs, pinned key) in a
// cache, so that after the first visit the app opens and verifies with no network at all.
// The server (or the static build) fills in VERSION (a hash of every file) and FILES (their
// paths) below. Lists and the API are not cached here: the app keeps the
// signed lists in IndexedDB itself, and check uploads must reach the server.

const VERSION = "__APP_VERSION__";
const FILES = typeof __APP_FILES__ === "undefined" ? [] : __APP_FILES__;
const CACHE = `checkpoint-${VERSION}`;
const SCOPE = new URL("./", self.location).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(["./", ...FILES].map((f) => new Request(f, { cache: "no-cache" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("checkpoint-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(request, { ignoreSearch: true });
      if (hit) return hit;
      if (request.mode === "navigate") {
        const shell = await cache.match("./");
        if (shell) return shell;
      }
      return fetch(request);
    }),
  );
});
