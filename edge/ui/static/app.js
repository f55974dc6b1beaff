// Kiosk page. Plain JS, no framework, no remote assets: it must run offline on a kiosk's Chromium.
// Polls the live status/preview, scans through /api/v1/kiosk/scan and draws the seed result on the
// captured frame. Every coordinate in a result is in the captured image's pixels.
"use strict";

const API = "/api/v1";
const PREVIEW_INTERVAL_MS = 120;   // ~8 fps is plenty for framing and keeps the Pi's CPU for analysis
const STATUS_INTERVAL_MS = 250;
const EXPECTED_SCAN_MS = 2500;     // progress bar pace; the bar waits at 90 % for the real answer
const IDLE_RESET_MS = 180000;      // a shared kiosk forgets the last person after 3 idle minutes
const BANNER_MS = 5000;
const ZOOM_MARGIN = 1.9;           // zoomed result view: this x the face box
const RESULT_CANVAS_PX = 900;      // result canvas long side at least this (crisp overlay lines)
const OVERLAY_LINE_PX = 3;
const TREND_LINES = 4;

const FIELD_TITLES = {
  location: "Face", color: "Skin tone", smooth: "Smoothness", acnespotmole: "Acne, spots & moles",
  wrinkle: "Wrinkles", eyesattr: "Dark circles & eye bags", blackheadpore: "Pores & blackheads",
  skinface: "Skin health images", skinquality: "Dry / oily & sensitivity",
};
const GUIDANCE_TEXT = {
  "ready": "Ready — press Scan", "come closer": "Come a little closer", "move back": "Move back a little",
  "too dark": "Too dark — find more light", "too bright": "Too bright", "hold still": "Hold still…",
  "look straight": "Look straight at the screen", "no face": "Step in front of the camera",
  "starting": "Starting camera…", "turn to face the camera": "Turn to face the camera",
};
const TONE_COLORS = ["#f6dcc6", "#eac2a1", "#d6a47f", "#b57d55", "#8a5a3b", "#5a3a26"];
const TONE_NAMES = ["very light", "light", "medium light", "medium", "tan", "deep"];
const SMOOTH_NAMES = ["very smooth", "smooth", "slightly rough", "rough"];
const WRINKLE_NAMES = {1: "forehead", 2: "frown lines", 3: "fine lines by the eyes", 4: "crow's feet",
  5: "nasolabial", 6: "around the mouth"};
const DARK_CIRCLE_NAMES = ["pigment", "shadow", "vascular"];
const EYE_BAG_NAMES = {1: "fat", 2: "tear trough", 3: "mixed"};
const DRYOIL_NAMES = ["dry", "neutral", "oily"];
const SENSITIVE_NAMES = ["tolerant", "neutral", "sensitive"];
const ZONES = ["forehead", "nose", "left cheek", "right cheek", "chin"];

// Overlay layers: key -> [label, colour, field that provides it].
const LAYERS = {
  location: ["Face box", "#4cd964", "location"],
  acne: ["Acne", "#ff4d4d", "acnespotmole"],
  speckle: ["Spots", "#ffb347", "acnespotmole"],
  mole: ["Moles", "#c77dff", "acnespotmole"],
  wrinkle: ["Wrinkles", "#4dd0ff", "wrinkle"],
  eyes: ["Eyes", "#ffe066", "eyesattr"],
  pores: ["Pores", "#ff8fd8", "blackheadpore"],
};

const $ = (id) => document.getElementById(id);
const state = {
  fields: [], diary: false, profileId: null, scan: null, photo: null, base: "photo",
  layers: new Set(Object.keys(LAYERS)), busy: false, idleTimer: null, zoom: true, rec: null, privacy: null,
};
const STEP_TITLES = { cleanse: "1 · Cleanse", treat: "2 · Treat", moisturise: "3 · Moisturise", protect: "4 · Protect" };
const SENSITIVITY_NAMES = { 0: "tolerant", 1: "neutral", 2: "sensitive" };

// --- small helpers ------------------------------------------------------------------------------
function show(screen) {
  for (const s of document.querySelectorAll(".screen")) s.classList.toggle("active", s.id === `screen-${screen}`);
  document.body.dataset.screen = screen;
}

function banner(text, ok = false) {
  const b = $("banner");
  b.textContent = text;
  b.classList.toggle("ok", ok);
  b.hidden = false;
  clearTimeout(banner.timer);
  banner.timer = setTimeout(() => { b.hidden = true; }, BANNER_MS);
}

async function api(path, options = {}) {
  const init = { headers: {}, ...options };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(API + path, init);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const msg = body && body.error_msg ? body.error_msg : `HTTP ${response.status}`;
    const err = new Error(msg);
    err.code = body && body.error_code;
    err.status = response.status;
    throw err;
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "style") node.style.cssText = v; else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function touch() {
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(idleReset, IDLE_RESET_MS);
}

// --- live preview -------------------------------------------------------------------------------
function startPreview() {
  const img = $("preview");
  const next = () => setTimeout(load, PREVIEW_INTERVAL_MS);
  function load() {
    if (document.body.dataset.screen !== "live") return next();
    img.src = `${API}/kiosk/preview.jpg?t=${Date.now()}`;
  }
  img.addEventListener("load", () => { img.dataset.loaded = "1"; next(); });
  img.addEventListener("error", () => setTimeout(load, 1000));
  load();
}

function drawPreviewBox(status) {
  const canvas = $("preview-overlay");
  const [w, h] = status.frame_size || [640, 480];
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  $("preview-wrap").style.aspectRatio = `${w} / ${h}`;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  const f = status.face;
  if (!f) return;
  const ready = status.guidance === "ready";
  ctx.strokeStyle = ready ? "#4cd964" : "#f0ad4e";
  ctx.lineWidth = Math.max(2, w / 200);
  const r = Math.min(f.width, f.height) * 0.12;
  ctx.beginPath();
  ctx.roundRect ? ctx.roundRect(f.left, f.top, f.width, f.height, r) : ctx.rect(f.left, f.top, f.width, f.height);
  ctx.stroke();
}

async function pollStatus() {
  try {
    if (document.body.dataset.screen === "live") {
      const status = await api("/kiosk/status");
      drawPreviewBox(status);
      const g = $("guidance");
      const key = (status.guidance || "").toLowerCase();
      const analysing = status.analysis === "queued" || status.analysis === "running";  // daemon auto-capture
      g.textContent = analysing ? "Analysing… hold still" : GUIDANCE_TEXT[key] || status.guidance || "";
      g.className = "guidance " + (key === "ready" ? "ready" : key ? "warn" : "");
      g.dataset.guidance = key;
      await maybeShowAutoCapture(status.last_result_id);
    }
  } catch (e) {
    $("guidance").textContent = e.status === 404 ? "No camera on this device" : "Camera unavailable";
  }
  setTimeout(pollStatus, STATUS_INTERVAL_MS);
}

// A result the daemon captured by itself (gate passed) is shown like a Scan's. Results that existed
// before the page loaded are not: they belong to someone else.
async function maybeShowAutoCapture(resultId) {
  if (state.lastSeenResult === undefined) { state.lastSeenResult = resultId; return; }
  if (!resultId || resultId === state.lastSeenResult || state.busy) return;
  state.lastSeenResult = resultId;
  try {
    const res = await api("/kiosk/last");
    if (res.result_id === resultId && document.body.dataset.screen === "live") { touch(); await showResults(res); }
  } catch (_) { /* erased or expired meanwhile */ }
}

// --- scan ---------------------------------------------------------------------------------------
function animateProgress() {
  const bar = $("progress-bar");
  const t0 = performance.now();
  bar.style.width = "0%";
  const id = setInterval(() => {
    const p = Math.min(0.9, (performance.now() - t0) / EXPECTED_SCAN_MS);
    bar.style.width = `${Math.round(p * 100)}%`;
  }, 100);
  return () => { clearInterval(id); bar.style.width = "100%"; };
}

async function scan() {
  if (state.busy) return;
  state.busy = true;
  $("btn-scan").disabled = true;
  touch();
  show("progress");
  const done = animateProgress();
  try {
    const body = { extended: true };
    if (state.profileId) body.profile_id = state.profileId;
    const res = await api("/kiosk/scan", { json: body });
    state.lastSeenResult = res.result_id;
    done();
    await showResults(res);
  } catch (e) {
    done();
    banner(e.code === 1007 ? "No face found — look at the screen and try again." :
      e.code === 1203 ? "The device is busy — please try again in a moment." : `Scan failed: ${e.message}`);
    show("live");
  } finally {
    state.busy = false;
    $("btn-scan").disabled = false;
  }
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("image did not load"));
    img.src = src;
  });
}

async function showResults(res) {
  state.scan = res;
  state.base = "photo";
  state.photo = await loadImage(res.image_url);
  const face = res.envelope.result.face_list[0];
  state.baseImages = { photo: state.photo };
  const pics = face.skinface && face.skinface.skin_health_check_images;
  if (pics) {
    for (const [key, name] of [["brown_pic", "brown"], ["red_pic", "red"], ["gray_pic", "gray"]]) {
      if (pics[key]) {
        try { state.baseImages[name] = await loadImage(`data:image/jpeg;base64,${pics[key]}`); } catch (_) { /* skip */ }
      }
    }
  }
  renderToggles(face);
  renderCards(face, res.fields);
  drawResult();
  show("results");
  if (state.profileId) renderTrend();
  loadRoutine(res);
}

// --- your routine (the shop) --------------------------------------------------------------------
async function loadRoutine(res) {
  state.rec = null;
  $("btn-routine").hidden = true;
  try {
    const body = { result_id: res.result_id };
    if (state.profileId) body.profile_id = state.profileId;
    const rec = await api("/shop/recommend", { json: body });
    if (!state.scan || state.scan.result_id !== res.result_id) return;  // another scan meanwhile
    state.rec = rec;
    renderRoutine(rec);
    $("btn-routine").hidden = false;
  } catch (_) { /* no shop on this device, or this scan has no measurements to match */ }
}

function productCard(p) {
  return el("div", { class: "product-card", "data-id": p.id, "data-step": p.step },
    el("img", { src: p.image_url, alt: "" }),
    el("div", {},
      el("div", { class: "step" }, STEP_TITLES[p.step] || p.step),
      el("div", { class: "name" }, p.name),
      el("div", { class: "brand" }, p.brand),
      el("div", { class: "price" }, p.price_text),
      el("div", { class: "reason" }, p.reason)));
}

function renderRoutine(rec) {
  const pr = rec.profile;
  $("routine-profile").textContent = [pr.skin_type ? `${pr.skin_type} skin` : null,
    pr.sensitivity != null ? `${SENSITIVITY_NAMES[pr.sensitivity]} to redness` : null,
    pr.tone ? `tone: ${pr.tone.replace("_", " ")}` : null].filter(Boolean).join(" · ");
  $("routine-cards").replaceChildren(...(rec.routine.length ? rec.routine.map(productCard)
    : [el("p", { class: "hint" }, "No product of this shop fits what was measured.")]));
  const inRoutine = new Set(rec.routine.map((p) => p.id));
  const more = rec.ranked.filter((p) => !inRoutine.has(p.id));
  $("ranked-cards").replaceChildren(...more.map(productCard));
  $("more-title").hidden = more.length === 0;
  const strip = $("change-strip");
  if (rec.changes) {
    const items = rec.changes.items;
    strip.replaceChildren(items.length
      ? el("strong", {}, "Since your last visit:")
      : el("span", { class: "chip same" }, "First visit in your diary: next time you will see what changed."),
    ...items.filter((c) => c.verdict !== "not comparable").map((c) => el("span", {
      class: `chip ${c.verdict === "worse" ? "worse" : c.verdict === "better" ? "better" : "same"}`,
      "data-concern": c.concern, "data-verdict": c.verdict }, `${c.label}: ${c.text}`)));
    strip.hidden = false;
  } else {
    strip.hidden = true;
    strip.replaceChildren();
  }
}

function showTakeHome(note) {
  // A QR code only when a phone could open its link; else say what the staff must set (no useless QR).
  $("qr-ready").hidden = Boolean(note);
  $("qr-unavailable").hidden = !note;
  $("qr-note").textContent = note || "";
  $("dlg-qr").showModal();
}

async function takeHome() {
  touch();
  if (!state.scan) return;
  if (state.privacy && !state.privacy.take_home_link) {
    // No report is made: it would hold a picture of the face that no phone could fetch.
    delete $("dlg-qr").dataset.token;
    showTakeHome(state.privacy.take_home_note);
    return;
  }
  try {
    const body = { result_id: state.scan.result_id };
    if (state.profileId) body.profile_id = state.profileId;
    const made = await api("/shop/report", { json: body });
    $("qr-img").src = made.qr_svg;
    $("qr-minutes").textContent = minutes(made.expires_in_s);
    $("dlg-qr").dataset.token = made.token;
    showTakeHome(made.phone_reachable ? null : made.note);
  } catch (e) {
    banner(e.status === 404 ? "This result has expired: please scan again." : `Could not make the report: ${e.message}`);
  }
}

// --- overlay ------------------------------------------------------------------------------------
function availableLayers(face) {
  return Object.keys(LAYERS).filter((k) => LAYERS[k][2] === "location" || face[LAYERS[k][2]]);
}

function renderToggles(face) {
  const box = $("layer-toggles");
  box.replaceChildren();
  for (const key of availableLayers(face)) {
    const [label, colour] = LAYERS[key];
    const input = el("input", { type: "checkbox", "data-layer": key });
    input.checked = state.layers.has(key);
    input.addEventListener("change", () => {
      if (input.checked) state.layers.add(key); else state.layers.delete(key);
      drawResult(); touch();
    });
    box.append(el("label", {}, input, el("span", { class: "swatch", style: `background:${colour}` }), label));
  }
  const zoom = el("input", { type: "checkbox", "data-layer": "zoom" });
  zoom.checked = state.zoom;
  zoom.addEventListener("change", () => { state.zoom = zoom.checked; drawResult(); touch(); });
  box.append(el("label", {}, zoom, "Zoom on face"));
  const bases = Object.keys(state.baseImages || {});
  if (bases.length > 1) {
    for (const name of bases) {
      const input = el("input", { type: "radio", name: "base", value: name });
      input.checked = state.base === name;
      input.addEventListener("change", () => { state.base = name; drawResult(); touch(); });
      box.append(el("label", {}, input, name === "photo" ? "Photo" : `${name[0].toUpperCase()}${name.slice(1)} map`));
    }
  }
}

function viewRect(face, W, H) {
  // Zoomed: a square around the face (the overlay is about the face); else the whole frame.
  if (!state.zoom) return { x: 0, y: 0, w: W, h: H };
  const l = face.location;
  const side = Math.min(Math.max(W, H), Math.max(l.width, l.height) * ZOOM_MARGIN);
  const w = Math.min(W, side), h = Math.min(H, side);
  const x = Math.min(Math.max(0, l.left + l.width / 2 - w / 2), W - w);
  const y = Math.min(Math.max(0, l.top + l.height / 2 - h / 2), H - h);
  return { x, y, w, h };
}

function drawResult() {
  const res = state.scan;
  if (!res) return;
  const face = res.envelope.result.face_list[0];
  const canvas = $("result-canvas");
  const photo = state.photo;
  const view = viewRect(face, photo.naturalWidth, photo.naturalHeight);
  const k = Math.max(1, RESULT_CANVAS_PX / Math.max(view.w, view.h));  // upscale small faces for crisp lines
  canvas.width = Math.round(view.w * k);
  canvas.height = Math.round(view.h * k);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(k, 0, 0, k, -view.x * k, -view.y * k);  // draw in image pixels from here on
  const l = face.location;
  const base = (state.baseImages && state.baseImages[state.base]) || photo;
  ctx.drawImage(photo, 0, 0);
  if (base !== photo) {
    // The skin-health maps cover the face: dim the photo, then draw the map (full frame or face box).
    ctx.fillStyle = "rgba(0,0,0,.55)";
    ctx.fillRect(view.x, view.y, view.w, view.h);
    const sameSize = base.naturalWidth === photo.naturalWidth && base.naturalHeight === photo.naturalHeight;
    if (sameSize) ctx.drawImage(base, 0, 0);
    else ctx.drawImage(base, l.left, l.top, l.width, l.height);
  }
  canvas.dataset.box = JSON.stringify([(l.left - view.x) * k, (l.top - view.y) * k, l.width * k, l.height * k]);
  const drawn = [];
  const lw = OVERLAY_LINE_PX / k;
  ctx.lineWidth = lw;
  const on = (k) => state.layers.has(k) && availableLayers(face).includes(k);

  if (on("location")) {
    ctx.strokeStyle = LAYERS.location[1];
    ctx.strokeRect(l.left, l.top, l.width, l.height);
    drawn.push("location");
  }
  const boxes = (list, colour) => {
    ctx.strokeStyle = colour;
    for (const b of list || []) ctx.strokeRect(b.left, b.top, Math.max(lw, b.right - b.left), Math.max(lw, b.bottom - b.top));
  };
  const a = face.acnespotmole;
  if (a) {
    if (on("acne")) { boxes(a.acne_list, LAYERS.acne[1]); drawn.push("acne"); }
    if (on("speckle")) { boxes(a.speckle_list, LAYERS.speckle[1]); drawn.push("speckle"); }
    if (on("mole")) { boxes(a.mole_list, LAYERS.mole[1]); drawn.push("mole"); }
  }
  const poly = (points, closed) => {
    if (!points || points.length === 0) return;
    ctx.beginPath();
    ctx.moveTo(points[0].x, points[0].y);
    for (const p of points.slice(1)) ctx.lineTo(p.x, p.y);
    if (closed) ctx.closePath();
    ctx.stroke();
  };
  if (face.wrinkle && on("wrinkle")) {
    ctx.strokeStyle = LAYERS.wrinkle[1];
    for (const line of face.wrinkle.wrinkle_data || []) poly(line, false);
    drawn.push("wrinkle");
  }
  const e = face.eyesattr;
  if (e && on("eyes")) {
    ctx.strokeStyle = "#6fa8ff";
    poly(e.dark_circle_left, true); poly(e.dark_circle_right, true);
    ctx.strokeStyle = LAYERS.eyes[1];
    poly(e.eye_bags_left, true); poly(e.eye_bags_right, true);
    drawn.push("eyes");
  }
  const bp = face.blackheadpore;
  if (bp && on("pores")) {
    const circles = (bp.circles && bp.circles[0]) || {};
    const ring = (list, colour) => {
      ctx.strokeStyle = colour;
      for (const c of list || []) { ctx.beginPath(); ctx.arc(c.x, c.y, Math.max(lw, c.r), 0, 2 * Math.PI); ctx.stroke(); }
    };
    ring(circles.pore, LAYERS.pores[1]);
    ring(circles.blackhead, "#333");
    drawn.push("pores");
  }
  canvas.dataset.layers = drawn.join(",");
  canvas.dataset.base = state.base;
}

// --- cards --------------------------------------------------------------------------------------
function scale(value, steps) {
  const s = el("div", { class: "scale" });
  for (let i = 1; i <= steps; i++) s.append(el("span", { class: i <= value ? "on" : "" }));
  return s;
}

function extendedScore(face, field) {
  const ext = face.extended && face.extended[field];
  const score = ext && (ext.score ?? ext.score_0_100);
  return typeof score === "number" ? `score ${Math.round(score)}/100` : null;
}

function card(field, value, sub, extra) {
  return el("div", { class: "card", "data-field": field },
    el("h3", {}, FIELD_TITLES[field] || field), el("div", { class: "value" }, ...[].concat(value)),
    sub ? el("div", { class: "sub" }, sub) : null, extra || null);
}

const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function renderCards(face, fields) {
  const cards = [];
  const l = face.location;
  cards.push(card("location", "Found", `roll ${l.degree}° · ${Math.round(l.width)}×${Math.round(l.height)} px`));
  for (const field of fields) {
    try {
      const c = fieldCard(face, field);
      if (c) cards.push(c);
    } catch (_) {
      cards.push(card(field, "—", "could not display this result"));
    }
  }
  $("cards").replaceChildren(...cards);
}

function fieldCard(face, field) {
  const ext = extendedScore(face, field);
  switch (field) {
    case "color": {
      const c = face.skin && face.skin.color;
      if (!c) return null;
      const x = (face.extended && face.extended.color) || {};
      const ita = typeof x.ita_deg === "number" ? `ITA ${x.ita_deg}°` : null;
      return card(field, [el("span", { class: "tone", style: `background:${TONE_COLORS[c - 1]}` }), `${c} / 6`],
        [x.class_name || TONE_NAMES[c - 1], ita, ext].filter(Boolean).join(" · "), scale(c, 6));
    }
    case "smooth": {
      const s = face.skin && face.skin.smooth;
      if (!s) return null;
      return card(field, `${s} / 4`, [SMOOTH_NAMES[s - 1], ext].filter(Boolean).join(" · "), scale(s, 4));
    }
    case "acnespotmole": {
      const a = face.acnespotmole;
      return card(field, `${a.acne_num + a.speckle_num + a.mole_num}`,
        `${count(a.acne_num, "acne", "acne")} · ${count(a.speckle_num, "spot", "spots")} · ${count(a.mole_num, "mole", "moles")}`);
    }
    case "wrinkle": {
      const w = face.wrinkle;
      const kinds = [...new Set(w.wrinkle_types || [])].map((t) => WRINKLE_NAMES[t] || t).join(", ");
      const x = (face.extended && face.extended.wrinkle) || {};
      const total = (x.length_mm || []).reduce((a, b) => a + b, 0);
      return card(field, `${w.wrinkle_num}`, [kinds || "none found", total ? `${Math.round(total)} mm in all` : null]
        .filter(Boolean).join(" · "));
    }
    case "eyesattr": {
      const e = face.eyesattr;
      const dc = [...(e.dark_circle_left_type || []), ...(e.dark_circle_right_type || [])].map((t) => DARK_CIRCLE_NAMES[t]);
      const bags = [...(e.eye_bags_left_type || []), ...(e.eye_bags_right_type || [])].map((t) => EYE_BAG_NAMES[t]);
      return card(field, dc.length || bags.length ? "Found" : "None",
        `dark circles: ${[...new Set(dc)].join(", ") || "none"} · eye bags: ${[...new Set(bags)].join(", ") || "none"}`);
    }
    case "blackheadpore": {
      const b = face.blackheadpore;
      return card(field, `${b.pore_num + b.blackhead_num}`,
        `${count(b.pore_num, "pore", "pores")} · ${count(b.blackhead_num, "blackhead", "blackheads")}`);
    }
    case "skinface": {
      const pics = face.skinface.skin_health_check_images || {};
      const thumbs = el("div", { class: "thumbs" });
      for (const [key, name] of [["brown_pic", "brown"], ["red_pic", "red"], ["gray_pic", "gray"]]) {
        if (!pics[key]) continue;
        const img = el("img", { src: `data:image/jpeg;base64,${pics[key]}`, alt: `${name} map`, title: `${name} map` });
        img.addEventListener("click", () => { state.base = name; renderToggles(face); drawResult(); touch(); });
        thumbs.append(img);
      }
      return card(field, "Maps", "brown: pigment · red: redness — tap to view", thumbs);
    }
    case "skinquality": {
      const q = face.skinquality;
      const zones = (q.skin_dryoil_check || []).map((v, i) => `${ZONES[i]}: ${DRYOIL_NAMES[+v]}`).join(" · ");
      const sens = (q.skin_sensitive_check || [])[0];
      return card(field, sens !== undefined ? SENSITIVE_NAMES[+sens] : "—", zones);
    }
    default:
      return card(field, "✓", ext || "");
  }
}

// --- privacy notice: the retention times come from the kiosk's configuration ---------------------
function minutes(seconds) {
  return String(Math.max(1, Math.round(seconds / 60)));
}

async function initPrivacy() {
  try {
    state.privacy = await api("/kiosk/privacy");
  } catch (_) {
    return; // the notice keeps its words ("a few minutes") rather than a number it does not know
  }
  for (const s of document.querySelectorAll(".photo-minutes")) s.textContent = minutes(state.privacy.photo_kept_s);
  if (state.privacy.report_kept_s === null) {
    $("privacy-report").hidden = true; // no shop on this device: no take-home report
  } else {
    for (const s of document.querySelectorAll(".report-minutes")) s.textContent = minutes(state.privacy.report_kept_s);
  }
}

// --- diary --------------------------------------------------------------------------------------
async function initDiary() {
  try {
    state.diary = (await api("/diary/status")).available;
  } catch (_) {
    state.diary = false;
  }
  $("diary-controls").hidden = !state.diary;
}

function setProfile(id) {
  state.profileId = id;
  const badge = $("diary-badge");
  badge.hidden = !id;
  badge.textContent = id ? "Diary on" : "";
  $("trend").hidden = true;
}

function askPin(title, text) {
  return new Promise((resolve) => {
    const dlg = $("dlg-pin");
    $("pin-title").textContent = title;
    $("pin-text").textContent = text;
    $("pin-input").value = "";
    dlg.returnValue = "";
    dlg.onclose = () => resolve(dlg.returnValue === "ok" ? $("pin-input").value.trim() : null);
    dlg.showModal();
  });
}

async function diaryNew() {
  touch();
  const pin = await askPin("Start a skin diary", "Choose a PIN of at least 6 digits to find your diary next time (optional: leave empty).");
  if (pin === null) return;
  try {
    const p = await api("/diary/profiles", { json: pin ? { pin } : {} });
    setProfile(p.profile_id);
    banner("Diary started: your next scans are saved (numbers only, no photo).", true);
  } catch (e) { banner(e.message); }
}

async function diaryOpen() {
  touch();
  const pin = await askPin("Open my diary", "Enter your PIN.");
  if (!pin) return;
  try {
    const p = await api("/diary/login", { json: { pin } });
    setProfile(p.profile_id);
    banner("Welcome back: your diary is open.", true);
  } catch (e) {
    banner(e.status === 404 ? "No diary with this PIN."
      : e.status === 429 ? "Too many wrong PINs: please try again later." : e.message);
  }
}

async function renderTrend() {
  try {
    const h = await api(`/diary/profiles/${encodeURIComponent(state.profileId)}/history`);
    const box = $("trend");
    const lines = [];
    for (const [name, series] of Object.entries(h.trends)) {
      // Grades and counts read well as a trend; scores and per-type breakdowns would crowd the card.
      if (series.length < 2 || !(/^skin\.\w+$/.test(name) || /_num$/.test(name))) continue;
      const [head, ...rest] = name.split(".");
      const label = head === "skin" ? FIELD_TITLES[rest[0]] || rest.join(" ")
        : `${FIELD_TITLES[head] || head}: ${rest.join(" ").replace(/_num$/, "").replace(/_/g, " ")}`;
      const first = series[0][1], last = series[series.length - 1][1];
      lines.push(`${label}: ${first} → ${last}`);
    }
    box.replaceChildren(el("strong", {}, `Diary: ${count(h.visits.length, "visit", "visits")}`),
      ...lines.slice(0, TREND_LINES).map((t) => el("div", {}, t)));
    box.hidden = false;
  } catch (_) { /* the diary is optional */ }
}

// --- delete my data / reset ---------------------------------------------------------------------
async function deleteMyData() {
  try {
    const body = state.profileId ? { profile_id: state.profileId } : {};
    const r = await api("/kiosk/forget", { json: body });
    const what = r.deleted_profile ? "Your photo, result and diary were deleted." : "Your photo and result were deleted.";
    banner(what, true);
  } catch (e) {
    banner(`Could not delete: ${e.message}`);
    return;
  }
  for (const dlg of document.querySelectorAll("dialog[open]")) dlg.close();
  resetView();
}

function resetView() {
  state.scan = null;
  state.rec = null;
  $("btn-routine").hidden = true;
  $("routine-cards").replaceChildren();
  $("ranked-cards").replaceChildren();
  $("change-strip").hidden = true;
  state.photo = null;
  state.baseImages = null;
  setProfile(null);
  $("cards").replaceChildren();
  const c = $("result-canvas");
  c.getContext("2d").clearRect(0, 0, c.width, c.height);
  delete c.dataset.layers;
  show("live");
}

async function idleReset() {
  if (state.scan || state.profileId) {
    // The next person must not see this one; their report link (QR) lives on until its own expiry.
    try { await api("/kiosk/forget", { json: { keep_reports: true } }); } catch (_) { /* best effort */ }
    for (const dlg of document.querySelectorAll("dialog[open]")) dlg.close();
    resetView();
  }
}

// --- start --------------------------------------------------------------------------------------
async function init() {
  show("live");
  $("btn-scan").addEventListener("click", scan);
  $("btn-again").addEventListener("click", () => { touch(); show("live"); });
  $("btn-delete").addEventListener("click", deleteMyData);
  $("btn-delete-2").addEventListener("click", deleteMyData);
  $("btn-delete-3").addEventListener("click", deleteMyData);
  $("btn-routine").addEventListener("click", () => { touch(); show("routine"); });
  $("btn-back-results").addEventListener("click", () => { touch(); show("results"); });
  $("btn-take-home").addEventListener("click", takeHome);
  $("btn-privacy").addEventListener("click", () => $("dlg-privacy").showModal());
  $("link-privacy").addEventListener("click", (ev) => { ev.preventDefault(); $("dlg-privacy").showModal(); });
  $("btn-diary-new").addEventListener("click", diaryNew);
  $("btn-diary-open").addEventListener("click", diaryOpen);
  for (const b of document.querySelectorAll("[data-close]")) b.addEventListener("click", () => b.closest("dialog").close());
  document.addEventListener("pointerdown", touch);
  startPreview();
  pollStatus();
  initDiary();
  await initPrivacy();
  try {
    const f = await api("/fields");
    state.fields = f.available;
    $("fields-line").textContent = f.available.length
      ? `Measures: ${f.available.map((x) => FIELD_TITLES[x] || x).join(" · ")}`
      : "Measures: face position (more measurements are being installed)";
  } catch (_) { /* the page still works */ }
  document.body.dataset.ready = "1";
}

init();
