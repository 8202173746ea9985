import { describe, expect, it } from "vitest";
import type { LineageRecord } from "../../api/types";
import { messageTree } from "./tree";

let nextId = 1;
const rec = (message_id: string, parent: string | null, route: string, status = "processed"): LineageRecord => ({
  id: nextId++,
  execution_id: "e",
  message_id,
  parent_message_id: parent,
  origin_message_id: "root",
  route,
  status,
  attempt: 1,
  started_at: null,
  finished_at: "2026-01-01T00:00:00Z",
  duration_ms: 1,
  error: null,
  outputs: 0,
  payload: { m: message_id },
  payload_ref: null,
});

describe("messageTree", () => {
  const records = [
    rec("root", null, "src"),
    rec("a", "root", "split"),
    rec("b", "root", "split"),
    rec("a1", "a", "store", "failed"),
    rec("a2", "a", "store"),
  ];

  it("walks the ancestry from the origin down", () => {
    const tree = messageTree(records, "a1");
    expect(tree.record?.status).toBe("failed");
    expect(tree.ancestry.map((r) => r.message_id)).toEqual(["root", "a"]);
    expect(tree.descendants).toEqual([]);
  });

  it("lists descendants depth-first with their depth", () => {
    const tree = messageTree(records, "root");
    expect(tree.descendants.map((d) => [d.record.message_id, d.depth])).toEqual([
      ["a", 1],
      ["a1", 2],
      ["a2", 2],
      ["b", 1],
    ]);
  });

  it("survives unknown ids and cycles", () => {
    expect(messageTree(records, "nope").record).toBeUndefined();
    const cyclic = [rec("x", "y", "r"), rec("y", "x", "r")];
    const tree = messageTree(cyclic, "x");
    expect(tree.ancestry.map((r) => r.message_id)).toEqual(["y"]);
    expect(tree.descendants.map((d) => d.record.message_id)).toEqual([]);
  });

  it("caps the descendants", () => {
    const wide = [rec("p", null, "src"), ...Array.from({ length: 50 }, (_, i) => rec(`c${i}`, "p", "r"))];
    expect(messageTree(wide, "p", 10).descendants).toHaveLength(10);
  });
});
