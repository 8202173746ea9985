import { describe, expect, it } from "vitest";
import { layoutDag, NODE_WIDTH } from "./layout";

describe("layoutDag", () => {
  it("places a chain left to right without overlap", () => {
    const nodes = [{ id: "src" }, { id: "mid" }, { id: "sink" }];
    const edges = [
      { source: "src", target: "mid" },
      { source: "mid", target: "sink" },
    ];
    const placed = Object.fromEntries(layoutDag(nodes, edges).map((p) => [p.id, p]));
    expect(placed["src"]!.x + NODE_WIDTH).toBeLessThan(placed["mid"]!.x);
    expect(placed["mid"]!.x + NODE_WIDTH).toBeLessThan(placed["sink"]!.x);
  });

  it("stacks a fan-out's branches vertically", () => {
    const placed = layoutDag(
      [{ id: "src" }, { id: "a" }, { id: "b" }],
      [
        { source: "src", target: "a" },
        { source: "src", target: "b" },
      ],
    );
    const [a, b] = [placed[1]!, placed[2]!];
    expect(a.x).toBe(b.x);
    expect(a.y).not.toBe(b.y);
  });

  it("ignores edges to routes that do not exist", () => {
    expect(layoutDag([{ id: "only" }], [{ source: "only", target: "ghost" }])).toHaveLength(1);
  });
});
