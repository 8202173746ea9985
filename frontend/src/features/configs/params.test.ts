import { describe, expect, it } from "vitest";
import { collectParams, paramFields, parseLabels, parseParam } from "./params";

const declared = {
  source_dir: { type: "path", default: ".", description: "Directory to read" },
  pattern: { type: "list", default: ["**/*.md"] },
  max_files: { type: "integer", default: 500 },
  fail_rate: { type: "number", default: 0.3 },
  verbose: { type: "boolean", default: false },
  needed: { type: "string" },
};

describe("run form from declared params", () => {
  const fields = paramFields(declared);

  it("builds one field per param with its default as text", () => {
    expect(fields.map((f) => [f.name, f.type, f.required, f.initial])).toEqual([
      ["source_dir", "path", false, "."],
      ["pattern", "list", false, '["**/*.md"]'],
      ["max_files", "integer", false, "500"],
      ["fail_rate", "number", false, "0.3"],
      ["verbose", "boolean", false, "false"],
      ["needed", "string", true, ""],
    ]);
    expect(fields[0]?.description).toBe("Directory to read");
  });

  it("parses typed values and says what is expected", () => {
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(parseParam(byName["max_files"]!, "12")).toEqual({ ok: true, value: 12 });
    expect(parseParam(byName["max_files"]!, "1.5")).toEqual({ ok: false, error: "a whole number" });
    expect(parseParam(byName["fail_rate"]!, "abc")).toEqual({ ok: false, error: "a number" });
    expect(parseParam(byName["pattern"]!, '{"a":1}').ok).toBe(false);
    expect(parseParam(byName["pattern"]!, '["x"]')).toEqual({ ok: true, value: ["x"] });
    expect(parseParam(byName["verbose"]!, "true")).toEqual({ ok: true, value: true });
    expect(parseParam(byName["needed"]!, "")).toEqual({ ok: false, error: "required" });
  });

  it("sends only the values that differ from the defaults", () => {
    const { params, errors } = collectParams(fields, { max_files: "10", needed: "x", fail_rate: "0.3" });
    expect(errors).toEqual({});
    expect(params).toEqual({ max_files: 10, needed: "x" });
    expect(collectParams(fields, {}).errors).toEqual({ needed: "required" });
  });

  it("reads labels", () => {
    expect(parseLabels("team=data, env = prod\n")).toEqual({ labels: { team: "data", env: "prod" }, error: null });
    expect(parseLabels("oops").error).toContain("key=value");
  });
});
