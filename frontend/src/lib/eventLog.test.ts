import { describe, expect, it } from "vitest";
import { appendEvents } from "./eventLog";

const seqs = (...values: number[]) => values.map((seq) => ({ seq }));

describe("appendEvents", () => {
  it("applies events in order", () => {
    const result = appendEvents(0, seqs(1, 2, 3));
    expect(result.accepted.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(result).toMatchObject({ lastSeq: 3, duplicates: 0, gapAt: null });
  });

  it("drops what was already applied (a resumed stream that overlaps)", () => {
    const result = appendEvents(3, seqs(2, 3, 4, 4, 5));
    expect(result.accepted.map((e) => e.seq)).toEqual([4, 5]);
    expect(result.duplicates).toBe(3);
    expect(result.lastSeq).toBe(5);
  });

  it("reports the first gap in a dense log but keeps the events", () => {
    const result = appendEvents(1, seqs(2, 4, 7));
    expect(result.gapAt).toBe(3);
    expect(result.lastSeq).toBe(7);
    expect(result.accepted).toHaveLength(3);
  });

  it("allows gaps in a filtered stream", () => {
    expect(appendEvents(0, seqs(3, 9), false).gapAt).toBeNull();
  });
});
