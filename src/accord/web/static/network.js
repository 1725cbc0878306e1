// The network at an instant: parties as nodes, agreements as edges drawn by state.
// The states come from the server (the exchange's own agreement state); this module only draws.
import { csrfToken, formatDuration, formatInstant, svg, toInstant } from "./common.js";

const SVG_W = 640;
const SVG_H = 420;
const R = 150;
const view = {
  at: null, // ISO instant asked for, or null for "now"
  data: null,
  fetched: 0, // client clock (ms) when data arrived: "now" advances from data.now
  seq: 0,
};

const $ = (id) => document.getElementById(id);

// the zone a typed wall-clock time is read in: the chosen one, or (for "each agreement's
// zone") the zone of the first agreement shown
function typingZone() {
  const choice = $("zone").value;
  if (choice === "viewer") return undefined;
  if (choice === "agreement") return view.data && view.data.agreements.length ? view.data.agreements[0].timezone : undefined;
  return choice;
}

function zoneOf(agreement) {
  const choice = $("zone").value;
  if (choice === "viewer") return undefined;
  if (choice === "agreement") return agreement ? agreement.timezone : undefined;
  return choice;
}

function nowMs() {
  if (!view.data) return Date.now();
  const base = Date.parse(view.data.now);
  return view.data.live ? base + (Date.now() - view.fetched) : base;
}

function positions(parties) {
  const pos = new Map();
  const n = parties.length;
  parties.forEach((p, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
    pos.set(p.code, { x: SVG_W / 2 + R * Math.cos(angle), y: SVG_H / 2 + R * Math.sin(angle) });
  });
  return pos;
}

// a bilateral pair whose own agreement is not in force, while a hub arrangement joins them
function litRoutes(agreements) {
  const down = new Set();
  for (const a of agreements) {
    if (!a.hub && a.parties.length === 2 && !["in_force", "notice_pending", "suspended_notice"].includes(a.edge)) {
      down.add(a.parties.join("|"));
    }
  }
  const lit = new Set();
  for (const a of agreements) {
    if (!a.hub || !["in_force", "notice_pending", "suspended_notice"].includes(a.edge)) continue;
    for (const pair of down) {
      const [x, y] = pair.split("|");
      if (a.parties.includes(x) && a.parties.includes(y) && x !== a.hub && y !== a.hub) lit.add(a.id);
    }
  }
  return lit;
}

function drawEdges(root, agreements, pos) {
  const lit = litRoutes(agreements);
  const pairs = new Map();
  agreements.forEach((a) => {
    const g = svg("g", { class: `edge edge-${a.edge}${lit.has(a.id) ? " route-lit" : ""}`, "data-agreement": a.id, "data-edge": a.edge });
    const title = svg("title");
    title.textContent = `${a.id}: ${a.edge.replaceAll("_", " ")}`;
    g.append(title);
    const at = (code) => pos.get(code) || { x: SVG_W / 2, y: SVG_H / 2 };
    if (a.hub) {
      const h = at(a.hub);
      a.parties.filter((p) => p !== a.hub).forEach((p) => {
        const q = at(p);
        g.append(svg("line", { x1: h.x, y1: h.y, x2: q.x, y2: q.y, class: "spoke" }));
      });
      g.append(svg("circle", { cx: h.x, cy: h.y, r: 30, class: "hub-ring" }));
      const label = svg("text", { x: h.x, y: h.y - 36, "text-anchor": "middle", class: "edge-label" });
      label.textContent = `${a.id} (hub ${a.hub})`;
      g.append(label);
    } else {
      const key = [...a.parties].sort().join("|");
      const k = pairs.get(key) || 0;
      pairs.set(key, k + 1);
      const [p, q] = [at(a.parties[0]), at(a.parties[a.parties.length - 1])];
      const mx = (p.x + q.x) / 2;
      const my = (p.y + q.y) / 2;
      const dx = q.y - p.y;
      const dy = p.x - q.x;
      const len = Math.hypot(dx, dy) || 1;
      const bend = 24 * (k + 1);
      const cx = mx + (dx / len) * bend;
      const cy = my + (dy / len) * bend;
      g.append(svg("path", { d: `M${p.x},${p.y} Q${cx},${cy} ${q.x},${q.y}`, class: "line" }));
      const label = svg("text", { x: cx, y: cy, "text-anchor": "middle", class: "edge-label" });
      label.textContent = `${a.id}: ${a.edge.replaceAll("_", " ")}`;
      g.append(label);
    }
    root.append(g);
  });
}

function drawNodes(root, parties, pos, own) {
  parties.forEach((p) => {
    const { x, y } = pos.get(p.code);
    const g = svg("g", { class: `node${p.code === own ? " own" : ""}`, "data-party": p.code });
    g.append(svg("circle", { cx: x, cy: y, r: 22 }));
    const t = svg("text", { x, y: y + 5, "text-anchor": "middle" });
    t.textContent = p.code;
    g.append(t);
    root.append(g);
  });
}

function draw() {
  const data = view.data;
  const root = $("network");
  root.replaceChildren();
  const pos = positions(data.parties);
  drawEdges(root, data.agreements, pos);
  drawNodes(root, data.parties, pos, data.party);
  const body = $("states").tBodies[0];
  body.replaceChildren(
    ...data.agreements.map((a) => {
      const tr = document.createElement("tr");
      tr.dataset.agreement = a.id;
      tr.dataset.edge = a.edge;
      tr.dataset.status = a.status;
      const cells = [
        a.title ? `${a.id} — ${a.title}` : a.id,
        a.hub ? `${a.parties.join(", ")} (hub ${a.hub})` : a.parties.join(", "),
        a.edge.replaceAll("_", " "),
        a.expires_at ? formatInstant(a.expires_at, zoneOf(a)) : "—",
        "",
      ];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i === 4) td.className = "countdown";
        tr.append(td);
      });
      const links = document.createElement("td");
      const q = view.at ? `?at=${encodeURIComponent(view.at)}` : "";
      for (const [href, text] of [[`agreements/${encodeURIComponent(a.id)}${q}`, "timeline"], [`agreements/${encodeURIComponent(a.id)}/impact${q}`, "impact"]]) {
        const link = document.createElement("a");
        link.href = `/console/${href}`;
        link.textContent = text;
        link.setAttribute("aria-label", `${text} of ${a.id}`);
        links.append(link, " ");
      }
      tr.append(links);
      return tr;
    }),
  );
  const shown = $("shown");
  shown.dataset.at = data.at;
  shown.textContent = `${data.live ? "Now: " : "At "}${formatInstant(data.at, zoneOf(null))}`;
  const slider = $("slider");
  slider.min = String(Math.floor(Date.parse(data.span[0]) / 1000));
  slider.max = String(Math.ceil(Date.parse(data.span[1]) / 1000));
  if (document.activeElement !== slider) slider.value = String(Math.round(Date.parse(data.at) / 1000));
  slider.setAttribute("aria-valuetext", formatInstant(data.at, zoneOf(null)));
  tick();
  document.body.dataset.drawn = String(view.seq);
  document.body.dataset.drawnAt = String(performance.now()); // read by bench/console.py
}

function tick() {
  if (!view.data) return;
  const now = view.data.live ? nowMs() : Date.parse(view.data.at);
  const rows = $("states").tBodies[0].rows;
  view.data.agreements.forEach((a, i) => {
    const cell = rows[i] && rows[i].querySelector(".countdown");
    if (!cell) return;
    const pending = a.expires_at && ["in_force", "notice_pending"].includes(a.edge);
    cell.textContent = pending ? formatDuration(Date.parse(a.expires_at) - now) : "—";
  });
}

async function load() {
  const seq = ++view.seq;
  const q = view.at ? `?at=${encodeURIComponent(view.at)}` : "";
  let answer;
  try {
    answer = await fetch(`/console/api/network${q}`, { headers: { "x-csrf-token": csrfToken() } });
  } catch {
    $("shown").textContent = "The server cannot be reached.";
    return;
  }
  if (seq !== view.seq) return; // a later move already asked
  if (answer.status === 401) {
    window.location.assign("/console/signin");
    return;
  }
  const body = await answer.json();
  if (!answer.ok) {
    $("shown").textContent = body.message;
    return;
  }
  view.data = body;
  view.fetched = Date.now();
  draw();
}

function setInstant(at) {
  view.at = at;
  const url = new URL(window.location.href);
  if (at) url.searchParams.set("at", at);
  else url.searchParams.delete("at");
  window.history.replaceState(null, "", url);
  load();
}

let pending = false;
function start() {
  const field = $("at");
  view.at = field.value.trim() || null;
  $("instant-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = field.value.trim();
    const at = text ? toInstant(text, typingZone()) : null;
    if (text && !at) {
      $("shown").textContent = `at: ${JSON.stringify(text)} is not a date and time (e.g. 2019-11-22T23:59:59+09:00, or 2019-11-22 23:59 in the zone chosen below)`;
      return;
    }
    setInstant(at);
  });
  $("now").addEventListener("click", () => {
    field.value = "";
    setInstant(null);
  });
  $("zone").addEventListener("change", () => view.data && draw());
  $("slider").addEventListener("input", (e) => {
    const at = new Date(Number(e.target.value) * 1000).toISOString().replace(".000Z", "Z");
    field.value = at;
    view.at = at;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      setInstant(view.at);
    });
  });
  setInterval(tick, 1000);
  setInterval(() => view.data && view.data.live && load(), 30000);
  load();
}

start();
