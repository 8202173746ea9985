// The server's feed of execution changes (GET /api/v1/streams/executions)
// as a signal to read some queries again: new runs, status changes, progress
// and schedule fires (a fire creates a run) all arrive on it. Refetches are
// coalesced (at most one per `COALESCE_MS` however many runs move). The feed
// is a notification, not a log: on every (re)connect, and when the server
// says the client fell behind (`resync`), the queries are read again too.
import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { openEventStream, type StreamState } from "./eventStream";

export const COALESCE_MS = 500;

/** While `enabled`, invalidates the queries under each of `keys` on every change. */
export function useChangeFeed(enabled: boolean, keys: readonly QueryKey[]): StreamState {
  const client = useQueryClient();
  const [state, setState] = useState<StreamState>("connecting");
  // One stable string so a new array literal each render does not reconnect.
  const signature = JSON.stringify(keys);
  useEffect(() => {
    if (!enabled) return undefined;
    const queryKeys = JSON.parse(signature) as QueryKey[];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      timer ??= setTimeout(() => {
        timer = null;
        for (const queryKey of queryKeys) void client.invalidateQueries({ queryKey });
      }, COALESCE_MS);
    };
    const close = openEventStream(
      { url: "/api/v1/streams/executions" },
      {
        onFrame: () => {
          refresh();
          return false;
        },
        onState: (next) => {
          setState(next);
          if (next === "live") refresh(); // what changed while we were away
        },
      },
    );
    return () => {
      close();
      if (timer !== null) clearTimeout(timer);
    };
  }, [client, enabled, signature]);
  return state;
}
