import { describe, expect, it } from "vitest";
import { appendEvents } from "../../lib/eventLog";
import { isLogRecord, logStreamUrl, parseLogFrame } from "./logs";

const record = (seq: number) =>
  JSON.stringify({
    execution_id: "e",
    seq,
    at: "2026-12-01T19:58:03Z",
    level: "error",
    level_no: 40,
    logger: "factflow.run.e.sink",
    route: "sink",
    message_id: "m",
    attempt: 1,
    message: "failed",
    traceback: "Traceback …",
  });

describe("the run log's stream", () => {
  it("reads records and the closing status frame, which sorts last and is no record", () => {
    const frames = [parseLogFrame(record(3)), parseLogFrame(record(7)), parseLogFrame('{"execution_id": "e", "kind": "status", "data": {"status": "completed"}}')];
    expect(frames.filter(isLogRecord).map((f) => f.seq)).toEqual([3, 7]);
    const closing = frames[2];
    expect(closing && !isLogRecord(closing) && closing.status).toBe("completed");
    // Filtered logs skip seqs (not dense); a resumed stream's repeats are dropped.
    const applied = appendEvents(3, [...frames, parseLogFrame(record(7))], false);
    expect(applied.accepted.filter(isLogRecord).map((f) => f.seq)).toEqual([7]);
    expect(applied.gapAt).toBeNull();
  });

  it("asks with the page's filters", () => {
    expect(logStreamUrl("e 1", null, null)).toBe("/api/v1/executions/e%201/logs/stream");
    expect(logStreamUrl("e", "warning", "m-1")).toBe("/api/v1/executions/e/logs/stream?level=warning&message_id=m-1");
  });
});
