// The fallback QR decoder, in a worker so that the screen never stalls: jsQR (npm package
// jsqr, copied from node_modules by the server or the static build, never from a CDN).
/* global jsQR */
importScripts("../vendor/jsQR.js");

self.onmessage = (event) => {
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
  self.postMessage({ id, text, ms: performance.now() - started });
};
