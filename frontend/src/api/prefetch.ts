// The landing page's first request, started by index.html's inline script
// while the app's JavaScript downloads and parses (on a busy machine that is
// most of the time before the executions list can render). The app's client
// takes the prefetched answer for the first request to the same URL (same
// path, same query parameters in any order); anything else fetches as usual.
// It is dropped at the first navigation, so it never answers a later visit.

interface Prefetched {
  url: string;
  response: Promise<Response>;
}

declare global {
  interface Window {
    __factflowPrefetch?: Prefetched | undefined;
  }
}

/** The path and the sorted, decoded query parameters of a URL. */
export function requestKey(url: string): string {
  const parsed = new URL(url, "http://factflow.invalid");
  const params = [...parsed.searchParams.entries()].sort(([a, x], [b, y]) =>
    a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1,
  );
  return `${parsed.pathname}?${new URLSearchParams(params).toString()}`;
}

/** The prefetched answer for `request`, once; undefined when there is none for it. */
export function takePrefetched(request: Request): Promise<Response> | undefined {
  const prefetched = typeof window === "undefined" ? undefined : window.__factflowPrefetch;
  if (!prefetched || request.method !== "GET") return undefined;
  if (requestKey(prefetched.url) !== requestKey(request.url)) return undefined;
  window.__factflowPrefetch = undefined;
  return prefetched.response;
}

/** Forget an unused prefetch (called on the first navigation). */
export function dropPrefetched(): void {
  if (typeof window !== "undefined") window.__factflowPrefetch = undefined;
}
