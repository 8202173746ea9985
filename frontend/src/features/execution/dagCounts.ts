import type { DagEdge, StatsCounts } from "../../api/types";

/**
 * Messages along an edge.  Between DAG fetches (lineage joins, refetched at
 * most every few seconds) a route with a single upstream has received exactly
 * what that edge carried, so its live `received` count is the edge's count.
 */
export function liveEdgeCount(
  edge: DagEdge,
  upstreams: ReadonlyMap<string, number>,
  liveRoutes: Record<string, StatsCounts>,
): number {
  const fetched = edge.messages;
  const target = liveRoutes[edge.target];
  if (upstreams.get(edge.target) !== 1 || !target) return fetched;
  return Math.max(fetched, target.received);
}

