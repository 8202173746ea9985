import { describe, expect, it } from "vitest";
import { draftToRequest, interval, newDraft, triggerText } from "./trigger";

describe("schedule triggers in words", () => {
  it("names intervals by their two largest units", () => {
    expect(interval(90)).toBe("every 1 min 30 s");
    expect(interval(3600)).toBe("every 1 h");
    expect(interval(86400 + 6 * 3600 + 5)).toBe("every 1 d 6 h");
    expect(interval(7)).toBe("every 7 s");
  });

  it("shows cron with its zone and intervals in words", () => {
    expect(triggerText({ cron: "0 2 * * *", timezone: "Europe/Amsterdam" })).toBe("cron 0 2 * * * (Europe/Amsterdam)");
    expect(triggerText({ cron: "*/5 * * * *", timezone: "UTC" })).toBe("cron */5 * * * * (UTC)");
    expect(triggerText({ interval_seconds: 300 })).toBe("every 5 min");
  });
});

describe("the create form's request", () => {
  it("builds a cron schedule's body with the server's defaults", () => {
    const result = draftToRequest({ ...newDraft("facts", null), name: "nightly", cron: " 0  2 * * * ", timezone: "Europe/Amsterdam" });
    expect(result).toEqual({
      ok: true,
      body: {
        name: "nightly",
        config_name: "facts",
        config_version: null,
        cron: "0 2 * * *",
        timezone: "Europe/Amsterdam",
        catchup: "skip",
        catchup_limit: 100,
        misfire_grace_seconds: 60,
        max_active_runs: null,
        paused: false,
        description: null,
      },
    });
  });

  it("builds an interval schedule pinned to a version", () => {
    const result = draftToRequest({ ...newDraft("facts", 3), name: "poll", kind: "interval", intervalSeconds: "30", maxActiveRuns: "1" });
    expect(result.ok && result.body).toMatchObject({ interval_seconds: 30, config_version: 3, max_active_runs: 1 });
    expect(result.ok && "cron" in result.body).toBe(false);
  });

  it("names each field that is wrong", () => {
    const result = draftToRequest({
      ...newDraft("facts", null),
      name: "-bad name",
      cron: "0 2 * *",
      maxActiveRuns: "0",
      catchupLimit: "x",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(["catchupLimit", "cron", "maxActiveRuns", "name"]);
    expect(result.errors.cron).toContain("got 4");
    const interval = draftToRequest({ ...newDraft("facts", null), name: "ok", kind: "interval", intervalSeconds: "1.5" });
    expect(!interval.ok && interval.errors.intervalSeconds).toBeTruthy();
  });
});
