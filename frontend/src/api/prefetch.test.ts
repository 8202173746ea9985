// @vitest-environment happy-dom
import createClient from "openapi-fetch";
import { afterEach, describe, expect, it } from "vitest";
import html from "../../index.html?raw";
import { listQuery, parseFilters } from "../features/executions/filters";
import { requestKey, takePrefetched } from "./prefetch";
import type { paths } from "./schema";

const script = /<script id="prefetch">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";

/** The URL index.html's inline script prefetches at `address`, or null. */
function prefetchedUrl(address: string): string | null {
  const at = new URL(address, "http://127.0.0.1:8000");
  const fake: { __factflowPrefetch?: { url: string } } = {};
  // Runs the page's own inline script (text from index.html) against a fake location.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const run = new Function("location", "window", "fetch", script) as (
    location: URL,
    window: object,
    fetch: () => Promise<never>,
  ) => void;
  run(at, fake, () => new Promise<never>(() => undefined));
  return fake.__factflowPrefetch?.url ?? null;
}

/** The URL the executions page asks for at `address` (its own query, the default serializer). */
async function appUrl(address: string): Promise<string> {
  const search = new URL(address, "http://127.0.0.1:8000").searchParams;
  let seen = "";
  const client = createClient<paths>({
    baseUrl: "http://127.0.0.1:8000",
    fetch: (request) => {
      seen = request.url;
      return Promise.resolve(new Response("{}", { headers: { "Content-Type": "application/json" } }));
    },
  });
  await client.GET("/api/v1/executions", {
    params: { query: listQuery(parseFilters(search), search.get("cursor") ?? undefined) },
  });
  return seen;
}

describe("the executions list's prefetch", () => {
  afterEach(() => {
    window.__factflowPrefetch = undefined;
  });

  it("asks for exactly what the page asks for", async () => {
    expect(script).toContain("__factflowPrefetch");
    for (const address of [
      "/",
      "/executions",
      "/executions/",
      "/executions?status=completed&config=cfg-07",
      "/executions?status=running&status=failed&source=cli&schedule=01a2335c-0000",
      "/executions?since=2026-03-01T12:30&until=2026-03-02T00:00&cursor=abc%3D%3D",
      "/executions?status=bogus&source=nowhere&config=a%20b%2Bc",
      "/executions?label=team:data&label=url:http://x&label=:nokey&label=nocolon",
    ]) {
      const prefetched = prefetchedUrl(address);
      expect(prefetched, address).not.toBeNull();
      expect(requestKey(prefetched ?? ""), address).toBe(requestKey(await appUrl(address)));
    }
  });

  it("prefetches nothing on other pages", () => {
    expect(prefetchedUrl("/configs")).toBeNull();
    expect(prefetchedUrl("/executions/01a2335c-0000-7000-8000-000000000000")).toBeNull();
  });

  it("hands the answer to the first matching GET only", () => {
    const answer = Promise.resolve(new Response("[]"));
    window.__factflowPrefetch = { url: "/api/v1/executions?limit=50&status=failed", response: answer };
    expect(takePrefetched(new Request("http://h/api/v1/auth/session"))).toBeUndefined();
    expect(takePrefetched(new Request("http://h/api/v1/executions?status=failed&limit=50", { method: "POST" }))).toBeUndefined();
    expect(takePrefetched(new Request("http://h/api/v1/executions?status=failed&limit=50"))).toBe(answer);
    expect(takePrefetched(new Request("http://h/api/v1/executions?status=failed&limit=50"))).toBeUndefined();
  });
});
