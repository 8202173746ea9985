import { describe, expect, it } from "vitest";
import { lineDiff } from "./DiffPage";

describe("lineDiff", () => {
  it("numbers both sides", () => {
    const lines = lineDiff("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(lines.map((l) => [l.kind, l.text, l.oldLine, l.newLine])).toEqual([
      ["same", "a", 1, 1],
      ["removed", "b", 2, null],
      ["added", "B", null, 2],
      ["same", "c", 3, 3],
      ["added", "d", null, 4],
    ]);
  });
});
