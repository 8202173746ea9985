// The execution page's one event subscription, and what the page derives
// from it: the latest per-route counts (progress events) and which queries
// the events make stale.
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useRef } from "react";
import type { Dag, ExecutionEvent, StatsCounts } from "../../api/types";
import { useEventStream, type EventStreamView } from "../../lib/useEventStream";

const TERMINAL = new Set(["completed", "failed", "cancelled", "interrupted"]);

export function isTerminalEvent(event: ExecutionEvent): boolean {
  return event.kind === "status" && TERMINAL.has(String(event.data["status"]));
}

export interface LiveCounts {
  routes: Record<string, StatsCounts>;
  totals: StatsCounts | null;
  seq: number;
}

/** The counts carried by the newest progress / route.drained event of a batch. */
export function foldCounts(current: LiveCounts, batch: readonly ExecutionEvent[]): LiveCounts {
  let next = current;
  for (const event of batch) {
    if (event.kind === "progress") {
      const routes = event.data["routes"] as Record<string, StatsCounts> | undefined;
      const totals = event.data["totals"] as StatsCounts | undefined;
      next = { routes: { ...next.routes, ...routes }, totals: totals ?? next.totals, seq: event.seq };
    } else if (event.kind === "route.drained") {
      const route = String(event.data["route"]);
      const counts = event.data["counts"] as StatsCounts | undefined;
      if (counts) next = { ...next, routes: { ...next.routes, [route]: counts }, seq: event.seq };
    }
  }
  return next;
}

export interface ExecutionLive {
  stream: EventStreamView<ExecutionEvent, LiveCounts>;
  counts: LiveCounts;
}

export const ExecutionLiveContext = createContext<ExecutionLive | null>(null);

export function useExecutionLive(): ExecutionLive {
  const live = useContext(ExecutionLiveContext);
  if (!live) throw new Error("useExecutionLive outside an execution page");
  return live;
}

/** At most one refetch per list per this long while events arrive… */
const REFRESH_MS: Record<string, number> = { dag: 4000, storage: 1500, lineage: 1500 };
/**
 * …and at least this many times as long as its last refetch took, so a slow
 * query (the DAG's edge counts join the run's lineage: seconds at 200,000
 * records) takes at most a tenth of the server's time while the run runs.
 */
const COST_FACTOR = 10;

/** Whether some route has several upstream routes (its edges' counts only the DAG query knows). */
export function needsEdgeCounts(dag: Dag | undefined): boolean {
  if (!dag) return true;
  const upstreams = new Map<string, number>();
  for (const edge of dag.edges) upstreams.set(edge.target, (upstreams.get(edge.target) ?? 0) + 1);
  return [...upstreams.values()].some((n) => n > 1);
}
const NO_COUNTS: LiveCounts = { routes: {}, totals: null, seq: 0 };

/**
 * Follows `/executions/{id}/events` from the start of the log (a reload
 * replays the backlog, then continues live: no gap, no duplicate) and keeps
 * the page's queries fresh: the row on status changes, the DAG (its edge
 * counts join lineage) at most every 4 s and only when some route has
 * several inputs, the lists every 1.5 s while events arrive — each at most
 * once per ten times its own last duration — and all of them once more at
 * the end.
 */
export function useExecutionEvents(executionId: string): ExecutionLive {
  const client = useQueryClient();
  const lastRefresh = useRef(new Map<string, number>());
  const lastCost = useRef(new Map<string, number>());

  const refresh = (key: string, force: boolean) => {
    const now = performance.now();
    const last = lastRefresh.current.get(key) ?? 0;
    const gap = Math.max(REFRESH_MS[key] ?? 1500, COST_FACTOR * (lastCost.current.get(key) ?? 0));
    if (!force && now - last < gap) return;
    lastRefresh.current.set(key, now);
    void client.invalidateQueries({ queryKey: ["execution", executionId, key] }).then(() => {
      lastCost.current.set(key, performance.now() - now);
    });
  };

  const stream = useEventStream<ExecutionEvent, LiveCounts>(
    `/api/v1/executions/${encodeURIComponent(executionId)}/events`,
    {
      parse: (data) => JSON.parse(data) as ExecutionEvent,
      isLast: isTerminalEvent,
      initial: NO_COUNTS,
      fold: foldCounts,
      onBatch(batch) {
        const terminal = batch.some(isTerminalEvent);
        if (batch.some((e) => e.kind === "status")) {
          void client.invalidateQueries({ queryKey: ["execution", executionId, "row"] });
        }
        // Node counts come from progress events, and so do the counts of edges
        // into single-input routes: the DAG is read again during the run only
        // when some route has several inputs (and once more at the end).
        if (terminal || needsEdgeCounts(client.getQueryData<Dag>(["execution", executionId, "dag"]))) {
          refresh("dag", terminal);
        }
        if (terminal || batch.some((e) => e.kind === "storage.written")) refresh("storage", terminal);
        if (terminal || batch.some((e) => e.kind === "message.failed")) refresh("lineage", terminal);
      },
    },
  );
  return { stream, counts: stream.derived };
}
