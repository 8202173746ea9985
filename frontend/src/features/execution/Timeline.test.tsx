// @vitest-environment happy-dom
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { ExecutionEvent } from "../../api/types";
import { ExecutionLiveContext, type ExecutionLive } from "./events";
import { describeEvent, Timeline } from "./Timeline";

const event = (seq: number, kind: string, data: Record<string, unknown>): ExecutionEvent => ({
  execution_id: "e",
  seq,
  kind,
  data,
  at: "2026-01-01T00:00:00.123Z",
});

function live(events: ExecutionEvent[]): ExecutionLive {
  const counts = { routes: {}, totals: null, seq: 0 };
  return {
    counts,
    stream: {
      events,
      derived: counts,
      lastSeq: events.at(-1)?.seq ?? 0,
      state: "ended",
      detail: undefined,
      version: 1,
      gapAt: null,
    },
  };
}

describe("Timeline", () => {
  it("describes each kind of event", () => {
    expect(describeEvent(event(1, "status", { status: "failed", error: "boom" }))).toBe("status → failed: boom");
    expect(describeEvent(event(2, "storage.written", { key: "a/b.json", size: 2048 }))).toBe(
      "stored a/b.json (2.0 KB)",
    );
    expect(describeEvent(event(3, "route.drained", { route: "r", counts: { processed: 5, failed: 1 } }))).toBe(
      "route r drained (5 processed, 1 failed)",
    );
  });

  it("renders every event once, in seq order", () => {
    const events = [
      event(1, "status", { status: "running" }),
      event(2, "route.started", { route: "src" }),
      event(3, "status", { status: "completed" }),
    ];
    const { container } = render(
      <ExecutionLiveContext.Provider value={live(events)}>
        <Timeline />
      </ExecutionLiveContext.Provider>,
    );
    const seqs = [...container.querySelectorAll("[data-seq]")].map((li) => li.getAttribute("data-seq"));
    expect(seqs).toEqual(["1", "2", "3"]);
    expect(screen.getByText("status → completed")).toBeTruthy();
    expect(screen.getByText(/3 events · last seq 3/)).toBeTruthy();
  });
});
