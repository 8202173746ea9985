import { expect, test } from "@playwright/test";
import { slowConfig } from "./configs";
import { Api, startServer, type RunningServer } from "./server";

let server: RunningServer;
let api: Api;

test.beforeAll(async () => {
  server = await startServer();
  api = new Api(server.url);
  await api.applyConfig(slowConfig("tick", 2, 0.01, 1));
});
test.afterAll(async () => {
  await server.stop();
});

test("schedule a config, watch it fire, open its runs, pause, resume and delete it", async ({ page }) => {
  await page.goto(`${server.url}/schedules`);
  await expect(page.getByText("No schedules yet.")).toBeVisible();

  // Create it from the config's page; the params form comes from the config.
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Configs" }).click();
  await page.getByRole("link", { name: "tick" }).click();
  await page.getByRole("link", { name: "Schedule…" }).click();
  await expect(page).toHaveURL(/\/schedules\/new\?config=tick/);
  const form = page.getByRole("form", { name: "New schedule" });
  await form.getByLabel("Name").fill("every-2s");

  // What the form can check, it names; what only the server knows, the server names.
  await form.getByLabel("Cron expression", { exact: true }).fill("0 2 * *");
  await form.getByRole("button", { name: "Create schedule" }).click();
  await expect(form.getByText(/Expected 5 fields .* got 4/)).toBeVisible();
  await form.getByLabel("Cron expression", { exact: true }).fill("61 * * * *");
  await form.getByRole("button", { name: "Create schedule" }).click();
  await expect(form.getByRole("alert")).toContainText("cron");

  await form.getByLabel("Every so many seconds").check();
  await form.getByLabel("Interval (seconds)").fill("2");
  await expect(form.getByText("every 2 s, counted from the Unix epoch")).toBeVisible();
  await form.getByLabel(/delay/).fill("0.02");
  await form.getByLabel(/Labels/).fill("via=schedule");
  await form.getByRole("button", { name: "Create schedule" }).click();

  // The detail page: trigger, the next fire times, and fires arriving live.
  await expect(page).toHaveURL(/\/schedules\/every-2s$/);
  await expect(page.getByTestId("trigger")).toHaveText("every 2 s");
  await expect(page.getByTestId("next-fires").locator("li")).toHaveCount(8);
  await expect(page.getByText("delay=0.02")).toBeVisible();
  const started = page.locator('[data-testid="fires"] tr[data-outcome="started"]');
  await expect(started.first()).toBeVisible({ timeout: 20_000 });
  const schedule = await api.json<{ id: string }>("GET", "/api/v1/schedules/every-2s");

  // A fire links to the run it started; the run links back.
  await started.first().getByRole("link").click();
  await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
  await expect(page.locator(".summary")).toContainText("schedule");
  await expect(page.getByText("via:schedule")).toBeVisible();
  await page.getByTestId("schedule-link").click();
  await expect(page).toHaveURL(new RegExp(`/schedules/${schedule.id}$`));

  // Its runs: the executions list filtered by the schedule.
  await page.getByRole("link", { name: "Runs" }).click();
  await expect(page).toHaveURL(new RegExp(`/executions\\?schedule=${schedule.id}`));
  await expect(page.locator('[data-filter="schedule"]')).toBeVisible();
  await expect(page.locator("tr[data-execution-id]").first()).toBeVisible();
  const runs = await api.json<{ items: { schedule_id: string | null }[] }>(
    "GET",
    `/api/v1/executions?schedule=${schedule.id}`,
  );
  const shown = await page.locator("tr[data-execution-id]").count();
  expect(shown).toBeGreaterThan(0);
  expect(shown).toBeLessThanOrEqual(runs.items.length + 2); // it keeps firing while we look
  expect(runs.items.every((run) => run.schedule_id === schedule.id)).toBe(true);
  await page.goBack();

  // Pause and resume on the detail page.
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.locator(".page-header [data-paused]")).toHaveText("paused");
  await expect(page.getByTestId("next-fire")).toHaveText("– (paused)");
  await expect(page.getByText("if resumed now")).toBeVisible();
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.locator(".page-header [data-paused]")).toHaveText("active");

  // The list, and pausing from it.
  await nav.getByRole("link", { name: "Schedules" }).click();
  const row = page.locator('tr[data-schedule="every-2s"]');
  await expect(row).toContainText("every 2 s");
  await row.getByRole("button", { name: "Pause every-2s" }).click();
  await expect(row.locator("[data-paused]")).toHaveText("paused");

  // Delete: the schedule goes, its runs stay.
  await row.getByRole("link", { name: "every-2s" }).click();
  await page.getByRole("button", { name: "Delete…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete schedule every-2s?" });
  await dialog.getByRole("button", { name: "Delete schedule" }).click();
  await expect(page).toHaveURL(/\/schedules$/);
  await expect(page.getByText("No schedules yet.")).toBeVisible();
  const kept = await api.json<{ items: unknown[] }>("GET", `/api/v1/executions?schedule=${schedule.id}`);
  expect(kept.items.length).toBeGreaterThan(0);
});
