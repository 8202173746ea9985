// A schedule's trigger in words, and the create form's draft → request body
// (checked here for what the form can know; the server checks the rest —
// the cron expression, the zone, the params — and names the field).
import type { Catchup, ScheduleCreate } from "../../api/types";

/** "every 90 s", "every 2 h", "every 1 d 6 h"; from the largest unit down, at most two units. */
export function interval(seconds: number): string {
  const units: [string, number][] = [
    ["d", 86400],
    ["h", 3600],
    ["min", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [name, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.length ? `every ${parts.join(" ")}` : `every ${seconds} s`;
}

/** The trigger as shown in lists: `cron 0 2 * * * (Europe/Amsterdam)` or `every 1 h`. */
export function triggerText(schedule: {
  cron?: string | null;
  interval_seconds?: number | null;
  timezone?: string;
}): string {
  if (schedule.cron) return `cron ${schedule.cron}${schedule.timezone && schedule.timezone !== "UTC" ? ` (${schedule.timezone})` : " (UTC)"}`;
  if (schedule.interval_seconds) return interval(schedule.interval_seconds);
  return "–";
}

export interface ScheduleDraft {
  name: string;
  configName: string;
  /** null = the latest version at each fire time. */
  configVersion: number | null;
  kind: "cron" | "interval";
  cron: string;
  timezone: string;
  /** As typed. */
  intervalSeconds: string;
  catchup: Catchup;
  /** As typed. */
  catchupLimit: string;
  /** As typed. */
  misfireGraceSeconds: string;
  /** As typed; empty = no limit. */
  maxActiveRuns: string;
  paused: boolean;
  description: string;
}

/** A new draft (the server's defaults). */
export function newDraft(configName: string, configVersion: number | null): ScheduleDraft {
  return {
    name: "",
    configName,
    configVersion,
    kind: "cron",
    cron: "",
    timezone: "UTC",
    intervalSeconds: "3600",
    catchup: "skip",
    catchupLimit: "100",
    misfireGraceSeconds: "60",
    maxActiveRuns: "",
    paused: false,
    description: "",
  };
}

export type DraftResult =
  | { ok: true; body: Omit<ScheduleCreate, "params" | "labels"> }
  | { ok: false; errors: Partial<Record<keyof ScheduleDraft, string>> };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

function positiveInteger(text: string): number | null {
  const value = Number(text.trim());
  return text.trim() !== "" && Number.isInteger(value) && value >= 1 ? value : null;
}

/** The request body of a draft, or what is wrong with which field. */
export function draftToRequest(draft: ScheduleDraft): DraftResult {
  const errors: Partial<Record<keyof ScheduleDraft, string>> = {};
  if (!NAME.test(draft.name)) {
    errors.name = "a name of letters, digits, '_', '.' or '-' (starting with a letter or digit)";
  }
  if (!draft.configName) errors.configName = "the config to run";
  let trigger: { cron: string } | { interval_seconds: number };
  if (draft.kind === "cron") {
    const fields = draft.cron.trim().split(/\s+/).filter(Boolean);
    if (fields.length !== 5 && fields.length !== 6) {
      errors.cron = `5 fields (minute hour day month weekday), or 6 with seconds first; got ${fields.length}`;
    }
    trigger = { cron: fields.join(" ") };
  } else {
    const seconds = positiveInteger(draft.intervalSeconds);
    if (seconds === null) errors.intervalSeconds = "a whole number of seconds, at least 1";
    trigger = { interval_seconds: seconds ?? 0 };
  }
  let maxActiveRuns: number | null = null;
  if (draft.maxActiveRuns.trim() !== "") {
    maxActiveRuns = positiveInteger(draft.maxActiveRuns);
    if (maxActiveRuns === null) errors.maxActiveRuns = "a whole number, at least 1 (or empty for no limit)";
  }
  const catchupLimit = positiveInteger(draft.catchupLimit);
  if (catchupLimit === null) errors.catchupLimit = "a whole number, at least 1";
  const grace = positiveInteger(draft.misfireGraceSeconds);
  if (grace === null) errors.misfireGraceSeconds = "a whole number of seconds, at least 1";
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    body: {
      name: draft.name,
      config_name: draft.configName,
      config_version: draft.configVersion,
      ...trigger,
      // The zone only changes cron times; an interval counts seconds.
      timezone: draft.timezone.trim() || "UTC",
      catchup: draft.catchup,
      catchup_limit: catchupLimit ?? 100,
      misfire_grace_seconds: grace ?? 60,
      max_active_runs: maxActiveRuns,
      paused: draft.paused,
      description: draft.description.trim() || null,
    },
  };
}
