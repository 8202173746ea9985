// How the executions list stays live: the server's feed of execution changes
// (GET /api/v1/streams/executions) says when something changed; the first
// page is then read again, at most twice a second however many runs move.
// The feed is a notification, not a log: on every (re)connect, and when the
// server says the client fell behind (`resync`), the page is read again too.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { openEventStream, type StreamState } from "../../lib/eventStream";

export interface LiveList {
  label: string;
}

const COALESCE_MS = 500;

export function useLiveExecutions(firstPage: boolean): LiveList {
  const client = useQueryClient();
  const [state, setState] = useState<StreamState>("connecting");
  useEffect(() => {
    if (!firstPage) return undefined;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      timer ??= setTimeout(() => {
        timer = null;
        void client.invalidateQueries({ queryKey: ["executions"] });
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
  }, [client, firstPage]);
  if (!firstPage) return { label: "paused (older page)" };
  return { label: state === "live" ? "live" : state === "error" ? "not live (reload to retry)" : "connecting…" };
}
