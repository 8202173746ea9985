// Display formatting: times, durations, sizes, counts, ids.

const numberFormat = new Intl.NumberFormat("en");

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : numberFormat.format(value);
}

export function bytes(value: number): string {
  if (value < 1024) return `${value} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let size = value / 1024;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size < 10 ? size.toFixed(1) : Math.round(size).toString()} ${units[unit] ?? "TB"}`;
}

/** "850 ms", "12.4 s", "3 min 05 s", "2 h 04 min". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) {
    return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  }
  const minutes = Math.floor(whole / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** Seconds between two ISO times (`end` defaults to now). */
export function elapsed(start: string | null | undefined, end?: string | null, now = Date.now()): number | null {
  if (!start) return null;
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : now;
  return Number.isNaN(from) || Number.isNaN(to) ? null : Math.max(0, (to - from) / 1000);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : timeFormat.format(at);
}

/** Time of day with milliseconds, for event timelines. */
export function clock(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

/** "3 s ago", "5 min ago", "2 h ago", else the date. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "–";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((now - at) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return dateTime(iso);
}

/** "in 3 s", "in 5 min", "in 2 h" for a coming time, else the date (a past one: `ago`). */
export function fromNow(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "–";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((at - now) / 1000);
  if (seconds < 0) return ago(iso, now);
  if (seconds < 1) return "now";
  if (seconds < 60) return `in ${seconds} s`;
  if (seconds < 3600) return `in ${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `in ${Math.floor(seconds / 3600)} h`;
  return dateTime(iso);
}

/** The first characters of an id (ids are time-ordered UUIDv7: the tail varies). */
export function shortId(id: string): string {
  const compact = id.replaceAll("-", "");
  return compact.length > 12 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** A queued run's place in the run queue: "#3 in queue" (null when it is not queued). */
export function queuePlace(position: number | null | undefined): string | null {
  return position === null || position === undefined ? null : `#${numberFormat.format(position)} in queue`;
}

/** A status with the queue position of a run waiting in the run queue: "pending · #3 in queue". */
export function statusText(status: string, position: number | null | undefined): string {
  const place = status === "pending" ? queuePlace(position) : null;
  return place === null ? status : `${status} · ${place}`;
}

/** What the run dialog says when the server queued the run instead of starting it. */
export function queuedText(position: number | null | undefined): string {
  const place = position === null || position === undefined ? "" : `, position ${numberFormat.format(position)}`;
  return `Queued${place}: every slot is busy; it starts as one frees.`;
}
