// What the device keeps, in IndexedDB: the pinned root key, the signed lists (raw COSE bytes,
// checked again at every start), the settings, and the check records waiting for upload.
// A check record holds no names and no personal numbers: the permit id, the verdict, when,
// where and by whom. Records are deleted as soon as the server has them.

const DB_NAME = "permits-checkpoint";
const DB_VERSION = 1;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class Store {
  static async open() {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
      if (!db.objectStoreNames.contains("checks")) db.createObjectStore("checks", { keyPath: "device_check_id" });
    };
    return new Store(await promised(request));
  }

  constructor(db) {
    this.db = db;
  }

  async #run(storeName, mode, work) {
    const tx = this.db.transaction(storeName, mode);
    const result = await promised(work(tx.objectStore(storeName)));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return result;
  }

  get(key) {
    return this.#run("kv", "readonly", (s) => s.get(key));
  }

  put(key, value) {
    return this.#run("kv", "readwrite", (s) => s.put(value, key));
  }

  addCheck(record) {
    return this.#run("checks", "readwrite", (s) => s.put(record));
  }

  checks() {
    return this.#run("checks", "readonly", (s) => s.getAll());
  }

  countChecks() {
    return this.#run("checks", "readonly", (s) => s.count());
  }

  async deleteChecks(ids) {
    const tx = this.db.transaction("checks", "readwrite");
    const s = tx.objectStore("checks");
    for (const id of ids) s.delete(id);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }
}
