// How the executions list stays live: the server's feed of execution changes
// says when something changed, and the list's first page is read again
// (coalesced; see lib/useChangeFeed). Older pages stay still while read.
import { useChangeFeed } from "../../lib/useChangeFeed";

export interface LiveList {
  label: string;
}

const KEYS = [["executions"]] as const;

export function useLiveExecutions(firstPage: boolean): LiveList {
  const state = useChangeFeed(firstPage, KEYS);
  if (!firstPage) return { label: "paused (older page)" };
  return { label: state === "live" ? "live" : state === "error" ? "not live (reload to retry)" : "connecting…" };
}
