// A React hook over openEventStream: frames are parsed and de-duplicated as
// they arrive, folded into derived state, and handed to React in coalesced
// batches (at most one render per `flushMs`), so a fast run never builds a
// backlog of renders however many events it sends.
import { useEffect, useEffectEvent, useState } from "react";
import { appendEvents, type Sequenced } from "./eventLog";
import { openEventStream, type StreamState } from "./eventStream";

export interface EventStreamView<T, S> {
  /** Every event applied so far, in seq order (one array, appended in place). */
  events: readonly T[];
  /** What `fold` made of the events so far. */
  derived: S;
  lastSeq: number;
  state: StreamState;
  detail: string | undefined;
  /** Increments with every flush, for consumers that memoise on it. */
  version: number;
  /** The first seq found missing, if the server ever skipped one (it must not). */
  gapAt: number | null;
}

export interface UseEventStreamOptions<T, S> {
  parse: (data: string) => T;
  /** Whether the stream is over after this event. */
  isLast?: (event: T) => boolean;
  initial: S;
  fold?: (state: S, batch: readonly T[]) => S;
  /** Side effects of each coalesced batch (invalidating queries). */
  onBatch?: (batch: readonly T[]) => void;
  /** False for filtered streams whose seqs may skip. */
  dense?: boolean;
  flushMs?: number;
}

export function useEventStream<T extends Sequenced, S>(
  url: string | null,
  options: UseEventStreamOptions<T, S>,
): EventStreamView<T, S> {
  const { initial, dense = true, flushMs = 100 } = options;
  const [current, setCurrent] = useState<{ url: string | null; view: EventStreamView<T, S> }>(() => ({
    url,
    view: emptyView(initial),
  }));
  const parse = useEffectEvent((data: string) => options.parse(data));
  const isLast = useEffectEvent((event: T) => options.isLast?.(event) ?? false);
  const fold = useEffectEvent((state: S, batch: readonly T[]) => (options.fold ? options.fold(state, batch) : state));
  const onBatch = useEffectEvent((batch: readonly T[]) => options.onBatch?.(batch));
  const start = useEffectEvent(() => initial);

  useEffect(() => {
    if (url === null) return undefined;
    const events: T[] = [];
    let derived = start();
    let lastSeq = 0;
    let pending: T[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    let state: StreamState = "connecting";
    let detail: string | undefined;
    let version = 0;
    let gapAt: number | null = null;

    const flush = () => {
      timer = null;
      const result = appendEvents(lastSeq, pending, dense);
      pending = [];
      lastSeq = result.lastSeq;
      gapAt ??= result.gapAt;
      if (result.accepted.length > 0) {
        for (const event of result.accepted) events.push(event);
        derived = fold(derived, result.accepted);
        onBatch(result.accepted);
      }
      version += 1;
      setCurrent({ url, view: { events, derived, lastSeq, state, detail, version, gapAt } });
    };
    const schedule = () => {
      timer ??= setTimeout(flush, flushMs);
    };

    const close = openEventStream(
      { url },
      {
        onFrame(frame) {
          if (!frame.data) return false;
          const event = parse(frame.data);
          pending.push(event);
          schedule();
          return isLast(event);
        },
        onState(next, why) {
          state = next;
          detail = why;
          if (pending.length === 0) {
            // Nothing queued: show the new state at once.
            if (timer !== null) clearTimeout(timer);
            flush();
          } else {
            schedule();
          }
        },
      },
    );
    return () => {
      close();
      if (timer !== null) clearTimeout(timer);
    };
  }, [url, dense, flushMs]);

  return current.url === url ? current.view : emptyView(initial);
}

function emptyView<T, S>(initial: S): EventStreamView<T, S> {
  return { events: [], derived: initial, lastSeq: 0, state: "connecting", detail: undefined, version: 0, gapAt: null };
}
