// The checkpoint app: pins the root key, keeps the signed lists, scans, verifies in the
// browser, shows the verdict, records each check and uploads the records when online.

import { Store } from "./store.js";
import { QrReader, Scanner } from "./scanner.js";
import { ListError, acceptUpdate, isStale, loadRevocationList, loadTrustList, rootFromJwk } from "./lists.js";
import { Verifier, localText, hhmm } from "./verify.js";
import { formatPlate } from "./claims.js";
import { MalformedError } from "./cbor.js";
import { normaliseControlCode } from "./controlcode.js";
import { toHex } from "./cose.js";

const LANGS = ["ka", "az", "en"];
const LIST_FILES = { trust: "trust-list.cose", revocation: "revocation-list.cose" };
const ROLE_NAMES = [null, "patient", "escort", "driver", "staff_member", "family_member", "farmer", "passenger", "shop_supplier", "specialist", "authorised_person"];
const VEHICLE_NAMES = [null, "car", "minibus", "van", "truck", "tractor", "motorbike", "bicycle", "ambulance"];
const COLOURS = {
  valid: "green",
  not_yet_valid: "amber",
  outside_window: "amber",
};
const ICONS = {
  green: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4L9 16.2Z",
  red: "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4l5.6 5.6L5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4Z",
  amber: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm.5-13H11v6l5.2 3.2.8-1.3-4.5-2.7V7Z",
};
const ONLINE_REASONS = {
  valid: "valid", malformed: "not_a_permit_code", unknown_issuer: "unknown_code", bad_signature: "bad_signature",
  category_not_allowed: "category_not_allowed", not_yet_valid: "not_yet_valid", expired: "expired",
  outside_window: "outside_window", revoked: "revoked", replaced: "replaced",
};

const $ = (id) => document.getElementById(id);

const app = {
  config: null,
  store: null,
  root: null,
  pinMismatch: false,
  lists: { trust: null, revocation: null },
  refusals: new Map(),
  verifier: null,
  catalogs: {},
  lang: "ka",
  settings: { checkpoint: "", token: "" },
  checkpoints: [], // the registry's active checkpoints: { code, names: { ka, az, en } }
  scanner: null,
  reader: null,
  decoder: "",
  timings: [],
  current: null,
};

// -- text ------------------------------------------------------------------------------

function t(key, params = {}) {
  const lookup = (catalog) => key.split(".").reduce((v, k) => (v && typeof v === "object" ? v[k] : undefined), catalog);
  let text = lookup(app.catalogs[app.lang]);
  if (text === undefined) text = lookup(app.catalogs.en);
  if (text === undefined) return key;
  if (typeof text !== "string") return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] === undefined ? "" : String(params[name])));
}

async function loadCatalog(lang) {
  if (!app.catalogs[lang]) {
    const response = await fetch(`i18n/${lang}.json`);
    app.catalogs[lang] = await response.json();
  }
}

async function setLanguage(lang) {
  if (!LANGS.includes(lang)) lang = "ka";
  await Promise.all([loadCatalog(lang), loadCatalog("en")]);
  app.lang = lang;
  try {
    localStorage.setItem("checkpoint.lang", lang);
  } catch {
    /* private mode: the choice lasts this visit */
  }
  document.documentElement.lang = lang;
  document.title = t("app_title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute("aria-label", t(el.dataset.i18nTitle));
  }
  for (const button of document.querySelectorAll("#langs button")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  $("decoder-name").textContent = app.decoder ? t(app.decoder === "native" ? "decoder_native" : "decoder_js") : "";
  renderCheckpoints();
  renderStatus();
  if (app.current) renderVerdict(app.current);
}

function initialLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem("checkpoint.lang");
  } catch {
    saved = null;
  }
  if (LANGS.includes(saved)) return saved;
  const preferred = (navigator.language || "ka").slice(0, 2);
  return LANGS.includes(preferred) ? preferred : "ka";
}

// -- lists -----------------------------------------------------------------------------

async function pinRoot() {
  const shipped = app.config.root_public_key;
  let pinned = await app.store.get("pinned_root");
  if (!pinned) {
    pinned = { kty: shipped.kty, crv: shipped.crv, x: shipped.x, y: shipped.y, kid: shipped.kid };
    await app.store.put("pinned_root", pinned);
  } else if (pinned.x !== shipped.x || pinned.y !== shipped.y) {
    app.pinMismatch = true;
  }
  app.root = await rootFromJwk(pinned);
}

async function loadHeldLists() {
  for (const kind of ["trust", "revocation"]) {
    const bytes = await app.store.get(`list_${kind}`);
    if (!bytes) continue;
    try {
      app.lists[kind] = await (kind === "trust" ? loadTrustList : loadRevocationList)(new Uint8Array(bytes), app.root);
    } catch {
      app.lists[kind] = null; // a list the pinned key does not verify is not used
    }
  }
  rebuildVerifier();
}

function rebuildVerifier() {
  app.verifier = app.lists.trust ? new Verifier(app.lists.trust, app.lists.revocation) : null;
}

/** Download both lists; take each only if the pinned root signed it and it is newer. */
async function syncLists() {
  if (!navigator.onLine) return;
  for (const kind of ["trust", "revocation"]) {
    let bytes;
    try {
      const response = await fetch(new URL(LIST_FILES[kind], new URL(app.config.lists_url, location.href)), { cache: "no-store" });
      if (!response.ok) continue;
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch {
      continue; // no network after all: keep what we hold
    }
    let loaded;
    try {
      loaded = await (kind === "trust" ? loadTrustList : loadRevocationList)(bytes, app.root);
    } catch (exc) {
      if (exc instanceof ListError) {
        app.refusals.set(kind, exc.reason);
        continue;
      }
      throw exc;
    }
    const held = app.lists[kind];
    if (acceptUpdate(held ? held.version : null, loaded.version)) {
      app.lists[kind] = loaded;
      await app.store.put(`list_${kind}`, bytes);
      app.refusals.delete(kind);
    } else if (held && loaded.version < held.version) {
      app.refusals.set(kind, "rollback");
    } else {
      app.refusals.delete(kind);
    }
  }
  rebuildVerifier();
  renderStatus();
}

// -- check records ----------------------------------------------------------------------

async function recordCheck(result) {
  const record = {
    device_check_id: crypto.randomUUID(),
    checked_at: new Date(result.at).toISOString(),
    checkpoint: app.settings.checkpoint || "unset",
    result: result.status,
    reason: String(result.reason || "").slice(0, 300),
    cti: result.claims ? toHex(result.claims.permit_id) : null,
    officer_token: app.settings.token || null,
  };
  await app.store.addCheck(record);
  renderPending();
  if (navigator.onLine) uploadChecks();
}

/** Upload the check records (each with the token of the officer who made it), then delete them. */
async function uploadChecks() {
  if (!navigator.onLine || app.uploading) return;
  app.uploading = true;
  try {
    const records = await app.store.checks();
    const groups = new Map();
    for (const record of records) {
      const token = record.officer_token || app.settings.token;
      if (!token) continue;
      if (!groups.has(token)) groups.set(token, []);
      groups.get(token).push(record);
    }
    for (const [token, group] of groups) {
      for (let i = 0; i < group.length; i += 200) {
        const batch = group.slice(i, i + 200);
        const body = {
          checks: batch.map(({ device_check_id, checked_at, checkpoint, result, reason, cti }) => ({
            device_check_id, checked_at, checkpoint, result, reason, cti,
          })),
        };
        let response;
        try {
          response = await fetch(new URL("checks/device", new URL(app.config.api_url, location.href)), {
            method: "POST",
            headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
            body: JSON.stringify(body),
          });
        } catch {
          return;
        }
        if (response.ok) {
          const done = await response.json();
          await app.store.deleteChecks([...done.stored, ...done.duplicates]);
        } else if (response.status === 422) {
          // records the server will never take (e.g. a clock far in the future) are dropped
          const errors = (await response.json()).errors || [];
          const bad = new Set(errors.map((e) => /^checks\[(\d+)\]/.exec(e.field)).filter(Boolean).map((m) => batch[Number(m[1])].device_check_id));
          await app.store.deleteChecks([...bad]);
        } else if (response.status === 401 || response.status === 403) {
          app.tokenRefused = true;
        }
      }
    }
  } finally {
    app.uploading = false;
    renderPending();
  }
}

async function sync() {
  await syncLists();
  await uploadChecks();
  await syncCheckpoints();
}

// -- the checkpoint registry ------------------------------------------------------------
// Settings offer the registry's checkpoints (code, named in the app's language), so that
// check records carry the codes the administration's maps and copied-QR checks rely on.
// Typing another name stays possible (a checkpoint set up today, not yet registered).

async function syncCheckpoints() {
  const token = app.settings.token;
  if (!navigator.onLine || !token) return;
  let response;
  try {
    response = await fetch(new URL("checkpoints", new URL(app.config.api_url, location.href)), {
      headers: { Authorization: `Bearer ${token}` },
    });
  } catch {
    return;
  }
  if (!response.ok) return;
  const body = await response.json();
  app.checkpoints = Array.isArray(body.checkpoints) ? body.checkpoints : [];
  await app.store.put("checkpoints", app.checkpoints);
  renderCheckpoints();
}

function renderCheckpoints() {
  const options = app.checkpoints.map((checkpoint) => {
    const option = document.createElement("option");
    option.value = checkpoint.code;
    option.label = (checkpoint.names && (checkpoint.names[app.lang] || checkpoint.names.en)) || checkpoint.code;
    return option;
  });
  $("checkpoint-options").replaceChildren(...options);
}

// -- verdicts ---------------------------------------------------------------------------

function viewFromResult(result) {
  const c = result.claims;
  return {
    status: result.status,
    reasonKey: result.reasonKey,
    params: result.params,
    warnings: result.warnings,
    controlCode: result.controlCode,
    issuer: result.issuer ? { code: result.issuer.code, names: result.issuer.names } : null,
    claims: c && {
      category: Number(c.category),
      persons: c.persons.map((p) => ({ role: ROLE_NAMES[p.role], name: p.name, document: p.document, foreign: p.foreign_document })),
      plate: c.plate ? formatPlate(c.plate) : null,
      vehicle: c.vehicle_kind ? VEHICLE_NAMES[c.vehicle_kind] : c.plate ? "car" : null,
      makeModel: c.make_model,
      routeFrom: c.route_from === null ? null : Number(c.route_from),
      routeTo: c.route_to === null ? null : Number(c.route_to),
      routeNote: c.route_note,
      notBefore: c.not_before,
      expires: c.expires,
      windows: c.windows,
      weekdays: c.weekdays,
    },
  };
}

function viewFromOnline(out) {
  const issuer = app.lists.trust && out.issuer ? app.lists.trust.issuers.find((i) => i.code === out.issuer) : null;
  const params = {};
  if (out.expires) params.until = localText(out.expires);
  if (out.not_before) params.from = localText(out.not_before);
  if (out.issuer) params.issuer = issuer ? issuer.names[app.lang] || issuer.names.en || out.issuer : out.issuer;
  if (out.status === "outside_window") {
    params.hours = out.windows.map(([s, e]) => `${hhmm(s)}-${hhmm(e)}`).join(", ");
    params.days = out.weekdays === null ? [] : [0, 1, 2, 3, 4, 5, 6].filter((i) => (out.weekdays >> i) & 1);
  }
  return {
    status: out.status,
    reasonKey: ONLINE_REASONS[out.status] || "unreadable",
    params,
    warnings: [],
    controlCode: out.control_code,
    issuer: out.issuer ? { code: out.issuer, names: issuer ? issuer.names : {} } : null,
    claims: out.persons.length
      ? {
          category: out.category,
          persons: out.persons.map((p) => ({ role: p.role, name: p.name, document: p.document, foreign: p.foreign_document })),
          plate: out.plate,
          vehicle: out.vehicle_kind || (out.plate ? "car" : null),
          makeModel: out.make_model,
          routeFrom: out.route_from,
          routeTo: out.route_to,
          routeNote: out.route_note,
          notBefore: out.not_before,
          expires: out.expires,
          windows: out.windows.map(([start, end]) => ({ start, end })),
          weekdays: out.weekdays,
        }
      : null,
  };
}

function names(map, fallback) {
  return (map && (map[app.lang] || map.en || Object.values(map)[0])) || fallback;
}

function categoryName(code) {
  const category = app.lists.trust && app.lists.trust.categories.find((c) => c.code === code);
  return category ? names(category.names, category.slug) : t("category_n", { n: code });
}

function municipalityName(code) {
  const m = app.lists.trust && app.lists.trust.municipalities.find((x) => x.code === code);
  return m ? names(m.names, String(code)) : String(code);
}

function reasonLine(view) {
  const params = { ...view.params };
  if (view.reasonKey === "category_not_allowed" && view.issuer) params.issuer = names(view.issuer.names, view.issuer.code);
  if (view.reasonKey === "outside_window") {
    const days = params.days || [];
    params.hours = params.hours || t("hours_all_day");
    params.days = days.length ? t("on_days", { days: days.map((d) => t("weekdays")[d]).join(", ") }) : "";
  }
  return t(`reason.${view.reasonKey}`, params);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function renderVerdict(view) {
  const section = $("verdict");
  const colour = COLOURS[view.status] || "red";
  section.className = colour;
  section.dataset.status = view.status;
  $("verdict-icon").firstElementChild.setAttribute("d", ICONS[colour]);
  $("verdict-word").textContent = t(`status.${view.status}`);
  $("verdict-reason").textContent = reasonLine(view);
  const warning = $("verdict-warning");
  const stale = view.warnings.filter((w) => w !== "no_revocation_list");
  warning.hidden = !view.warnings.length;
  warning.textContent = view.warnings.length ? (stale.length ? t("stale", { limit: staleLimitText() }) : t("no_trust_list")) : "";
  if (view.warnings.includes("no_revocation_list") && !stale.length) warning.textContent = `${t("revocation_list")}: ${t("lists_none")}`;
  const details = $("verdict-details");
  details.replaceChildren();
  const c = view.claims;
  if (!c) {
    details.append(el("p", null, t("no_details")));
    return;
  }
  const dl = el("dl");
  const row = (label, ...nodes) => {
    dl.append(el("dt", null, t(`field.${label}`)));
    const dd = el("dd");
    dd.append(...nodes);
    dl.append(dd);
  };
  row("category", categoryName(c.category));
  const persons = el("div");
  for (const p of c.persons) {
    const line = el("div", "person");
    line.append(el("small", null, t(`role.${p.role}`)), el("span", null, p.name), document.createElement("br"));
    line.append(el("span", null, `${p.foreign ? t("field.document") : t("field.personal_number")} `), el("span", "pn", p.document));
    persons.append(line);
  }
  row("persons", persons);
  if (c.plate) row("plate", el("span", "plate", c.plate));
  if (c.vehicle) row("vehicle", [t(`vehicle_kind.${c.vehicle}`), c.makeModel].filter(Boolean).join(" · "));
  if (c.routeFrom !== null && c.routeFrom !== undefined) {
    row("route", [`${municipalityName(c.routeFrom)} → ${municipalityName(c.routeTo)}`, c.routeNote].filter(Boolean).join(" · "));
  } else if (c.routeNote) {
    row("route", c.routeNote);
  }
  const schedule = [t("schedule_range", { from: localText(c.notBefore), until: localText(c.expires) })];
  if (c.windows.length) schedule.push(c.windows.map((w) => `${hhmm(w.start)}–${hhmm(w.end)}`).join(", "));
  if (c.weekdays !== null && c.weekdays !== undefined) {
    schedule.push([0, 1, 2, 3, 4, 5, 6].filter((i) => (c.weekdays >> i) & 1).map((i) => t("weekdays")[i]).join(", "));
  }
  row("schedule", schedule.join(" · "));
  if (view.issuer) row("issuer", names(view.issuer.names, view.issuer.code));
  if (view.controlCode) row("control_code", el("span", "pn", view.controlCode));
  details.append(dl);
}

function showVerdict(view, timing) {
  app.current = view;
  renderVerdict(view);
  $("verdict").hidden = false;
  $("verdict-details").scrollTop = 0;
  $("next").focus({ preventScroll: true });
  if (timing) {
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        timing.painted = performance.now();
        app.timings.push(timing);
      }),
    );
  }
}

const RESCAN_PAUSE_MS = 2000;

function closeVerdict() {
  if (app.current && app.current.text && app.scanner) app.scanner.ignore(app.current.text, RESCAN_PAUSE_MS);
  app.current = null;
  $("verdict").hidden = true;
  $("verdict-details").replaceChildren(); // nothing personal stays on screen
  if (app.scanner) app.scanner.resume();
}

/** Verify a scanned or photographed QR text, show the verdict and record the check. */
async function handleText(text, frameTime) {
  const decoded = performance.now();
  if (!app.verifier) {
    showBanner();
    if (app.scanner) app.scanner.resume();
    return null;
  }
  const result = await app.verifier.verify(text, Date.now());
  const verified = performance.now();
  if (result.reasonKey === "category_not_allowed") result.params.issuer = result.issuer.code;
  showVerdict({ ...viewFromResult(result), text }, { frame: frameTime ?? decoded, decoded, verified, status: result.status });
  recordCheck(result).catch(() => {});
  return result;
}

// -- typed control codes (online) --------------------------------------------------------

async function checkTypedCode(typed) {
  const message = $("code-message");
  let code;
  try {
    code = normaliseControlCode(typed);
  } catch (exc) {
    if (exc instanceof MalformedError) {
      message.textContent = t("code_bad");
      return;
    }
    throw exc;
  }
  if (!navigator.onLine) {
    message.textContent = t("code_offline");
    return;
  }
  if (!app.settings.token) {
    message.textContent = t("code_no_token");
    return;
  }
  let response;
  try {
    response = await fetch(new URL("verify", new URL(app.config.api_url, location.href)), {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${app.settings.token}` },
      body: JSON.stringify({ control_code: code, checkpoint: app.settings.checkpoint || "unset" }),
    });
  } catch {
    message.textContent = navigator.onLine ? t("code_error") : t("code_offline");
    return;
  }
  if (response.status === 401 || response.status === 403) {
    message.textContent = t("code_refused");
    return;
  }
  if (response.status === 422) {
    message.textContent = t("code_bad");
    return;
  }
  if (!response.ok) {
    message.textContent = t("code_error");
    return;
  }
  $("code-dialog").close();
  if (app.scanner) app.scanner.pause();
  showVerdict(viewFromOnline(await response.json()));
}

// -- status line and banners -----------------------------------------------------------

function ageText(seconds) {
  const minutes = Math.max(0, Math.floor(seconds / 60));
  if (minutes < 60) return t("age_min", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t("age_h", { n: hours });
  return t("age_d", { n: Math.floor(hours / 24) });
}

function staleLimitText() {
  const limits = ["trust", "revocation"].map((k) => app.lists[k]).filter(Boolean).map((l) => Number(l.stale_after));
  return limits.length ? ageText(Math.min(...limits)) : "";
}

function listsStale(nowSeconds) {
  return ["trust", "revocation"].some((k) => app.lists[k] && isStale(app.lists[k].issued, app.lists[k].stale_after, nowSeconds));
}

function renderStatus() {
  if (!app.catalogs[app.lang]) return;
  const now = Date.now() / 1000;
  const chip = $("lists-age");
  const held = ["trust", "revocation"].map((k) => app.lists[k]).filter(Boolean);
  if (!held.length) {
    chip.textContent = t("lists_none");
  } else {
    const oldest = Math.min(...held.map((l) => Number(l.issued)));
    chip.textContent = t("lists_age", { age: ageText(now - oldest) });
  }
  chip.classList.toggle("stale", listsStale(now) || !app.lists.trust);
  showBanner();
}

function showBanner() {
  const banners = $("banners");
  banners.replaceChildren();
  const add = (kind, text) => banners.append(el("p", kind, text));
  if (app.pinMismatch) add("error", t("pin_mismatch"));
  if (!app.lists.trust) add("error", t("no_trust_list"));
  for (const [kind, why] of app.refusals) {
    add("error", t("list_refused", { list: t(`list_kind.${kind}`), why: t(`refusal.${why}`) }));
  }
  if (listsStale(Date.now() / 1000)) add("warn", t("stale", { limit: staleLimitText() }));
  if (!navigator.onLine) add("info", t("offline"));
}

async function renderPending() {
  const n = await app.store.countChecks();
  $("pending").textContent = t("pending_checks", { n });
}

function renderListInfo() {
  const info = $("list-info");
  info.replaceChildren();
  const add = (label, text) => info.append(el("dt", null, label), el("dd", null, text));
  add(t("root_key"), app.root ? app.root.kidHex : "");
  for (const kind of ["trust", "revocation"]) {
    const list = app.lists[kind];
    add(t(`${kind}_list`), list ? t("version_issued", { version: list.version, issued: localText(list.issued) }) : t("lists_none"));
  }
}

// -- camera --------------------------------------------------------------------------------

async function startCamera() {
  const status = $("camera-status");
  status.textContent = t("camera_starting");
  $("start-camera").hidden = true;
  try {
    await app.scanner.start();
    status.textContent = t("camera_scanning");
    $("torch").hidden = !app.scanner.torchAvailable;
  } catch (exc) {
    status.textContent = exc && exc.name === "NotAllowedError" ? t("camera_blocked") : t("camera_missing");
    $("start-camera").hidden = false;
  }
}

// -- start --------------------------------------------------------------------------------

function wire() {
  for (const button of document.querySelectorAll("#langs button")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  $("next").addEventListener("click", closeVerdict);
  $("start-camera").addEventListener("click", startCamera);
  $("torch").addEventListener("click", async () => {
    const on = $("torch").getAttribute("aria-pressed") !== "true";
    try {
      await app.scanner.setTorch(on);
      $("torch").setAttribute("aria-pressed", String(on));
    } catch {
      $("torch").hidden = true;
    }
  });
  $("photo").addEventListener("change", async (event) => {
    const file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (!file) return;
    let text = null;
    try {
      text = await app.reader.readFile(file);
    } catch {
      text = null;
    }
    if (!text) {
      $("camera-status").textContent = t("photo_no_qr");
      return;
    }
    if (app.scanner) app.scanner.pause();
    await handleText(text, null);
  });
  // the camera rests while a dialog is open, and resumes when it closes (unless a verdict shows)
  for (const dialog of [$("code-dialog"), $("settings-dialog")]) {
    dialog.addEventListener("close", () => {
      if (!app.current && app.scanner) app.scanner.resume();
    });
  }
  $("type-code").addEventListener("click", () => {
    if (app.scanner) app.scanner.pause();
    $("code-message").textContent = navigator.onLine ? "" : t("code_offline");
    $("code-input").value = "";
    $("code-dialog").showModal();
  });
  $("code-cancel").addEventListener("click", () => $("code-dialog").close());
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    checkTypedCode($("code-input").value);
  });
  const openSettings = () => {
    if (app.scanner) app.scanner.pause();
    $("checkpoint-input").value = app.settings.checkpoint;
    $("token-input").value = app.settings.token;
    renderListInfo();
    renderPending();
    $("settings-dialog").showModal();
  };
  $("open-settings").addEventListener("click", openSettings);
  $("lists-age").addEventListener("click", openSettings);
  $("settings-close").addEventListener("click", () => $("settings-dialog").close());
  $("settings-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    app.settings = { checkpoint: $("checkpoint-input").value.trim(), token: $("token-input").value.trim() };
    app.tokenRefused = false;
    await app.store.put("settings", app.settings);
    $("settings-dialog").close();
    uploadChecks();
    syncCheckpoints();
  });
  $("sync-now").addEventListener("click", async () => {
    await sync();
    renderListInfo();
  });
  window.addEventListener("online", () => {
    renderStatus();
    sync();
  });
  window.addEventListener("offline", renderStatus);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) app.scanner.stop();
    else if (!app.scanner.active) startCamera();
  });
}

async function main() {
  app.store = await Store.open();
  app.config = await (await fetch("config.json")).json();
  await setLanguage(initialLanguage());
  app.settings = { checkpoint: "", token: "", ...((await app.store.get("settings")) || {}) };
  app.checkpoints = (await app.store.get("checkpoints")) || [];
  await pinRoot();
  await loadHeldLists();
  app.reader = new QrReader(new URL("decoder-worker.js", import.meta.url));
  app.decoder = await app.reader.init();
  app.scanner = new Scanner($("camera"), app.reader, (text, frameTime) => handleText(text, frameTime));
  wire();
  await setLanguage(app.lang);
  renderPending();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {});
  }
  await syncLists();
  uploadChecks();
  syncCheckpoints();
  setInterval(renderStatus, 30_000);
  setInterval(sync, (app.config.sync_minutes || 5) * 60_000);
  startCamera();
}

// For tests and the benchmark: the state, and the pipeline without the camera.
window.checkpoint = {
  app,
  ready: main(),
  verifyText: (text) => handleText(text, null),
  sync,
  get verifier() {
    return app.verifier;
  },
};
