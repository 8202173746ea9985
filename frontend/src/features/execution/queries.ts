import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { isTerminal } from "../../api/types";

export function useExecution(executionId: string) {
  return useQuery({
    queryKey: ["execution", executionId, "row"],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}", {
          params: { path: { execution_id: executionId } },
          signal,
        }),
      ),
    // Live counts come from the event stream; the row refetches on status events.
    refetchInterval: (query) => (query.state.data && !isTerminal(query.state.data.status) ? 5000 : false),
  });
}

export interface LineageFilter {
  route?: string;
  status?: "processed" | "failed" | "filtered" | "cancelled";
}

export async function fetchLineage(executionId: string, filter: LineageFilter, after: number | undefined, limit: number) {
  return unwrap(
    api.GET("/api/v1/executions/{execution_id}/lineage", {
      params: {
        path: { execution_id: executionId },
        query: { route: filter.route, status: filter.status, after, limit },
      },
    }),
  );
}

/** How many descendants the message panel asks for (the server bounds the walk). */
export const DESCENDANTS_LIMIT = 500;

/** A message's chain from its root (server-side: GET …/lineage/{message}/ancestry). */
export function useAncestry(executionId: string, messageId: string) {
  return useQuery({
    queryKey: ["execution", executionId, "lineage", "ancestry", messageId],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}/lineage/{message_id}/ancestry", {
          params: { path: { execution_id: executionId, message_id: messageId } },
          signal,
        }),
      ),
  });
}

/** A message's subtree, bounded (GET …/lineage/{message}/descendants). */
export function useDescendants(executionId: string, messageId: string) {
  return useQuery({
    queryKey: ["execution", executionId, "lineage", "descendants", messageId],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}/lineage/{message_id}/descendants", {
          params: { path: { execution_id: executionId, message_id: messageId }, query: { limit: DESCENDANTS_LIMIT } },
          signal,
        }),
      ),
  });
}

/** A payload the record keeps in storage (over 64 KiB), read when asked for. */
export function usePayload(executionId: string, messageId: string, enabled: boolean) {
  return useQuery({
    queryKey: ["execution", executionId, "lineage", "payload", messageId],
    enabled,
    staleTime: Infinity,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}/lineage/{message_id}/payload", {
          params: { path: { execution_id: executionId, message_id: messageId } },
          signal,
        }),
      ),
  });
}
