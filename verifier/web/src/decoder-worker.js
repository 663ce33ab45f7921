// The fallback QR decoder, in a worker so that the screen never stalls: jsQR (npm package
// jsqr, copied from node_modules by the server or the static build, never from a CDN).
/* global jsQR */
importScripts("../vendor/jsQR.js");

// The benchmark's stand-in for a slow phone: DevTools CPU throttling reaches only pages, not
// workers, so the benchmark asks the worker to spend `slowdown` times as long on each frame.
let slowdown = 1;

self.onmessage = (event) => {
  if (event.data.slowdown) {
    slowdown = event.data.slowdown;
    return;
  }
  const { id, width, height, buffer, thorough } = event.data;
  const started = performance.now();
  let text = null;
  try {
    const code = jsQR(new Uint8ClampedArray(buffer), width, height, {
      inversionAttempts: thorough ? "attemptBoth" : "dontInvert",
    });
    text = code ? code.data : null;
  } catch {
    text = null;
  }
  const spent = performance.now() - started;
  if (slowdown > 1) {
    const until = performance.now() + spent * (slowdown - 1);
    while (performance.now() < until); // busy, as a slower CPU would be
  }
  self.postMessage({ id, text, ms: performance.now() - started });
};
