import { expect, test } from "@playwright/test";
import { slowConfig } from "./configs";
import { Api, startServer, type RunningServer } from "./server";

let server: RunningServer;
let api: Api;

test.beforeAll(async () => {
  server = await startServer();
  api = new Api(server.url);
  await api.applyConfig(slowConfig("watch", 60, 0.15, 2));
});
test.afterAll(async () => {
  await server.stop();
});

test("a run started from the UI: the list shows it without reload, DAG counts and timeline move to completion", async ({
  page,
}) => {
  await page.goto(`${server.url}/executions`);
  await expect(page.getByText("No executions yet.")).toBeVisible();

  // Start it from the Configs page's run dialog (its form comes from the params).
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Configs" }).click();
  await page.getByRole("link", { name: "watch" }).click();
  await page.getByRole("button", { name: "Run…" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByLabel(/items/)).toHaveValue("60");
  await dialog.getByLabel(/delay/).fill("0.3");
  await dialog.getByLabel(/Labels/).fill("suite=e2e");
  await dialog.getByRole("button", { name: "Start run" }).click();

  // The execution page: DAG and timeline follow the run live.
  await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
  const executionId = page.url().split("/").at(-1)!;
  const processedAtWork = page.locator('[data-route="work"] [data-count="processed"]');
  // The count moves while the run does: a value strictly between 0 and the end is seen.
  await expect(async () => {
    const shown = Number(await processedAtWork.textContent());
    expect(shown > 0 && shown < 60).toBe(true);
  }).toPass({ timeout: 20_000, intervals: [100] });
  await expect(page.locator('[data-route="work"] [data-count="in_flight"]')).not.toHaveText("0");
  await expect(page.locator(".badge[data-status]").first()).toHaveText("completed", { timeout: 30_000 });
  await expect(processedAtWork).toHaveText("60");
  await expect(page.locator('[data-route="store"] [data-count="processed"]')).toHaveText("60");
  await expect(page.locator('[data-edge="work->store"] [data-edge-messages]')).toHaveText("60");
  await expect(page.locator('[data-stream-state]')).toHaveAttribute("data-stream-state", "ended");
  const last = page.locator(".timeline-list li").last();
  await expect(last).toContainText("status → completed");
  await expect(page.locator('[data-total="processed"]')).toHaveText("180");
  await expect(page.getByText("delay=0.3")).toBeVisible();
  await expect(page.getByRole("link", { name: "suite:e2e" })).toBeVisible();

  // Back to the list: a run started elsewhere appears without a reload.
  await nav.getByRole("link", { name: "Executions" }).click();
  await expect(page.locator(`[data-execution-id="${executionId}"]`)).toBeVisible();
  const other = await api.run("watch", { params: { items: 2, delay: 0.01 } });
  await expect(page.locator(`[data-execution-id="${other.id}"]`)).toBeVisible();
  await expect(page.locator(`[data-execution-id="${other.id}"] [data-status]`)).toHaveText("completed");

  // Label filters: only the run labelled suite=e2e; its chip links to the same filter.
  await page.getByLabel("Labels").fill("suite:e2e");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/label=suite%3Ae2e/);
  await expect(page.locator(`[data-execution-id="${executionId}"]`)).toBeVisible();
  await expect(page.locator(`[data-execution-id="${other.id}"]`)).toHaveCount(0);
  await page.getByLabel("Labels").fill("oops");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText('"oops" is not key:value')).toBeVisible();
  await page.goBack();
  await expect(page.locator(`[data-execution-id="${other.id}"]`)).toBeVisible();
  await page.locator(`[data-execution-id="${executionId}"]`).getByRole("link", { name: "suite:e2e" }).click();
  await expect(page.locator(`[data-execution-id="${other.id}"]`)).toHaveCount(0);
  await page.goBack();

  // Filters live in the URL; back and forward restore them.
  await page.getByLabel("failed").check();
  await expect(page).toHaveURL(/status=failed/);
  await expect(page.getByText("No execution matches these filters.")).toBeVisible();
  await page.goBack();
  await expect(page.locator(`[data-execution-id="${other.id}"]`)).toBeVisible();
});

test("the list tells runs apart by their shortest unique id prefix and copies the whole id", async ({
  page,
  context,
}) => {
  const started = await Promise.all(Array.from({ length: 6 }, () => api.run("watch", { params: { items: 1, delay: 0.01 } })));
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto(`${server.url}/executions`);
  for (const run of started) await expect(page.locator(`[data-execution-id="${run.id}"]`)).toBeVisible();
  // The first page came from index.html's prefetch (started before the app's JavaScript ran), taken once.
  expect(
    await page.evaluate(() => {
      const holder = window as { __factflowPrefetch?: unknown };
      return "__factflowPrefetch" in holder && holder.__factflowPrefetch === undefined;
    }),
  ).toBe(true);

  const rows = page.locator("tr[data-execution-id]");
  const shown = new Map<string, string>();
  for (const row of await rows.all()) {
    const id = (await row.getAttribute("data-execution-id"))!;
    shown.set(id, (await row.locator("[data-short-id]").textContent())!);
  }
  // UUIDv7 ids of runs started together share their first 8+ characters; each row's text differs.
  expect(new Set(shown.values()).size).toBe(shown.size);
  for (const [id, text] of shown) {
    expect(id.startsWith(text)).toBe(true);
    expect(text.length).toBeGreaterThanOrEqual(13);
    // The shown prefix is one the API (and so the CLI) resolves to this run.
    const resolved = await api.json<{ id: string }>("GET", `/api/v1/executions/${text}`);
    expect(resolved.id).toBe(id);
  }

  const target = started[2]!;
  await page.locator(`[data-execution-id="${target.id}"]`).getByRole("button", { name: `Copy id ${target.id}` }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(target.id);
});
