// How the executions list stays live.  Until the server publishes a stream of
// execution changes, the first page refetches every two seconds while the tab
// is visible (TanStack Query pauses it in background tabs).
export interface LiveList {
  pollMs: number | false;
  label: string;
}

export function useLiveExecutions(firstPage: boolean): LiveList {
  return firstPage ? { pollMs: 2000, label: "live" } : { pollMs: false, label: "paused (older page)" };
}
