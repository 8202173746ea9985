import { useEffect, useRef, useState } from "react";
import { Link, useOutletContext, useSearchParams } from "react-router";
import { isTerminal, LOG_LEVELS, type Execution, type LogLevel } from "../../api/types";
import { Empty } from "../../components/States";
import { clock, count, dateTime } from "../../lib/format";
import { useEventStream } from "../../lib/useEventStream";
import { isLogRecord, logStreamUrl, parseLogFrame, type LogFrame } from "./logs";

const SHOWN = 1000;
const NONE: null = null;

/** /executions/:id/logs?level=&message= — what the run's processors and adapters logged, followed live. */
export function LogsTab() {
  const execution = useOutletContext<Execution>();
  const [search, setSearch] = useSearchParams();
  const level = (LOG_LEVELS as readonly string[]).includes(search.get("level") ?? "")
    ? (search.get("level") as LogLevel)
    : null;
  const messageId = search.get("message");
  const set = (key: string, value: string | null) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setSearch(next);
  };
  // Records by seq; filtered logs skip seqs, a resumed stream's repeats are dropped.
  const stream = useEventStream<LogFrame, null>(logStreamUrl(execution.id, level, messageId), {
    parse: parseLogFrame,
    isLast: (frame) => !isLogRecord(frame),
    initial: NONE,
    dense: false,
  });
  const records = stream.events.filter(isLogRecord);
  const [showAll, setShowAll] = useState(false);
  const shown = showAll ? records : records.slice(-SHOWN);
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  useEffect(() => {
    const element = list.current;
    if (element && atBottom.current) element.scrollTop = element.scrollHeight;
  }, [stream.version]);

  return (
    <section className="card logs" aria-labelledby="logs-title">
      <header className="card-header">
        <h2 id="logs-title">Logs</h2>
        <span className={`stream-state state-${stream.state}`} data-log-stream-state={stream.state}>
          {stream.state === "live" ? "● live" : stream.state === "ended" ? "ended" : stream.state}
          {stream.detail && stream.state !== "live" && stream.state !== "ended" ? ` (${stream.detail})` : ""}
        </span>
        <label className="small">
          Level{" "}
          <select value={level ?? ""} onChange={(e) => set("level", e.target.value || null)}>
            <option value="">all</option>
            {LOG_LEVELS.map((name) => (
              <option key={name} value={name}>
                {name} and above
              </option>
            ))}
          </select>
        </label>
        {messageId && (
          <span className="chip" data-filter="message">
            message {messageId.slice(0, 12)}{" "}
            <button type="button" className="icon-button" aria-label="Show every message's records" onClick={() => set("message", null)}>
              ✕
            </button>
          </span>
        )}
        <span className="muted small" data-testid="log-count">
          {count(records.length)} records
        </span>
      </header>
      {records.length > shown.length && (
        <button type="button" className="link-button" onClick={() => setShowAll(true)}>
          Show all {count(records.length)} records ({count(records.length - shown.length)} earlier)
        </button>
      )}
      {records.length === 0 ? (
        stream.state === "ended" || (stream.state === "live" && isTerminal(execution.status)) ? (
          <Empty title={level || messageId ? "No records match." : "This run logged nothing."}>
            {level || messageId
              ? "Try another level, or every message."
              : "Processors' and adapters' log records, and every failed attempt with its traceback, show here."}
          </Empty>
        ) : (
          <Empty title="No records yet.">They appear here as the run logs them.</Empty>
        )
      ) : (
        <ol
          ref={list}
          className="log-list"
          tabIndex={0}
          aria-label="Log records"
          onScroll={(e) => {
            const el = e.currentTarget;
            atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
        >
          {shown.map((record) => (
            <li key={record.seq} data-log-seq={record.seq} className={`log level-${record.level}`}>
              <time dateTime={record.at} title={dateTime(record.at)}>
                {clock(record.at)}
              </time>
              <span className="level">{record.level}</span>
              <span className="where">
                {record.route ?? record.logger}
                {record.message_id && (
                  <>
                    {" "}
                    <Link className="mono" to={`../lineage?message=${record.message_id}`} title="The message's lineage">
                      {record.message_id.slice(0, 8)}
                    </Link>
                    {record.attempt !== null && <span className="muted"> #{record.attempt}</span>}
                  </>
                )}
              </span>
              <span className="text">
                {record.message}
                {record.traceback && (
                  <details>
                    <summary className="small muted">traceback</summary>
                    <pre className="traceback">{record.traceback}</pre>
                  </details>
                )}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
