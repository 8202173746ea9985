// The run dialog's form, generated from the config's declared params:
//   params: {source_dir: {type: path, default: ".", description: "…"}}
// Types: string, path, integer, number, boolean, list, object.

export type ParamType = "string" | "path" | "integer" | "number" | "boolean" | "list" | "object";

export interface ParamField {
  name: string;
  type: ParamType;
  required: boolean;
  description: string | null;
  /** The initial text of the input (the default, as the user would type it). */
  initial: string;
  defaultValue: unknown;
}

const TYPES: readonly ParamType[] = ["string", "path", "integer", "number", "boolean", "list", "object"];

export function paramFields(params: unknown): ParamField[] {
  if (typeof params !== "object" || params === null) return [];
  return Object.entries(params as Record<string, Record<string, unknown>>).map(([name, spec]) => {
    const declared = typeof spec["type"] === "string" ? spec["type"] : "string";
    const type = (TYPES as readonly string[]).includes(declared) ? (declared as ParamType) : "string";
    const hasDefault = spec["default"] !== undefined && spec["default"] !== null;
    const defaultValue = hasDefault ? spec["default"] : undefined;
    return {
      name,
      type,
      required: !hasDefault,
      description: typeof spec["description"] === "string" ? spec["description"] : null,
      initial: hasDefault ? toText(type, defaultValue) : type === "boolean" ? "false" : "",
      defaultValue,
    };
  });
}

function toText(type: ParamType, value: unknown): string {
  if (type === "list" || type === "object") return JSON.stringify(value);
  return String(value);
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/** The typed value of one input, or why it is not one. */
export function parseParam(field: ParamField, text: string): Parsed {
  const raw = text.trim();
  if (raw === "" && field.type !== "string") {
    return field.required ? { ok: false, error: "required" } : { ok: true, value: undefined };
  }
  switch (field.type) {
    case "integer":
      return /^[-+]?\d+$/.test(raw) ? { ok: true, value: Number(raw) } : { ok: false, error: "a whole number" };
    case "number":
      return raw !== "" && Number.isFinite(Number(raw)) ? { ok: true, value: Number(raw) } : { ok: false, error: "a number" };
    case "boolean":
      return raw === "true" || raw === "false" ? { ok: true, value: raw === "true" } : { ok: false, error: "true or false" };
    case "list":
    case "object": {
      try {
        const value: unknown = JSON.parse(raw);
        const isList = Array.isArray(value);
        const isObject = typeof value === "object" && value !== null && !isList;
        if (field.type === "list" ? isList : isObject) return { ok: true, value };
        return { ok: false, error: field.type === "list" ? 'a JSON list, e.g. ["a", "b"]' : 'a JSON object, e.g. {"k": 1}' };
      } catch {
        return { ok: false, error: "valid JSON" };
      }
    }
    default:
      if (text === "" && field.required) return { ok: false, error: "required" };
      return { ok: true, value: text };
  }
}

/** Every field's value (only those that differ from the default are sent) or the errors by name. */
export function collectParams(
  fields: readonly ParamField[],
  texts: Record<string, string>,
): { params: Record<string, unknown>; errors: Record<string, string> } {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const parsed = parseParam(field, texts[field.name] ?? field.initial);
    if (!parsed.ok) errors[field.name] = parsed.error;
    else if (parsed.value !== undefined && JSON.stringify(parsed.value) !== JSON.stringify(field.defaultValue)) {
      params[field.name] = parsed.value;
    }
  }
  return { params, errors };
}

/** `key=value` lines (or comma-separated) as labels; bad lines are reported. */
export function parseLabels(text: string): { labels: Record<string, string>; error: string | null } {
  const labels: Record<string, string> = {};
  for (const part of text.split(/[\n,]/)) {
    const item = part.trim();
    if (!item) continue;
    const at = item.indexOf("=");
    if (at <= 0) return { labels, error: `"${item}" is not key=value` };
    labels[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return { labels, error: null };
}
