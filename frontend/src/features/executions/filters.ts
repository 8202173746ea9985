// The executions list's filters live in the URL (shareable, back/forward):
//   /executions?status=running&status=failed&config=facts&source=cli
//              &since=2026-01-01T00:00&until=…&label=team:data&schedule=<id>&cursor=…
import { SOURCES, STATUSES, type ExecutionSource, type ExecutionStatus } from "../../api/types";

export interface ExecutionFilters {
  status: ExecutionStatus[];
  config: string;
  source: ExecutionSource | "";
  /** `datetime-local` values (local time, no zone), as typed. */
  since: string;
  until: string;
  /** `key:value` pairs. */
  label: string[];
  /** A schedule id: the runs it fired. */
  schedule: string;
}

export const NO_FILTERS: ExecutionFilters = {
  status: [],
  config: "",
  source: "",
  since: "",
  until: "",
  label: [],
  schedule: "",
};

const isStatus = (value: string): value is ExecutionStatus =>
  (STATUSES as readonly string[]).includes(value);
const isSource = (value: string): value is ExecutionSource =>
  (SOURCES as readonly string[]).includes(value);

/** `key:value` with a key (the first colon splits; the value may be empty or hold colons). */
export const isLabelFilter = (pair: string): boolean => pair.indexOf(":") > 0;

/** "team:data, env:prod" (comma separated) as label filters, or the first part that is not one. */
export function parseLabelFilters(text: string): { label: string[]; error: string | null } {
  const parts = text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  const bad = parts.find((part) => !isLabelFilter(part));
  return bad === undefined
    ? { label: parts, error: null }
    : { label: parts.filter(isLabelFilter), error: `"${bad}" is not key:value` };
}

export function parseFilters(search: URLSearchParams): ExecutionFilters {
  const source = search.get("source") ?? "";
  return {
    status: search.getAll("status").filter(isStatus),
    config: search.get("config") ?? "",
    source: isSource(source) ? source : "",
    since: search.get("since") ?? "",
    until: search.get("until") ?? "",
    label: search.getAll("label").filter(isLabelFilter),
    schedule: search.get("schedule") ?? "",
  };
}

/** The URL search of `filters` (empty fields left out; cursor dropped). */
export function filtersToSearch(filters: ExecutionFilters): URLSearchParams {
  const search = new URLSearchParams();
  for (const status of filters.status) search.append("status", status);
  if (filters.config) search.set("config", filters.config);
  if (filters.source) search.set("source", filters.source);
  if (filters.since) search.set("since", filters.since);
  if (filters.until) search.set("until", filters.until);
  for (const label of filters.label) search.append("label", label);
  if (filters.schedule) search.set("schedule", filters.schedule);
  return search;
}

/** Rows per page (index.html's prefetch asks for the same). */
export const PAGE_SIZE = 50;

/**
 * The query of `GET /api/v1/executions` for these filters and cursor.
 * index.html's inline script builds the same URL for the first visit (a test
 * keeps the two equal); if they ever differ, the page just fetches itself.
 */
export function listQuery(filters: ExecutionFilters, cursor: string | undefined) {
  return {
    status: filters.status.length ? filters.status : undefined,
    config: filters.config || undefined,
    source: filters.source || undefined,
    since: localToIso(filters.since),
    until: localToIso(filters.until),
    schedule: filters.schedule || undefined,
    label: filters.label.length ? filters.label : undefined,
    limit: PAGE_SIZE,
    cursor,
  };
}

/** A `datetime-local` value as an ISO 8601 instant (local time → UTC). */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

export function activeFilterCount(filters: ExecutionFilters): number {
  return (
    filters.status.length +
    filters.label.length +
    [filters.config, filters.source, filters.since, filters.until, filters.schedule].filter(Boolean).length
  );
}
