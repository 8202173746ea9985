// The run log's stream (GET …/logs/stream): log records by seq, then one
// last `status` frame without an id once the run is terminal and its log has
// been sent to the end.
import type { LogRecord } from "../../api/types";
import { asText } from "../../lib/text";

/** A log record, or the stream's closing status frame. */
export type LogFrame = (LogRecord & { kind?: undefined }) | { kind: "status"; seq: number; status: string };

/** Parses one frame's data; the closing frame sorts after every record. */
export function parseLogFrame(data: string): LogFrame {
  const value = JSON.parse(data) as Record<string, unknown>;
  if (value["kind"] === "status") {
    const inner = value["data"] as { status?: unknown } | undefined;
    return { kind: "status", seq: Number.MAX_SAFE_INTEGER, status: asText(inner?.status) };
  }
  return value as unknown as LogRecord;
}

export function isLogRecord(frame: LogFrame): frame is LogRecord {
  return frame.kind === undefined;
}

/** The stream's URL for a run and the page's filters. */
export function logStreamUrl(executionId: string, level: string | null, messageId: string | null): string {
  const query = new URLSearchParams();
  if (level) query.set("level", level);
  if (messageId) query.set("message_id", messageId);
  const search = query.toString();
  return `/api/v1/executions/${encodeURIComponent(executionId)}/logs/stream${search ? `?${search}` : ""}`;
}
