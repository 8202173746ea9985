import { describe, expect, it } from "vitest";
import { ago, bytes, count, duration, elapsed, fromNow, queuedText, queuePlace, shortId, statusText } from "./format";

describe("format", () => {
  it("formats sizes", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(1023)).toBe("1023 B");
    expect(bytes(1536)).toBe("1.5 KB");
    expect(bytes(20 * 1024 * 1024)).toBe("20 MB");
  });

  it("formats durations across units", () => {
    expect(duration(null)).toBe("–");
    expect(duration(0.0123)).toBe("12 ms");
    expect(duration(12.44)).toBe("12.4 s");
    expect(duration(185)).toBe("3 min 05 s");
    expect(duration(2 * 3600 + 4 * 60 + 10)).toBe("2 h 04 min");
  });

  it("measures elapsed time, open-ended while running", () => {
    const start = "2026-01-01T00:00:00Z";
    expect(elapsed(start, "2026-01-01T00:00:02.5Z")).toBe(2.5);
    expect(elapsed(start, null, Date.parse("2026-01-01T00:01:00Z"))).toBe(60);
    expect(elapsed(null)).toBeNull();
  });

  it("says how long ago", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(ago("2026-01-01T11:59:58Z", now)).toBe("just now");
    expect(ago("2026-01-01T11:59:00Z", now)).toBe("1 min ago");
    expect(ago("2026-01-01T11:00:00Z", now)).toBe("1 h ago");
  });

  it("says how soon a coming time is", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(fromNow("2026-01-01T12:00:30Z", now)).toBe("in 30 s");
    expect(fromNow("2026-01-01T12:05:00Z", now)).toBe("in 5 min");
    expect(fromNow("2026-01-01T14:00:00Z", now)).toBe("in 2 h");
    expect(fromNow("2026-01-01T11:59:00Z", now)).toBe("1 min ago");
    expect(fromNow(null, now)).toBe("–");
  });

  it("counts and shortens ids", () => {
    expect(count(1234567)).toBe("1,234,567");
    expect(count(undefined)).toBe("–");
    expect(shortId("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")).toBe("0190a1b2…4a5b");
    expect(shortId("abc")).toBe("abc");
  });

  it("shows a queued run's place, and nothing for runs not in the queue", () => {
    expect(queuePlace(3)).toBe("#3 in queue");
    expect(queuePlace(1200)).toBe("#1,200 in queue");
    expect(queuePlace(null)).toBeNull();
    expect(queuePlace(undefined)).toBeNull();
    expect(statusText("pending", 3)).toBe("pending · #3 in queue");
    expect(statusText("pending", null)).toBe("pending");
    // A position left on a run that already started is not shown.
    expect(statusText("running", 2)).toBe("running");
    expect(queuedText(1)).toBe("Queued, position 1: every slot is busy; it starts as one frees.");
    expect(queuedText(null)).toBe("Queued: every slot is busy; it starts as one frees.");
  });
});
