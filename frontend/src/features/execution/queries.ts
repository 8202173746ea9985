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
