import { useEffect, useRef, useState } from "react";
import type { ExecutionEvent } from "../../api/types";
import { bytes, clock, count } from "../../lib/format";
import { asText } from "../../lib/text";
import { useExecutionLive } from "./events";

const SHOWN = 400;

export function describeEvent(event: ExecutionEvent): string {
  const d = event.data;
  const text = (key: string) => asText(d[key]);
  switch (event.kind) {
    case "status":
      return `status → ${text("status")}${d["error"] ? `: ${text("error")}` : ""}`;
    case "route.started":
      return `route ${text("route")} started`;
    case "route.drained": {
      const counts = d["counts"] as Record<string, number> | undefined;
      return `route ${text("route")} drained (${count(counts?.["processed"])} processed, ${count(counts?.["failed"])} failed)`;
    }
    case "progress": {
      const totals = d["totals"] as Record<string, number> | undefined;
      return `${count(totals?.["processed"])} processed · ${count(totals?.["failed"])} failed · ${count(totals?.["in_flight"])} in flight`;
    }
    case "message.failed":
      return `message ${text("message_id").slice(0, 8)} failed at ${text("route")} (attempt ${text("attempt")}): ${text("error")}`;
    case "storage.written":
      return `stored ${text("key")} (${bytes(Number(d["size"] ?? 0))})`;
    default:
      return JSON.stringify(d);
  }
}

/** The execution's event log, following the live stream. */
export function Timeline() {
  const { stream } = useExecutionLive();
  const [hideProgress, setHideProgress] = useState(false);
  const [showAll, setShowAll] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);

  const all = hideProgress ? stream.events.filter((e) => e.kind !== "progress") : stream.events;
  const shown = showAll ? all : all.slice(-SHOWN);

  useEffect(() => {
    const element = list.current;
    if (element && atBottom.current) element.scrollTop = element.scrollHeight;
  }, [stream.version, hideProgress]);

  return (
    <section className="timeline card" aria-labelledby="timeline-title">
      <header className="card-header">
        <h2 id="timeline-title">Timeline</h2>
        <span className={`stream-state state-${stream.state}`} data-stream-state={stream.state}>
          {stream.state === "live" ? "● live" : stream.state === "ended" ? "ended" : stream.state}
          {stream.detail && stream.state !== "live" && stream.state !== "ended" ? ` (${stream.detail})` : ""}
        </span>
        <label className="small">
          <input type="checkbox" checked={hideProgress} onChange={(e) => setHideProgress(e.target.checked)} /> hide
          progress
        </label>
        <span className="muted small" data-testid="event-count">
          {count(stream.events.length)} events · last seq {stream.lastSeq}
        </span>
      </header>
      {stream.gapAt !== null && (
        <p className="form-error" role="alert">
          The stream skipped event {stream.gapAt}; reload the page to read the whole log.
        </p>
      )}
      {all.length > shown.length && (
        <button type="button" className="link-button" onClick={() => setShowAll(true)}>
          Show all {count(all.length)} events ({count(all.length - shown.length)} earlier)
        </button>
      )}
      <ol
        ref={list}
        className="timeline-list"
        aria-live="off"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {shown.length === 0 && <li className="muted">No events yet{stream.state === "live" ? " — waiting for the run." : "."}</li>}
        {shown.map((event) => (
          <li key={event.seq} data-seq={event.seq} className={`event kind-${event.kind.replace(".", "-")}`}>
            <span className="seq">{event.seq}</span>
            <time dateTime={event.at}>{clock(event.at)}</time>
            <span className="kind">{event.kind}</span>
            <span className="what">{describeEvent(event)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
