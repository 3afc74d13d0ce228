/**
 * The self-contained HTML page of `view`: inline CSS, an inline SVG drawn here, and a small inline script for the
 * details panel. Nothing is fetched (no CDN, no fonts), so the file opens offline and can be attached to a ticket.
 */
import { formatBytes, formatDuration, formatTime } from "../output.js";
import type { RunMark } from "../read/activity.js";
import { heldNowOnly, historyNote, holdsTable, locksSvg, markSvg } from "./activity-svg.js";
import { type TimeAxis, timeAxis } from "./axis.js";
import type { ViewCheckpoint, ViewData, ViewItem, ViewThread } from "./data.js";
import { colourOf, esc, LABEL_W, LANE_H } from "./draw.js";

const PAD = 24;

export { colourOf, esc };

function eventTimes(data: ViewData): number[] {
  const times: number[] = [];
  for (const thread of data.threads) {
    for (const c of thread.checkpoints) times.push(c.timeMs);
    for (const lease of thread.leases) {
      if (lease.holder) times.push(lease.holder.sinceMs);
      times.push(lease.state === "live" ? data.serverTimeMs : lease.expiresAtMs);
    }
  }
  for (const item of data.items) for (const e of item.history) times.push(e.at.getTime());
  for (const hold of data.activity.holds) {
    times.push(hold.acquiredAtMs);
    if (hold.waitFromMs !== undefined) times.push(hold.waitFromMs);
    if (hold.endAtMs !== undefined) times.push(hold.endAtMs);
  }
  for (const mark of data.activity.marks) times.push(mark.atMs);
  for (const lock of heldNowOnly(data))
    times.push(data.serverTimeMs, data.serverTimeMs + Math.max(0, lock.remainingMs));
  return times;
}

function writerName(c: ViewCheckpoint): string {
  return c.writers.length > 0 ? c.writers.join("+") : (c.source ?? "?");
}

function threadSvg(
  thread: ViewThread,
  axis: TimeAxis,
  serverTimeMs: number,
  marks: readonly RunMark[],
): { svg: string; height: number } {
  const parts: string[] = [];
  const rows = thread.branches + (thread.leases.length > 0 ? 1 : 0);
  const height = rows * LANE_H + 34;
  const laneY = (lane: number) => 30 + lane * LANE_H + LANE_H / 2;
  const byId = new Map(thread.checkpoints.map((c) => [`${c.ns}\0${c.checkpointId}`, c]));
  parts.push(`<text class="thread-title" x="0" y="16">thread ${esc(thread.threadId)}</text>`);
  for (let lane = 0; lane < thread.branches; lane++) {
    parts.push(
      `<text class="lane-label" x="0" y="${laneY(lane) + 4}">${lane === 0 ? "main" : `fork ${lane}`}</text>`,
      `<line class="lane" x1="${LABEL_W}" x2="${LABEL_W + axis.width}" y1="${laneY(lane)}" y2="${laneY(lane)}"/>`,
    );
  }
  // Edges first, so the dots sit on top of them.
  for (const c of thread.checkpoints) {
    const parent = c.parentId === null ? undefined : byId.get(`${c.ns}\0${c.parentId}`);
    if (!parent) continue;
    const x0 = LABEL_W + axis.x(parent.timeMs);
    const y0 = laneY(parent.branch);
    const x1 = LABEL_W + axis.x(c.timeMs);
    const y1 = laneY(c.branch);
    // A fork leaves its parent downwards first, so it is not mistaken for the parent's next step.
    const turn = Math.min(14, (x1 - x0) / 2);
    const d = y0 === y1 ? `M${x0},${y0} L${x1},${y1}` : `M${x0},${y0} Q${x0},${y1} ${x0 + turn},${y1} L${x1},${y1}`;
    parts.push(`<path class="edge${c.forkStart ? " fork" : ""}" d="${d}"/>`);
  }
  for (const c of thread.checkpoints) {
    const x = LABEL_W + axis.x(c.timeMs);
    const y = laneY(c.branch);
    const writer = writerName(c);
    parts.push(
      `<g class="checkpoint" tabindex="0" data-thread-id="${esc(thread.threadId)}" data-checkpoint-id="${esc(c.checkpointId)}" ` +
        `data-step="${c.step ?? ""}" data-writer="${esc(writer)}">` +
        `<title>step ${c.step ?? "-"} · ${esc(writer)} · ${esc(formatTime(c.timeMs))}</title>` +
        `<circle cx="${x}" cy="${y}" r="${c.forkStart ? 7 : 6}" fill="${colourOf(writer)}"${c.forkStart ? ' class="fork-start"' : ""}/>` +
        `<text class="step" x="${x}" y="${y - 10}">${c.step ?? ""}</text></g>`,
    );
  }
  // A crash and its resume are often a millisecond apart: their glyphs are set side by side, the lines stay put.
  let lastGlyphX = Number.NEGATIVE_INFINITY;
  for (const mark of [...marks].sort((a, b) => a.atMs - b.atMs)) {
    const x = LABEL_W + axis.x(mark.atMs);
    lastGlyphX = Math.max(x, lastGlyphX + 12);
    parts.push(markSvg(mark, x, laneY(0), lastGlyphX));
  }
  if (thread.leases.length > 0) {
    const y = laneY(thread.branches);
    parts.push(`<text class="lane-label" x="0" y="${y + 4}">run leases</text>`);
    for (const lease of thread.leases) {
      const since = lease.holder?.sinceMs ?? lease.expiresAtMs;
      const end = lease.state === "live" ? serverTimeMs : lease.expiresAtMs;
      const x0 = LABEL_W + axis.x(since);
      const x1 = Math.max(x0 + 4, LABEL_W + axis.x(end));
      const kind = lease.holder?.kind === "claim" ? "claim" : lease.state;
      const label =
        kind === "claim"
          ? `resume claimed by ${lease.holder?.owner ?? "?"}`
          : kind === "live"
            ? `running, held by ${lease.holder?.owner ?? "?"} (expires in ${formatDuration(lease.remainingMs)})`
            : `crashed: lease of ${lease.holder?.owner ?? "?"} expired ${formatTime(lease.expiresAtMs)}`;
      parts.push(
        `<g class="lease lease-${kind}" data-thread-id="${esc(thread.threadId)}"><title>${esc(label)}</title>` +
          `<rect x="${x0}" y="${y - 6}" width="${x1 - x0}" height="12" rx="3"/>` +
          (kind === "expired"
            ? `<text class="mark crash" x="${x1}" y="${y + 5}">✕</text>`
            : kind === "claim"
              ? `<text class="mark resume" x="${x0}" y="${y + 5}">↻</text>`
              : "") +
          "</g>",
      );
    }
  }
  return { svg: parts.join(""), height };
}

function itemSvg(item: ViewItem, axis: TimeAxis): { svg: string; height: number } {
  const y = 30 + LANE_H / 2;
  const name = `${item.namespace.join(".")}/${item.key}`;
  const parts = [
    `<text class="thread-title" x="0" y="16">store item ${esc(name)}</text>`,
    `<line class="lane" x1="${LABEL_W}" x2="${LABEL_W + axis.width}" y1="${y}" y2="${y}"/>`,
    `<text class="lane-label" x="0" y="${y + 4}">versions</text>`,
  ];
  for (const entry of item.history) {
    const x = LABEL_W + axis.x(entry.at.getTime());
    const writer = entry.writer ?? "?";
    parts.push(
      `<g class="item-version" data-version="${entry.version}" data-writer="${esc(writer)}">` +
        `<title>v${entry.version} ${entry.op} by ${esc(writer)} · ${esc(formatTime(entry.at.getTime()))}</title>` +
        (entry.op === "delete"
          ? `<rect x="${x - 5}" y="${y - 5}" width="10" height="10" fill="${colourOf(writer)}"/>`
          : `<circle cx="${x}" cy="${y}" r="6" fill="${colourOf(writer)}"/>`) +
        `<text class="step" x="${x}" y="${y - 10}">v${entry.version}</text></g>`,
    );
  }
  return { svg: parts.join(""), height: LANE_H + 34 };
}

function timelineSvg(data: ViewData): string {
  const axis = timeAxis(eventTimes(data), 900);
  const blocks: string[] = [];
  let y = PAD;
  const add = (block: { svg: string; height: number }) => {
    blocks.push(`<g transform="translate(${PAD},${y})">${block.svg}</g>`);
    y += block.height + 12;
  };
  for (const thread of data.threads) {
    const marks = data.activity.marks.filter((m) => m.threadId === thread.threadId);
    add(threadSvg(thread, axis, data.serverTimeMs, marks));
  }
  const locks = locksSvg(data, axis);
  if (locks) add(locks);
  for (const item of data.items) add(itemSvg(item, axis));
  const axisY = y + 8;
  const ticks = axis.ticks
    .map(
      ([x, t]) =>
        `<line class="tick" x1="${PAD + LABEL_W + x}" x2="${PAD + LABEL_W + x}" y1="${PAD}" y2="${axisY}"/>` +
        `<text class="tick-label" x="${PAD + LABEL_W + x}" y="${axisY + 14}">${esc(formatTime(t).slice(11))}</text>`,
    )
    .join("");
  const breaks = axis.breaks
    .map(
      ([x0, x1, ms]) =>
        `<text class="break" x="${PAD + LABEL_W + (x0 + x1) / 2}" y="${axisY}"><title>${esc(formatDuration(ms))} compressed</title>≈ ${esc(formatDuration(ms))}</text>`,
    )
    .join("");
  const width = PAD * 2 + LABEL_W + axis.width + 40;
  return (
    `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${axisY + 30}" ` +
    `viewBox="0 0 ${width} ${axisY + 30}" role="img" aria-label="timeline">${ticks}${blocks.join("")}${breaks}</svg>`
  );
}

function checkpointTable(thread: ViewThread): string {
  const rows = [...thread.checkpoints]
    .sort((a, b) => a.timeMs - b.timeMs || a.checkpointId.localeCompare(b.checkpointId))
    .map(
      (c) =>
        `<tr class="checkpoint-row" data-checkpoint-id="${esc(c.checkpointId)}"><td>${c.branch === 0 ? "main" : `fork ${c.branch}`}</td>` +
        `<td>${c.step ?? "-"}</td><td>${esc(c.source ?? "-")}</td>` +
        `<td><span class="swatch" style="background:${colourOf(writerName(c))}"></span>${esc(c.writers.join(", ") || "-")}</td>` +
        `<td>${esc(c.channels.join(", ") || "-")}</td><td>${esc(formatTime(c.timeMs))}</td><td>${esc(formatBytes(c.bytes))}</td>` +
        `<td class="id">${esc(c.checkpointId)}</td></tr>`,
    )
    .join("");
  return (
    `<h2>thread ${esc(thread.threadId)}</h2><table class="checkpoints" data-thread-id="${esc(thread.threadId)}">` +
    "<thead><tr><th>branch</th><th>step</th><th>source</th><th>node</th><th>writes</th><th>time</th><th>bytes</th><th>checkpoint</th></tr></thead>" +
    `<tbody>${rows}</tbody></table>`
  );
}

function itemTable(item: ViewItem): string {
  const rows = item.history
    .map(
      (e) =>
        `<tr><td>v${e.version}</td><td>${e.op}</td><td><span class="swatch" style="background:${colourOf(e.writer ?? "?")}"></span>` +
        `${esc(e.writer ?? "-")}</td><td>${esc(formatTime(e.at.getTime()))}</td><td class="value">${esc(JSON.stringify(e.value))}</td></tr>`,
    )
    .join("");
  return (
    `<h2>store item ${esc(item.namespace.join("."))}/${esc(item.key)}</h2><table class="history">` +
    `<thead><tr><th>version</th><th>op</th><th>writer</th><th>time</th><th>value</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function locksTable(data: ViewData): string {
  if (data.locks.length === 0) return "<h2>locks held now</h2><p>none</p>";
  const rows = data.locks
    .map(
      (l) =>
        `<tr class="lock-row"><td>${esc(l.name)}</td><td>${esc(l.holder)}</td><td>` +
        `<span class="bar" style="width:${Math.min(200, Math.max(2, l.remainingMs / 100))}px"></span> ${esc(formatDuration(l.remainingMs))}</td>` +
        `<td>${l.fenceCounter}</td></tr>`,
    )
    .join("");
  return (
    '<h2>locks held now</h2><table class="locks"><thead><tr><th>lock</th><th>holder</th><th>time left</th><th>fence counter</th></tr></thead>' +
    `<tbody>${rows}</tbody></table>`
  );
}

const STYLE = `
body{font:13px/1.4 system-ui,sans-serif;margin:16px 24px;color:#1d2330;background:#fbfbfd}
h1{font-size:18px;margin:0 0 4px}h2{font-size:14px;margin:22px 0 6px}
.meta{color:#5b6475;margin-bottom:10px}
#timeline-box{overflow-x:auto;border:1px solid #d8dce5;background:#fff;border-radius:6px}
svg text{font:11px system-ui,sans-serif;fill:#1d2330}
.thread-title{font-weight:600}.lane-label{fill:#5b6475}
.lane{stroke:#e3e6ee;stroke-width:1}.tick{stroke:#eef0f5}.tick-label{fill:#5b6475;text-anchor:middle}
.edge{stroke:#8a93a6;stroke-width:2;fill:none}.edge.fork{stroke:#c2410c;stroke-dasharray:4 3}
.checkpoint{cursor:pointer;outline:none}.checkpoint circle{stroke:#fff;stroke-width:1.5}.checkpoint circle.fork-start{stroke:#c2410c;stroke-width:2.5}
.checkpoint:hover circle,.checkpoint.selected circle{stroke:#111;stroke-width:2.5}
.step{text-anchor:middle;fill:#5b6475;font-size:10px}
.lease rect{fill:#16a34a;opacity:.75}.lease-expired rect{fill:#dc2626;opacity:.55}.lease-claim rect{fill:#d97706;opacity:.75}
.mark{font-size:14px;font-weight:700;text-anchor:middle}.crash{fill:#b91c1c}.resume{fill:#b45309}
.break{fill:#9aa3b5;text-anchor:middle}
.run-mark line{stroke-width:2}.run-mark.crash line{stroke:#b91c1c}.run-mark.resume line{stroke:#b45309}.run-mark.lease-lost line{stroke:#7c3aed}
.run-mark.crash text{fill:#b91c1c}.run-mark.resume text{fill:#b45309}.run-mark.lease-lost text{fill:#7c3aed}
.run-mark.prune line,.run-mark.copy line,.run-mark.deleteForRuns line{stroke:#475569}.run-mark.prune text,.run-mark.copy text,.run-mark.deleteForRuns text{fill:#475569}
.lock-hold rect{opacity:.85}.lock-wait{fill:#9aa3b5;opacity:.8}.lock-now rect{fill:#2563eb;opacity:.6}
.hold-label{font-size:10px;font-weight:600}.hold-label.inside{fill:#fff}.hold-label.open,.hold-label.outside{fill:#1d2330}
.note{background:#fff7e6;border:1px solid #f3d19c;border-radius:6px;padding:6px 10px;margin:8px 0}
.note[data-source=audit]{background:#eef6ff;border-color:#bcd7f5}
table{border-collapse:collapse;background:#fff;font-size:12px}th,td{border:1px solid #e3e6ee;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f1f3f8}td.id{font-family:ui-monospace,monospace;color:#5b6475}td.value{font-family:ui-monospace,monospace;max-width:520px;word-break:break-all}
tr.selected td{background:#fff6d6}
.swatch{display:inline-block;width:9px;height:9px;border-radius:5px;margin-right:5px;vertical-align:middle}
.bar{display:inline-block;height:8px;background:#2563eb;border-radius:3px;vertical-align:middle}
#details{position:sticky;top:0;background:#fff;border:1px solid #d8dce5;border-radius:6px;padding:6px 10px;margin:10px 0;min-height:18px;font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap}
.legend span{margin-right:14px}
`;

const SCRIPT = `
(function(){
  var data = JSON.parse(document.getElementById("view-data").textContent);
  var details = document.getElementById("details");
  var byKey = {};
  data.threads.forEach(function(t){ t.checkpoints.forEach(function(c){ byKey[t.threadId + "\\u0000" + c.checkpointId] = c; }); });
  function select(threadId, id){
    document.querySelectorAll(".selected").forEach(function(el){ el.classList.remove("selected"); });
    document.querySelectorAll('[data-checkpoint-id="' + CSS.escape(id) + '"]').forEach(function(el){ el.classList.add("selected"); });
    var c = byKey[threadId + "\\u0000" + id];
    if (!c) return;
    details.textContent = "thread " + threadId + "  checkpoint " + c.checkpointId + "  step " + c.step + "  source " + c.source +
      "\\nwritten by " + (c.writers.join(", ") || "-") + "  changed " + (c.channels.join(", ") || "-") +
      "\\nnext " + (c.next.join(", ") || "-") + "  pending writes " + c.pendingWrites.map(function(w){ return w.channel; }).join(", ") +
      "\\nparent " + (c.parentId || "-") + "  " + c.bytes + " bytes  " + new Date(c.timeMs).toISOString();
  }
  document.querySelectorAll("g.checkpoint").forEach(function(el){
    var go = function(){ select(el.getAttribute("data-thread-id"), el.getAttribute("data-checkpoint-id")); };
    el.addEventListener("click", go);
    el.addEventListener("keydown", function(e){ if (e.key === "Enter") go(); });
  });
  document.querySelectorAll("tr.checkpoint-row").forEach(function(row){
    row.addEventListener("click", function(){
      var table = row.closest("table");
      select(table.getAttribute("data-thread-id"), row.getAttribute("data-checkpoint-id"));
    });
  });
  document.body.setAttribute("data-ready", "true");
})();
`;

export function renderPage(data: ViewData): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const writers = new Set<string>();
  for (const t of data.threads) for (const c of t.checkpoints) writers.add(writerName(c));
  for (const i of data.items) for (const e of i.history) writers.add(e.writer ?? "?");
  for (const h of data.activity.holds) writers.add(h.holder);
  const legend = [...writers]
    .sort()
    .map((w) => `<span><span class="swatch" style="background:${colourOf(w)}"></span>${esc(w)}</span>`)
    .join("");
  const title = data.threads.map((t) => t.threadId).join(", ") || "store history";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>langgraph-redis: ${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>langgraph-redis timeline</h1>
<div class="meta">prefix <b>${esc(data.prefix)}</b> · ${data.threads.length} thread${data.threads.length === 1 ? "" : "s"} ·
${data.items.length} store item${data.items.length === 1 ? "" : "s"} · drawn ${esc(formatTime(data.generatedAtMs))} UTC ·
dots are checkpoints (colour: the node that wrote the step, number: step), dashed edges start forks; on a thread's
lane ✕ marks a crash (its lease expired, a recoverer claimed it) and ↻ a resume, ✂ history pruned, ⌫ a run's checkpoints
deleted, ⧉ the thread written as a copy; run lease bars are green while running,
red when expired ✕, amber ↻ when claimed; lock bars are holds coloured by holder, the thin grey bar before one is the
wait for it, ✕ at a hold's end = lost</div>
${historyNote(data)}
<div class="legend">${legend}</div>
<div id="details">click a checkpoint for its details</div>
<div id="timeline-box">${timelineSvg(data)}</div>
${locksTable(data)}
${holdsTable(data)}
${data.threads.map(checkpointTable).join("\n")}
${data.items.map(itemTable).join("\n")}
<script type="application/json" id="view-data">${json}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
