import { describe, expect, it } from "vitest";
import type { Dag, ExecutionEvent } from "../../api/types";
import { liveEdgeCount } from "./dagCounts";
import { foldCounts, isTerminalEvent, needsEdgeCounts } from "./events";

const event = (seq: number, kind: string, data: Record<string, unknown>): ExecutionEvent => ({
  execution_id: "e",
  seq,
  kind,
  data,
  at: "2026-01-01T00:00:00Z",
});
const counts = (processed: number) => ({
  received: processed,
  processed,
  failed: 0,
  filtered: 0,
  cancelled: 0,
  in_flight: 0,
  lost: 0,
});

describe("foldCounts", () => {
  it("keeps the newest counts per route", () => {
    const folded = foldCounts({ routes: {}, totals: null, seq: 0 }, [
      event(1, "progress", { routes: { a: counts(1), b: counts(0) }, totals: counts(1) }),
      event(2, "route.drained", { route: "b", counts: counts(5) }),
      event(3, "progress", { routes: { a: counts(9) }, totals: counts(14) }),
    ]);
    expect(folded.routes["a"]?.processed).toBe(9);
    expect(folded.routes["b"]?.processed).toBe(5);
    expect(folded.totals?.processed).toBe(14);
    expect(folded.seq).toBe(3);
  });

  it("recognises the terminal status event", () => {
    expect(isTerminalEvent(event(4, "status", { status: "completed" }))).toBe(true);
    expect(isTerminalEvent(event(4, "status", { status: "running" }))).toBe(false);
    expect(isTerminalEvent(event(4, "progress", { status: "failed" }))).toBe(false);
  });
});

describe("liveEdgeCount", () => {
  it("uses the target's received count when the edge is its only input", () => {
    const edge = { source: "a", target: "b", queue: null, messages: 3 };
    const live = { b: { ...counts(9), received: 12 } };
    expect(liveEdgeCount(edge, new Map([["b", 1]]), live)).toBe(12);
    expect(liveEdgeCount(edge, new Map([["b", 2]]), live)).toBe(3); // fan-in: only lineage can tell
    expect(liveEdgeCount(edge, new Map([["b", 1]]), {})).toBe(3);
  });
});

describe("when the DAG is read again during a run", () => {
  const dag = (edges: [string, string][]): Dag => ({
    execution_id: "e",
    status: "running",
    nodes: [],
    edges: edges.map(([source, target]) => ({ source, target, messages: 0, queue: null })),
  });

  it("not while every route has at most one input (progress events carry those counts)", () => {
    expect(needsEdgeCounts(dag([["src", "mid"], ["mid", "sink"]]))).toBe(false);
    expect(needsEdgeCounts(dag([["src", "a"], ["src", "b"]]))).toBe(false);
  });

  it("when a route joins several inputs, or before the DAG was read at all", () => {
    expect(needsEdgeCounts(dag([["a", "sink"], ["b", "sink"]]))).toBe(true);
    expect(needsEdgeCounts(undefined)).toBe(true);
  });
});
