// Holder page: keep this page for offline use, keep the screen on, and say when what is
// shown is an offline copy. No data leaves the phone.
(function () {
  "use strict";
  var main = document.querySelector("main");
  var renderedAt = Number(main.getAttribute("data-rendered-at")) * 1000;
  var offline = document.getElementById("offline");
  function markOffline() {
    var old = Date.now() - renderedAt > 10 * 60 * 1000;
    if (!navigator.onLine || old) { offline.className = "offline shown"; }
  }
  markOffline();
  window.addEventListener("offline", markOffline);
  if ("serviceWorker" in navigator && window.caches) {
    navigator.serviceWorker.register("/h/sw.js", { scope: "/h/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      // The first visit came before the worker: store this page now.
      return caches.open("{{CACHE}}").then(function (cache) {
        return fetch(location.href, { cache: "no-store" }).then(function (response) {
          if (response.ok) { return cache.put(location.href, response); }
        });
      });
    }).then(function () {
      document.documentElement.setAttribute("data-offline-ready", "1");
    }).catch(function () { /* the page still works online */ });
  }
  if ("wakeLock" in navigator) {
    var lock = function () { navigator.wakeLock.request("screen").catch(function () {}); };
    lock();
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { lock(); }
    });
  }
})();
