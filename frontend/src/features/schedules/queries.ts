// Server state of the schedules pages. Everything under the ["schedules"] key
// is read again when the server's change feed moves (a fire creates a run).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { Schedule } from "../../api/types";

export const SCHEDULES_KEY = ["schedules"] as const;

export function useSchedules() {
  return useQuery({
    queryKey: [...SCHEDULES_KEY, "list"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/schedules", { signal })),
  });
}

export function useSchedule(ref: string) {
  return useQuery({
    queryKey: [...SCHEDULES_KEY, "one", ref],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/schedules/{schedule}", { params: { path: { schedule: ref } }, signal })),
  });
}

export function useNextFires(ref: string, count: number) {
  return useQuery({
    queryKey: [...SCHEDULES_KEY, "next", ref, count],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/schedules/{schedule}/next", {
          params: { path: { schedule: ref }, query: { count } },
          signal,
        }),
      ),
  });
}

export function useFires(ref: string, before: string | undefined, limit: number) {
  return useQuery({
    queryKey: [...SCHEDULES_KEY, "fires", ref, before ?? "", limit],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/schedules/{schedule}/fires", {
          params: { path: { schedule: ref }, query: { limit, before } },
          signal,
        }),
      ),
  });
}

/** Pause, resume or delete; the answer (the schedule) replaces what is cached. */
export function useScheduleAction(ref: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (action: "pause" | "resume" | "delete"): Promise<Schedule> => {
      const path = { schedule: ref };
      if (action === "delete") return unwrap(api.DELETE("/api/v1/schedules/{schedule}", { params: { path } }));
      if (action === "pause") return unwrap(api.POST("/api/v1/schedules/{schedule}/pause", { params: { path } }));
      return unwrap(api.POST("/api/v1/schedules/{schedule}/resume", { params: { path } }));
    },
    onSuccess: (schedule, action) => {
      if (action === "delete") {
        // The page leaves; reading the deleted schedule again would only 404.
        void client.invalidateQueries({ queryKey: [...SCHEDULES_KEY, "list"] });
        return;
      }
      client.setQueryData([...SCHEDULES_KEY, "one", ref], schedule);
      void client.invalidateQueries({ queryKey: SCHEDULES_KEY });
    },
  });
}
