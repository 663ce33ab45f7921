// Camera scanning: the rear camera, continuously, one frame at a time (never a queue of old
// frames), with the native BarcodeDetector where the browser has one and jsQR in a worker
// otherwise; a torch toggle where the camera offers one; and QR codes in photos.

const SCAN_EDGE = 720; // frames are scaled so that their longer side is at most this
const PHOTO_EDGE = 1600;

export class QrReader {
  constructor(workerUrl) {
    this.workerUrl = workerUrl;
    this.detector = null;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
    this.decodeMs = [];
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
  }

  /** Choose the native detector when it reads QR codes, else start the jsQR worker. */
  async init() {
    if ("BarcodeDetector" in globalThis) {
      try {
        const formats = await globalThis.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) this.detector = new globalThis.BarcodeDetector({ formats: ["qr_code"] });
      } catch {
        this.detector = null;
      }
    }
    if (!this.detector) {
      this.worker = new Worker(this.workerUrl);
      this.worker.onmessage = (event) => this.#answer(event.data);
    }
    return this.detector ? "native" : "jsqr";
  }

  #answer({ id, text, ms }) {
    this.decodeMs.push(ms); // how long each frame took in the worker (for the benchmark)
    if (this.decodeMs.length > 200) this.decodeMs.shift();
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    if (resolve) resolve(text);
  }

  /** The text of a QR code in `source` (video, image or bitmap), or null. */
  async read(source, width, height, { thorough = false, edge = SCAN_EDGE } = {}) {
    if (this.detector) {
      try {
        const codes = await this.detector.detect(source);
        if (codes.length) return codes[0].rawValue;
        if (!thorough) return null;
      } catch {
        if (!this.worker) return null;
      }
      if (!this.worker) return null;
    }
    const scale = Math.min(1, edge / Math.max(width, height));
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.context.drawImage(source, 0, 0, w, h);
    const { data } = this.context.getImageData(0, 0, w, h);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, width: w, height: h, buffer: data.buffer, thorough }, [data.buffer]);
    });
  }

  /** Read a QR code from an image file (a permit sent as a picture). */
  async readFile(file) {
    const bitmap = await createImageBitmap(file);
    try {
      if (this.detector) {
        // BarcodeDetector reads bitmaps directly; fall back to jsQR only if it has a worker
        const codes = await this.detector.detect(bitmap).catch(() => []);
        if (codes.length) return codes[0].rawValue;
      }
      if (!this.worker) {
        this.worker = new Worker(this.workerUrl);
        this.worker.onmessage = (event) => this.#answer(event.data);
      }
      const saved = this.detector;
      this.detector = null;
      try {
        return await this.read(bitmap, bitmap.width, bitmap.height, { thorough: true, edge: PHOTO_EDGE });
      } finally {
        this.detector = saved;
      }
    } finally {
      bitmap.close();
    }
  }
}

export class Scanner {
  /**
   * `onText(text, frameTime)` is called with each QR text read; `frameTime` is the
   * performance.now() at which the scanner took the frame that carried it.
   */
  constructor(video, reader, onText) {
    this.video = video;
    this.reader = reader;
    this.onText = onText;
    this.stream = null;
    this.track = null;
    this.active = false;
    this.busy = false;
    this.frames = 0;
  }

  get torchAvailable() {
    const caps = this.track && this.track.getCapabilities ? this.track.getCapabilities() : {};
    return Boolean(caps.torch);
  }

  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw Object.assign(new Error("no camera"), { name: "NotFoundError" });
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    this.track = this.stream.getVideoTracks()[0];
    this.video.srcObject = this.stream;
    await this.video.play();
    this.active = true;
    this.#schedule();
  }

  stop() {
    this.active = false;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.track = null;
  }

  pause() {
    this.paused = true;
  }

  /** Do not report `text` again for `ms` (the same permit still held up after "Scan next"). */
  ignore(text, ms) {
    this.ignored = { text, until: performance.now() + ms };
  }

  resume() {
    this.paused = false;
    this.#schedule();
  }

  async setTorch(on) {
    if (!this.track) return false;
    await this.track.applyConstraints({ advanced: [{ torch: on }] });
    return on;
  }

  #schedule() {
    if (!this.active || this.scheduled) return;
    this.scheduled = true;
    const next = () => {
      this.scheduled = false;
      this.#frame(performance.now());
    };
    if (this.video.requestVideoFrameCallback) this.video.requestVideoFrameCallback(next);
    else requestAnimationFrame(next);
  }

  async #frame(frameTime) {
    if (!this.active || this.paused) return;
    const width = this.video.videoWidth;
    const height = this.video.videoHeight;
    if (!this.busy && width && height) {
      this.busy = true;
      this.frames++;
      try {
        const text = await this.reader.read(this.video, width, height);
        const ignored = this.ignored && text === this.ignored.text && performance.now() < this.ignored.until;
        if (text && !ignored && this.active && !this.paused) {
          this.paused = true;
          this.onText(text, frameTime);
        }
      } finally {
        this.busy = false;
      }
    }
    this.#schedule();
  }
}
