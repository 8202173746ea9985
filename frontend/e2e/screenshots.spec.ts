// Screenshots of every page for docs/ui/ (run by hand: npm run screenshots).
// Not part of the test run: it only photographs what the tests check.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { Api, startServer, type RunningServer } from "./server";

const OUT = resolve(import.meta.dirname, "..", "..", "docs", "ui");
let server: RunningServer;
let api: Api;

const TEXTS = [
  "FactFlow 1.2 was released on 2026-03-01 under the Apache-2.0 licence.",
  "The pipeline processed 12,400 documents in 3.5 seconds.",
  "Contact the maintainers at team@example.org for support.",
  "Version 2.0.1 fixed 14 bugs reported since January 2026.",
  "See https://example.org/docs for the full reference.",
  "It has no number in it, so nothing is extracted here.",
  "The 3 routes ran with a concurrency of 8 on 2 cores.",
  "Python 3.11 or newer is required since 2025-10-01.",
];

function factsConfig(version: number) {
  return {
    name: "facts",
    description: "Extracts rule-based facts from text and stores each distinct fact as JSON.",
    params: {
      texts: { type: "list", default: TEXTS.map((text) => ({ text })), description: "The documents to read." },
      delay: { type: "number", default: 0.3, description: "Seconds the store step waits per fact." },
      fail_rate: {
        type: "number",
        default: version === 1 ? 0.4 : 0.3,
        description: "Share of store attempts the flaky sink fails.",
      },
    },
    settings: { max_retries: 1, retry_backoff: 0.01 },
    routes: {
      discover: { description: "One message per document.", adapter: { type: "inline", with: { items: "{texts}" } }, to: "facts" },
      facts: {
        processors: [{ type: "extract_facts", with: { field: "text" } }, { type: "dedupe", with: { key: "fact" } }],
        concurrency: 4,
        to: "store",
      },
      store: {
        processors: [
          { type: "sleep", with: { seconds: "{delay}" } },
          { type: "fail", with: { rate: "{fail_rate}", error: "flaky sink: deliberate failure" } },
          { type: "storage_write", with: { key: "facts/{{message_id}}.json" } },
        ],
        concurrency: 2,
      },
    },
  };
}

async function shoot(page: Page, name: string) {
  await page.waitForTimeout(400); // let the graph fit and fonts settle
  await page.screenshot({ path: join(OUT, `${name}.png`) });
}

test.beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await startServer();
  api = new Api(server.url);
});
test.afterAll(async () => {
  await server.stop();
});

test("screenshots of every page", async ({ page }) => {
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${server.url}/executions`);
  await expect(page.getByText("No executions yet.")).toBeVisible();
  await shoot(page, "executions-empty");

  await api.applyConfig(factsConfig(1));
  await api.applyConfig(factsConfig(2));
  // The flaky sink is random: run until a run has failures to show (and replay).
  let first = await api.run("facts", { labels: { team: "data" }, params: { fail_rate: 0.6 } });
  for (let attempt = 0; ; attempt += 1) {
    await api.wait(first.id);
    const failed = await api.json<{ items: unknown[] }>("GET", `/api/v1/executions/${first.id}/lineage?status=failed&limit=1`);
    if (failed.items.length > 0 || attempt >= 4) break;
    first = await api.run("facts", { labels: { team: "data" }, params: { fail_rate: 0.6 } });
  }
  const replay = await api.json<{ id: string }>("POST", `/api/v1/executions/${first.id}/replay`, { mode: "failed" });
  await api.wait(replay.id);
  const running = await api.run("facts", { params: { delay: 2, texts: [...TEXTS, ...TEXTS.map((t) => `${t} Again in 2027.`)].map((text) => ({ text })) } });

  await page.goto(`${server.url}/executions/${running.id}`);
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "live");
  await page.waitForTimeout(1500);
  await shoot(page, "execution-running");
  await page.goto(`${server.url}/executions`);
  await expect(page.locator("[data-execution-id]")).toHaveCount(3);
  await shoot(page, "executions");
  await api.wait(running.id);

  await page.goto(`${server.url}/executions/${first.id}`);
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "ended");
  await shoot(page, "execution");
  await page.goto(`${server.url}/executions/${first.id}/failures`);
  await expect(page.locator(".failure").first()).toBeVisible();
  await shoot(page, "execution-failures");
  await page.locator(".failure").first().getByTestId("failure-ancestry").click();
  await expect(page.getByTestId("ancestry")).toBeVisible();
  await page.getByTestId("ancestry").getByText("payload").first().click();
  await shoot(page, "execution-lineage");
  await page.goto(`${server.url}/executions/${first.id}/storage`);
  await page.locator(".storage-table tbody tr").first().getByRole("button").click();
  await expect(page.getByTestId("object-preview")).toContainText("fact");
  await shoot(page, "execution-storage");
  await page.goto(`${server.url}/executions/${first.id}/logs`);
  await expect(page.locator("[data-log-stream-state]")).toHaveAttribute("data-log-stream-state", "ended");
  await page.locator(".log-list li").filter({ hasText: "Traceback" }).first().locator("summary").click();
  await shoot(page, "execution-logs");
  await page.goto(`${server.url}/executions/${replay.id}`);
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "ended");
  await page.getByRole("button", { name: "Replay…" }).click();
  await shoot(page, "execution-replay-dialog");

  await page.goto(`${server.url}/configs`);
  await shoot(page, "configs");
  await page.goto(`${server.url}/configs/facts`);
  await shoot(page, "config");
  await page.getByRole("button", { name: "Run…" }).click();
  await shoot(page, "config-run-dialog");
  await page.goto(`${server.url}/configs/facts/diff?from=1&to=2`);
  await shoot(page, "config-diff");
  await page.goto(`${server.url}/configs/facts/edit?from=2`);
  const editor = page.getByLabel("Config YAML");
  await editor.press("End");
  await editor.pressSequentially("\n  broken: [unclosed");
  await expect(page.getByTestId("editor-issues")).toContainText("line");
  await shoot(page, "config-editor");

  // Schedules: a nightly cron one, and a fast interval one that has fired (then paused).
  await page.goto(`${server.url}/schedules`);
  await expect(page.getByText("No schedules yet.")).toBeVisible();
  await page.goto(`${server.url}/schedules/new?config=facts`);
  await page.getByLabel("Name").fill("nightly-facts");
  await page.getByLabel("Cron expression", { exact: true }).fill("0 2 * * *");
  await page.getByLabel("Time zone").fill("Europe/Amsterdam");
  await page.getByLabel(/Labels/).fill("team=data");
  await shoot(page, "schedule-new");
  await page.getByRole("button", { name: "Create schedule" }).click();
  await expect(page.getByTestId("next-fires")).toBeVisible();
  await api.json("POST", "/api/v1/schedules", {
    name: "every-5s",
    config_name: "facts",
    interval_seconds: 5,
    params: { delay: 0, fail_rate: 0 },
    max_active_runs: 1,
    description: "A fast one for the screenshots.",
  });
  await page.goto(`${server.url}/schedules/every-5s`);
  await expect(page.locator('[data-testid="fires"] tr[data-outcome]')).toHaveCount(3, { timeout: 40_000 });
  await api.json("POST", "/api/v1/schedules/every-5s/pause");
  await page.reload();
  await expect(page.locator(".page-header [data-paused]")).toHaveText("paused");
  await shoot(page, "schedule");
  await page.goto(`${server.url}/schedules`);
  await shoot(page, "schedules");

  // Dark theme.
  await page.goto(`${server.url}/executions/${first.id}`);
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "ended");
  await shoot(page, "execution-dark");
  await page.goto(`${server.url}/executions`);
  await shoot(page, "executions-dark");
  await page.getByRole("button", { name: "Switch to light theme" }).click();

  // A laptop-width window.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${server.url}/executions/${first.id}`);
  await shoot(page, "execution-1280");

  // The login page of a server with a token.
  const guarded = await startServer({ token: "screenshot-token" });
  try {
    await page.goto(`${guarded.url}/executions`);
    await expect(page.getByLabel("API token")).toBeVisible();
    await shoot(page, "login");
  } finally {
    await guarded.stop();
  }
});

test("screenshots of the run queue", async ({ page }) => {
  // Its own server with two slots, so runs wait in the queue.
  const queued = await startServer({ env: { FACTFLOW_MAX_RUNNING_EXECUTIONS: "2" } });
  const client = new Api(queued.url);
  try {
    await client.applyConfig(factsConfig(2));
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await client.run("facts", { params: { delay: 30 }, labels: { batch: String(i) } })).id);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${queued.url}/executions`);
    await expect(page.locator(`tr[data-execution-id="${ids[4]}"] td`).first()).toHaveText("pending · #3 in queue");
    await shoot(page, "executions-queued");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue" }).click();
    await expect(page.getByRole("table", { name: "Queued runs" }).locator("tbody tr")).toHaveCount(3);
    await shoot(page, "queue");
    for (const id of ids) await client.json("POST", `/api/v1/executions/${id}/cancel`, {});
  } finally {
    await queued.stop();
  }
});
