/**
 * The page's history from the audit trail: lock holds and waits as bars per lock, crash and resume marks on a
 * thread's lane, the tables under the timeline, and the note that says where the history came from (or that it
 * needs `audit`).
 */
import { formatDuration, formatTime } from "../output.js";
import type { LockHold, RunMark } from "../read/activity.js";
import type { TimeAxis } from "./axis.js";
import type { ViewData } from "./data.js";
import { colourOf, esc, LABEL_W, LANE_H } from "./draw.js";

/** Locks held now that no hold read from the audit trail stands for (audit off, or taken outside what was read). */
export function heldNowOnly(data: ViewData) {
  const drawn = new Set(data.activity.holds.filter((h) => h.end === "held").map((h) => h.lock));
  return data.locks.filter((lock) => !drawn.has(lock.name));
}

const MARK_GLYPH = { crash: "✕", resume: "↻", "lease-lost": "!", prune: "✂", copy: "⧉", deleteForRuns: "⌫" } as const;

/** A crash, resume or lost-lease mark on a thread's main lane: a short upright line and a glyph below the lane. */
export function markSvg(mark: RunMark, x: number, y: number, glyphX = x): string {
  const who = mark.by ?? "?";
  const label =
    mark.kind === "crash"
      ? `crashed: the run's lease${mark.crashedHolder ? ` (held by ${mark.crashedHolder})` : ""} expired; ` +
        `claimed for resume by ${who} at ${formatTime(mark.atMs)}`
      : mark.kind === "resume"
        ? `resumed by ${who} at ${formatTime(mark.atMs)}`
        : mark.kind === "lease-lost"
          ? `lease lost by ${who} at ${formatTime(mark.atMs)}: the run was aborted`
          : `${mark.kind} by ${who} at ${formatTime(mark.atMs)}: ${mark.detail ?? ""}`;
  return (
    `<g class="run-mark ${mark.kind}" data-thread-id="${esc(mark.threadId)}" data-kind="${mark.kind}" ` +
    `data-by="${esc(who)}" data-at-ms="${mark.atMs}"><title>${esc(label)}</title>` +
    `<line x1="${x}" x2="${x}" y1="${y - 12}" y2="${y + 12}"/>` +
    `<text class="mark" x="${glyphX}" y="${y + 24}">${MARK_GLYPH[mark.kind]}</text></g>`
  );
}

/** One row per lock: holds as bars coloured by their holder, the wait before a hold as a thin striped bar. */
export function locksSvg(data: ViewData, axis: TimeAxis): { svg: string; height: number } | undefined {
  const held = heldNowOnly(data);
  const names = [...new Set([...data.activity.holds.map((h) => h.lock), ...held.map((l) => l.name)])].sort();
  if (names.length === 0) return undefined;
  const parts = [`<text class="thread-title" x="0" y="16">locks (guarded() resources)</text>`];
  const laneY = (row: number) => 30 + row * LANE_H + LANE_H / 2;
  names.forEach((name, row) => {
    const y = laneY(row);
    parts.push(
      `<text class="lane-label" x="0" y="${y + 4}"><title>${esc(name)}</title>${esc(clipText(name, 30))}</text>`,
      `<line class="lane" x1="${LABEL_W}" x2="${LABEL_W + axis.width}" y1="${y}" y2="${y}"/>`,
    );
    const holds = data.activity.holds.filter((h) => h.lock === name);
    holds.forEach((hold, i) => {
      parts.push(holdSvg(hold, axis, y, holds[i + 1]?.acquiredAtMs, data.serverTimeMs));
    });
    for (const lock of held.filter((l) => l.name === name)) {
      const x0 = LABEL_W + axis.x(data.serverTimeMs);
      const x1 = Math.max(x0 + 6, LABEL_W + axis.x(data.serverTimeMs + Math.max(0, lock.remainingMs)));
      const left = lock.remainingMs < 0 ? "no expiry" : `${formatDuration(lock.remainingMs)} left`;
      parts.push(
        `<g class="lock-now" data-lock="${esc(name)}"><title>${esc(
          `${name}: held now (${left}, fence counter ` +
            `${lock.fenceCounter}); when it was taken and by whom is in the audit trail`,
        )}</title>` + `<rect x="${x0}" y="${y - 6}" width="${x1 - x0}" height="12" rx="2"/></g>`,
      );
    }
  });
  return { svg: parts.join(""), height: names.length * LANE_H + 34 };
}

function holdSvg(
  hold: LockHold,
  axis: TimeAxis,
  y: number,
  nextAcquiredAtMs: number | undefined,
  serverTimeMs: number,
): string {
  const x0 = LABEL_W + axis.x(hold.acquiredAtMs);
  // A hold without a recorded end is drawn up to the next hold of the lock (or now), outlined only.
  const endMs = hold.endAtMs ?? nextAcquiredAtMs ?? serverTimeMs;
  const x1 = Math.max(x0 + 4, LABEL_W + axis.x(endMs));
  const who = hold.holder;
  const where = hold.threadId ? ` on thread ${hold.threadId}${hold.node ? ` (node ${hold.node})` : ""}` : "";
  const how =
    hold.end === "released"
      ? `released ${formatTime(endMs)} after ${formatDuration(endMs - hold.acquiredAtMs)}`
      : hold.end === "lost"
        ? `LOST ${formatTime(endMs)} after ${formatDuration(endMs - hold.acquiredAtMs)}`
        : hold.end === "held"
          ? "still held"
          : "no release recorded (its process died, or the release is older than what was read)";
  const wait =
    hold.waitFromMs === undefined
      ? ""
      : `; waited ${formatDuration(hold.acquiredAtMs - hold.waitFromMs)} for it from ${formatTime(hold.waitFromMs)}`;
  const title = `${hold.lock}: held by ${who}${where}, token ${hold.token ?? "?"}, from ${formatTime(hold.acquiredAtMs)}, ${how}${wait}`;
  const colour = colourOf(who);
  let svg =
    `<g class="lock-hold end-${hold.end}" data-lock="${esc(hold.lock)}" data-holder="${esc(who)}" ` +
    `data-thread-id="${esc(hold.threadId ?? "")}" data-token="${hold.token ?? ""}" data-end="${hold.end}"><title>${esc(title)}</title>`;
  if (hold.waitFromMs !== undefined) {
    const w0 = LABEL_W + axis.x(hold.waitFromMs);
    svg +=
      `<rect class="lock-wait" data-holder="${esc(who)}" x="${w0}" y="${y + 7}" width="${Math.max(2, x0 - w0)}" ` +
      'height="5" rx="1"/>';
  }
  svg +=
    hold.end === "open"
      ? `<rect x="${x0}" y="${y - 6}" width="${x1 - x0}" height="12" rx="2" fill="none" stroke="${colour}" stroke-dasharray="3 2"/>`
      : `<rect x="${x0}" y="${y - 6}" width="${x1 - x0}" height="12" rx="2" fill="${colour}"/>`;
  if (hold.end === "lost") svg += `<text class="mark crash" x="${x1}" y="${y + 5}">✕</text>`;
  // The holder's name: inside the bar when it fits (about 6 px a character), else right of it when the lock's next
  // hold leaves room, else above the bar.
  const textPx = who.length * 6 + 6;
  const nextX = nextAcquiredAtMs === undefined ? Number.POSITIVE_INFINITY : LABEL_W + axis.x(nextAcquiredAtMs);
  const [lx, ly, cls] =
    x1 - x0 >= textPx
      ? [x0 + 3, y + 4, hold.end === "open" ? "open" : "inside"]
      : nextX - x1 >= textPx + 4
        ? [x1 + 4, y + 4, "outside"]
        : [x0, y - 9, "outside"];
  return `${svg}<text class="hold-label ${cls}" x="${lx}" y="${ly}">${esc(who)}</text></g>`;
}

function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Where the history on the page came from, and what is missing from it. */
export function historyNote(data: ViewData): string {
  const a = data.activity;
  if (a.source === "none") {
    return (
      '<p class="note" id="history-note" data-source="none"><b>No history of locks, crashes and resumes:</b> audit is ' +
      `off under the prefix ${esc(data.prefix)}. The holds and waits of guarded() locks, crashed runs and their ` +
      "resumes over time are read from the audit trail: turn on <code>audit</code> on guarded(), withRunLease() " +
      "(and RedisSaver, RedisStore) to draw them (docs/audit.md). Shown here: the locks held now, the run leases " +
      "now, and crashed runs (leases that expired with work pending).</p>"
    );
  }
  const read = [
    `${a.outboxEvents} audit events from ${a.outboxStreams} outbox stream${a.outboxStreams === 1 ? "" : "s"}`,
  ];
  if (a.postgresEvents !== undefined) read.push(`${a.postgresEvents} from PostgreSQL`);
  const missing =
    a.postgresEvents === undefined
      ? " Events an audit sink has already moved to PostgreSQL are no longer in Redis: add --postgres &lt;url&gt; to draw them too."
      : "";
  const cut = a.truncated ? " The newest events only: older ones were not read (--events)." : "";
  return (
    `<p class="note" id="history-note" data-source="audit">History from the audit trail: ${esc(read.join(", "))}; ` +
    `${a.holds.length} lock hold${a.holds.length === 1 ? "" : "s"}, ${a.marks.length} crash, resume or history mark${a.marks.length === 1 ? "" : "s"}.${missing}${cut}</p>`
  );
}

export function holdsTable(data: ViewData): string {
  const { holds, marks } = data.activity;
  if (holds.length === 0 && marks.length === 0) return "";
  const holdRows = holds
    .map(
      (h) =>
        `<tr class="hold-row" data-lock="${esc(h.lock)}" data-end="${h.end}"><td>${esc(h.lock)}</td>` +
        `<td><span class="swatch" style="background:${colourOf(h.holder)}"></span>${esc(h.holder)}</td>` +
        `<td>${esc(h.threadId ?? "-")}</td><td>${h.token ?? "-"}</td>` +
        `<td>${h.waitFromMs === undefined ? "-" : esc(formatDuration(h.acquiredAtMs - h.waitFromMs))}</td>` +
        `<td>${esc(formatTime(h.acquiredAtMs))}</td><td>${esc(formatTime(h.endAtMs))}</td><td>${h.end}</td></tr>`,
    )
    .join("");
  const markRows = marks
    .map(
      (m) =>
        `<tr class="mark-row" data-kind="${m.kind}"><td>${esc(m.threadId)}</td><td>${m.kind}</td>` +
        `<td>${esc(m.by ?? "-")}</td><td>${esc(m.crashedHolder ?? "-")}</td><td>${esc(formatTime(m.atMs))}</td>` +
        `<td>${esc(m.detail ?? "-")}</td></tr>`,
    )
    .join("");
  return (
    (holds.length === 0
      ? ""
      : '<h2>lock holds (audit trail)</h2><table class="holds"><thead><tr><th>lock</th><th>holder</th><th>thread</th>' +
        "<th>token</th><th>waited</th><th>acquired</th><th>ended</th><th>how</th></tr></thead>" +
        `<tbody>${holdRows}</tbody></table>`) +
    (marks.length === 0
      ? ""
      : '<h2>crashes, resumes and history changes (audit trail)</h2><table class="marks"><thead><tr><th>thread</th>' +
        `<th>mark</th><th>by</th><th>crashed holder</th><th>time</th><th>what</th></tr></thead><tbody>${markRows}` +
        "</tbody></table>")
  );
}
