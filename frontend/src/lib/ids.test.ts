import { describe, expect, it } from "vitest";
import { shortIds, SHORT_ID } from "./ids";

describe("shortIds", () => {
  it("keeps the millisecond prefix when that is enough", () => {
    const ids = ["01a23282-1f00-7aaa-8000-000000000001", "01a23282-2b11-7bbb-8000-000000000002"];
    const short = shortIds(ids);
    expect(short.get(ids[0]!)).toBe("01a23282-1f00");
    expect(short.get(ids[1]!)).toBe("01a23282-2b11");
    expect(SHORT_ID).toBe(13);
  });

  it("lengthens ids created in the same millisecond until they differ, never ending on '-'", () => {
    const ids = [
      "01a23282-1f00-7aaa-8000-000000000001",
      "01a23282-1f00-7aab-8000-000000000002",
      "01a23282-1f00-7abc-8000-000000000003",
      "01a23282-1f00-7abc-9000-000000000004",
    ];
    const short = shortIds(ids);
    expect(short.get(ids[0]!)).toBe("01a23282-1f00-7aaa");
    expect(short.get(ids[1]!)).toBe("01a23282-1f00-7aab");
    expect(short.get(ids[2]!)).toBe("01a23282-1f00-7abc-8");
    expect(short.get(ids[3]!)).toBe("01a23282-1f00-7abc-9");
  });

  it("gives every id of a page a distinct prefix of itself", () => {
    const base = "01a23282-1f00-7";
    const ids = Array.from({ length: 200 }, (_, i) => `${base}${(i * 7919).toString(16).padStart(3, "0")}-8000-000000000000`);
    const short = shortIds(ids);
    const shown = ids.map((id) => short.get(id)!);
    expect(new Set(shown).size).toBe(ids.length);
    ids.forEach((id, i) => expect(id.startsWith(shown[i]!)).toBe(true));
  });

  it("returns short ids whole and handles one id", () => {
    expect(shortIds(["abc"]).get("abc")).toBe("abc");
    expect(shortIds(["01a23282-1f00-7aaa-8000-000000000001"]).get("01a23282-1f00-7aaa-8000-000000000001")).toBe(
      "01a23282-1f00",
    );
  });
});
