// Browser side of bench/ui.py: drives Debian's Chromium through playwright-core
// against a running FactFlow server and prints one JSON object of samples.
//
//   node bench/ui-bench.mjs list '{"url": "http://127.0.0.1:8000", "rounds": 20}'
//   node bench/ui-bench.mjs follow '{"url": "…", "config": "bench-ui-follow"}'
//
// Instrumentation lives here (an init script), not in the product: a
// MutationObserver counts how often the timeline's counter re-renders and a
// PerformanceObserver sums long tasks.
import { chromium } from "@playwright/test";

const [mode, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs ?? "{}");
const executablePath = process.env.FACTFLOW_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const INSTRUMENT = () => {
  const stats = { renders: 0, longTaskMs: 0, longTasks: 0 };
  window.__bench = stats;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      stats.longTasks += 1;
      stats.longTaskMs += entry.duration;
    }
  }).observe({ type: "longtask", buffered: true });
  const watch = () => {
    const counter = document.querySelector('[data-testid="event-count"]');
    if (!counter) return void requestAnimationFrame(watch);
    new MutationObserver(() => (stats.renders += 1)).observe(counter, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  };
  document.addEventListener("DOMContentLoaded", watch);
};

async function api(path, init) {
  const response = await fetch(`${args.url}${path}`, init);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Navigation start → the first execution row on screen, per round. */
async function list(browser) {
  const samples = { cold: [], warm: [], filtered: [], next_page: [] };
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const rowsAt = (page) =>
    page.waitForFunction(() => document.querySelector("[data-execution-id]") && performance.now(), null, {
      polling: "raf",
      timeout: 30_000,
    });
  for (let round = 0; round < args.rounds; round += 1) {
    // A fresh context has an empty cache: what a first visit costs.
    const cold = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const first = await cold.newPage();
    await first.goto(`${args.url}/executions`, { waitUntil: "commit" });
    samples.cold.push(await (await rowsAt(first)).jsonValue());
    await cold.close();

    const page = await context.newPage();
    await page.goto(`${args.url}/executions`, { waitUntil: "commit" });
    samples.warm.push(await (await rowsAt(page)).jsonValue());
    await page.goto(`${args.url}/executions?status=completed&config=${args.config ?? "cfg-07"}`, {
      waitUntil: "commit",
    });
    samples.filtered.push(await (await rowsAt(page)).jsonValue());
    // Client-side paging: click "Older", wait until the first row changes.
    const before = await page.locator("[data-execution-id]").first().getAttribute("data-execution-id");
    const clicked = await page.evaluate(() => performance.now());
    await page.getByRole("button", { name: "Older →" }).click();
    const after = await page.waitForFunction(
      (id) => {
        const row = document.querySelector("[data-execution-id]");
        return row && row.getAttribute("data-execution-id") !== id && performance.now();
      },
      before,
      { polling: "raf", timeout: 30_000 },
    );
    samples.next_page.push((await after.jsonValue()) - clicked);
    await page.close();
  }
  await context.close();
  return samples;
}

/** Watch a fast run from its start; sample how far the browser is behind the server. */
async function follow(browser) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  await context.addInitScript(INSTRUMENT);
  const page = await context.newPage();
  // Load the app first (any page), so the run is watched from its first events.
  await page.goto(`${args.url}/executions`);
  const execution = await api(`/api/v1/configs/${args.config}/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const started = Date.now();
  await page.evaluate((id) => {
    history.pushState({}, "", `/executions/${id}`);
    dispatchEvent(new PopStateEvent("popstate"));
  }, execution.id);
  const backlog = [];
  let serverDoneAt = null;
  let terminal = null;
  for (;;) {
    const [row, shown] = await Promise.all([
      api(`/api/v1/executions/${execution.id}`),
      page.evaluate(() => {
        const text = document.querySelector('[data-testid="event-count"]')?.textContent ?? "";
        const seq = Number(/last seq (\d+)/.exec(text)?.[1] ?? 0);
        const status = document.querySelector(".page-header [data-status]")?.getAttribute("data-status");
        return { seq, status };
      }),
    ]);
    if (serverDoneAt === null && ["completed", "failed", "cancelled", "interrupted"].includes(row.status)) {
      serverDoneAt = Date.now();
      terminal = row;
    }
    // `done`: the server's run had ended (what follows is the page catching up).
    backlog.push({
      t: (Date.now() - started) / 1000,
      server: row.last_event_seq,
      browser: shown.seq,
      done: serverDoneAt !== null,
    });
    if (serverDoneAt !== null && shown.seq >= terminal.last_event_seq && shown.status === terminal.status) break;
    if (Date.now() - started > (args.timeout ?? 600) * 1000) throw new Error("timed out following the run");
    await new Promise((r) => setTimeout(r, 200));
  }
  const caughtUp = Date.now();
  const metrics = await page.evaluate(() => window.__bench);
  const dagProcessed = await page.locator('[data-route="sink"] [data-count="processed"]').textContent();
  await context.close();
  return {
    execution_id: execution.id,
    status: terminal.status,
    stats: terminal.stats,
    started_at: terminal.started_at,
    finished_at: terminal.finished_at,
    catch_up_ms: caughtUp - serverDoneAt,
    backlog,
    renders: metrics.renders,
    long_tasks: metrics.longTasks,
    long_task_ms: metrics.longTaskMs,
    dag_sink_processed: dagProcessed,
    watched_s: (caughtUp - started) / 1000,
  };
}

const browser = await chromium.launch({ executablePath, args: FLAGS });
try {
  const result = mode === "list" ? await list(browser) : mode === "follow" ? await follow(browser) : null;
  if (result === null) throw new Error(`unknown mode ${mode}: list or follow`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await browser.close();
}
