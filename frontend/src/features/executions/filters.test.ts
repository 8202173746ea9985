import { describe, expect, it } from "vitest";
import { activeFilterCount, filtersToSearch, localToIso, NO_FILTERS, parseFilters, parseLabelFilters } from "./filters";

describe("execution filters in the URL", () => {
  it("round-trips through the search string", () => {
    const search = new URLSearchParams(
      "status=running&status=failed&config=facts&source=cli&since=2026-01-01T10:00&label=team:data&schedule=01a2335c",
    );
    const filters = parseFilters(search);
    expect(filters).toEqual({
      status: ["running", "failed"],
      config: "facts",
      source: "cli",
      since: "2026-01-01T10:00",
      until: "",
      label: ["team:data"],
      schedule: "01a2335c",
    });
    expect(parseFilters(filtersToSearch(filters))).toEqual(filters);
    expect(activeFilterCount(filters)).toBe(7);
  });

  it("reads label filters as typed, naming the first that is not key:value", () => {
    expect(parseLabelFilters("team:data, env:prod,url:http://x, note:two words")).toEqual({
      label: ["team:data", "env:prod", "url:http://x", "note:two words"],
      error: null,
    });
    expect(parseLabelFilters("team:data, oops")).toEqual({ label: ["team:data"], error: '"oops" is not key:value' });
    expect(parseLabelFilters(":x").error).toBe('":x" is not key:value');
    expect(parseFilters(new URLSearchParams("label=:x&label=a:")).label).toEqual(["a:"]);
  });

  it("ignores values the API would refuse", () => {
    const filters = parseFilters(new URLSearchParams("status=bogus&source=nowhere&label=nocolon"));
    expect(filters).toEqual(NO_FILTERS);
    expect(filtersToSearch(filters).toString()).toBe("");
  });

  it("turns local times into UTC instants", () => {
    expect(localToIso("")).toBeUndefined();
    expect(localToIso("not a date")).toBeUndefined();
    const iso = localToIso("2026-03-01T12:30");
    expect(iso).toBe(new Date("2026-03-01T12:30").toISOString());
  });
});
