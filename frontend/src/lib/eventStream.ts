// One Server-Sent Events connection that survives drops: fetch + a spec
// parser (eventsource-parser) instead of EventSource, so that every (re)connect
// sends `Last-Event-ID` itself, any event name arrives, and a 401 or 404 is
// seen as such.  The session cookie rides along (same origin).
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { UNAUTHORIZED_EVENT } from "../api/client";

export type StreamState = "connecting" | "live" | "reconnecting" | "ended" | "error";

export interface StreamHandlers {
  /**
   * Every frame, in arrival order (called synchronously while reading);
   * returns true when the stream is over after it (the terminal status event).
   */
  onFrame: (frame: EventSourceMessage) => boolean;
  onState: (state: StreamState, detail?: string) => void;
}

export interface StreamOptions {
  url: string;
  /** Resume after this id (sent as Last-Event-ID). */
  lastEventId?: string;
  /** Reconnect delays in ms; the last one repeats. */
  backoff?: readonly number[];
}

const DEFAULT_BACKOFF = [250, 1000, 2000, 5000, 10000];

/** Opens the stream; returns a function that closes it. */
export function openEventStream(options: StreamOptions, handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  let lastEventId = options.lastEventId ?? "";
  let over = false;
  // Functions, not variables, in the loop's tests: the flags change in callbacks.
  const finished = () => over;
  const aborted = () => controller.signal.aborted;
  let attempt = 0;

  const run = async (): Promise<void> => {
    while (!aborted() && !finished()) {
      handlers.onState(attempt === 0 ? "connecting" : "reconnecting");
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream" };
        if (lastEventId) headers["Last-Event-ID"] = lastEventId;
        const response = await fetch(options.url, {
          headers,
          credentials: "same-origin",
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 401) {
          window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
          handlers.onState("error", "not logged in");
          return;
        }
        if (response.status === 404 || response.status === 422) {
          handlers.onState("error", `${response.status}: ${await response.text()}`);
          return;
        }
        if (!response.ok || response.body === null) {
          throw new Error(`${response.status} ${response.statusText}`);
        }
        handlers.onState("live");
        attempt = 0;
        const parser = createParser({
          onEvent(frame) {
            if (frame.id !== undefined) lastEventId = frame.id;
            if (handlers.onFrame(frame)) over = true;
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
          if (finished()) {
            await reader.cancel();
            break;
          }
        }
        if (finished()) {
          handlers.onState("ended");
          return;
        }
        // The server closed a stream that had not ended (restart, proxy): resume.
      } catch (error) {
        if (aborted()) return;
        handlers.onState("reconnecting", String(error));
      }
      const delay = backoff[Math.min(attempt, backoff.length - 1)] ?? 1000;
      attempt += 1;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  void run();
  return () => {
    controller.abort();
  };
}
