// The client side of the event log's guarantee: events are applied in seq
// order exactly once.  A resumed stream (Last-Event-ID) should deliver only
// later events; anything at or below the last applied seq is a duplicate and
// dropped, and a seq that skips ahead in a dense log is reported as a gap
// (shown to the user: the server promises there is none).

export interface Sequenced {
  seq: number;
}

export interface AppendResult<T extends Sequenced> {
  /** Events newer than `lastSeq`, in order. */
  accepted: T[];
  /** The seq the log now ends at. */
  lastSeq: number;
  /** How many events were dropped as already applied. */
  duplicates: number;
  /** Set when an event skipped ahead: the first seq that was missing. */
  gapAt: number | null;
}

/**
 * Applies `batch` after `lastSeq`.  `dense` logs (an execution's full event
 * log: 1, 2, 3, …) must not skip a seq; filtered streams (storage events) may.
 */
export function appendEvents<T extends Sequenced>(
  lastSeq: number,
  batch: readonly T[],
  dense = true,
): AppendResult<T> {
  const accepted: T[] = [];
  let duplicates = 0;
  let gapAt: number | null = null;
  let last = lastSeq;
  for (const event of batch) {
    if (event.seq <= last) {
      duplicates += 1;
      continue;
    }
    if (dense && gapAt === null && event.seq !== last + 1) gapAt = last + 1;
    accepted.push(event);
    last = event.seq;
  }
  return { accepted, lastSeq: last, duplicates, gapAt };
}
