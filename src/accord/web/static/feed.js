// The live feed: items that became readable for this user, newest first.
// Polls the console's feed; a server-sent events source can replace `poll` (same entries).
import { formatInstant } from "./common.js";

const POLL_MS = 250;
const list = document.getElementById("feed");
const status = document.getElementById("feed-status");
const seen = new Set();
let since = null;

function show(entry) {
  if (seen.has(entry.id)) return;
  seen.add(entry.id);
  const li = document.createElement("li");
  li.dataset.item = entry.id;
  const banner = document.createElement("p");
  banner.className = "banner";
  banner.textContent = entry.banner;
  const link = document.createElement("a");
  link.href = `/console/items/${encodeURIComponent(entry.id)}`;
  link.textContent = entry.id;
  const route = document.createElement("p");
  route.textContent = `received ${formatInstant(entry.received_at)} under ${entry.agreement || "—"}${entry.via ? ` through ${entry.via}` : ""}`;
  li.append(banner, link, route);
  list.prepend(li);
}

async function poll() {
  const q = since ? `?since=${encodeURIComponent(since)}` : "";
  try {
    const answer = await fetch(`/console/api/feed${q}`);
    if (answer.status === 401) {
      window.location.assign("/console/signin");
      return;
    }
    if (answer.ok) {
      const body = await answer.json();
      [...body.items].reverse().forEach(show);
      for (const e of body.items) if (!since || e.received_at > since) since = e.received_at;
      status.textContent = `${seen.size} item${seen.size === 1 ? "" : "s"}; checked ${formatInstant(body.now)}`;
    }
  } catch {
    status.textContent = "The server cannot be reached; trying again…";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
