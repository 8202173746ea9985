import { expect, test } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { failingConfig, slowConfig } from "./configs";
import { Api, startServer, type RunningServer } from "./server";

let server: RunningServer;
let api: Api;

test.beforeAll(async () => {
  server = await startServer();
  api = new Api(server.url);
  await api.applyConfig(slowConfig("long", 300, 0.2, 2));
  await api.applyConfig(failingConfig("flaky"));
});
test.afterAll(async () => {
  await server.stop();
});

test("cancel a running execution, then replay it from the UI", async ({ page }) => {
  const run = await api.run("long");
  await page.goto(`${server.url}/executions/${run.id}`);
  await expect(page.locator('[data-route="work"] [data-count="processed"]')).not.toHaveText("0");
  await page.getByRole("button", { name: "Cancel run" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this run?" });
  await dialog.getByLabel("Reason (optional)").fill("from the browser test");
  await dialog.getByRole("button", { name: "Cancel run" }).click();
  await expect(page.locator(".page-header [data-status]")).toHaveText("cancelled");
  await expect(page.locator(".timeline-list li").last()).toContainText("status → cancelled");
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "ended");

  await page.getByRole("button", { name: "Replay…" }).click();
  const replay = page.getByRole("dialog", { name: "Replay messages as a new run" });
  await replay.getByLabel(/All root messages/).check();
  await replay.getByRole("button", { name: "Start replay" }).click();
  await expect(page).not.toHaveURL(new RegExp(run.id));
  await expect(page.getByTestId("parent-link")).toHaveText(run.id.slice(0, 13));
  await expect(page.locator(".summary")).toContainText("(all)");
  // The replay runs on the parent's snapshot: cancel it too, it is long.
  await expect(page.locator(".page-header [data-status]")).toHaveText("running");
  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.getByRole("dialog", { name: "Cancel this run?" }).getByRole("button", { name: "Cancel run" }).click();
  await expect(page.locator(".page-header [data-status]")).toHaveText("cancelled");
});

test("resume a cancelled run from the UI; resuming it again points to the first resume", async ({ page }) => {
  const run = await api.run("long");
  await api.json("POST", `/api/v1/executions/${run.id}/cancel`, { reason: "to resume it" });
  await api.wait(run.id);
  await page.goto(`${server.url}/executions/${run.id}`);
  await expect(page.locator(".page-header [data-status]")).toHaveText("cancelled");

  await page.getByRole("button", { name: "Resume…" }).click();
  const dialog = page.getByRole("dialog", { name: "Resume this run" });
  await dialog.getByLabel(/Labels/).fill("why=browser-test");
  await dialog.getByRole("button", { name: "Start resume" }).click();
  await expect(page).not.toHaveURL(new RegExp(run.id));
  const resumeId = page.url().split("/").at(-1)!;
  await expect(page.locator(".summary")).toContainText("Resume of");
  await expect(page.getByTestId("parent-link")).toHaveText(run.id.slice(0, 13));
  await expect(page.getByText("why:browser-test")).toBeVisible();
  await api.json("POST", `/api/v1/executions/${resumeId}/cancel`, {}); // it is long

  // A run is resumed once: the second attempt says by which run, and links to it.
  await page.goto(`${server.url}/executions/${run.id}`);
  await page.getByRole("button", { name: "Resume…" }).click();
  await dialog.getByRole("button", { name: "Start resume" }).click();
  await expect(dialog.getByRole("alert")).toContainText("already resumed");
  await dialog.getByRole("link", { name: "Open the run that resumed it" }).click();
  await expect(page).toHaveURL(new RegExp(`/executions/${resumeId}$`));
});

test("failures: open a failed message's ancestry, replay the failed ones, download a stored object", async ({
  page,
}) => {
  const run = await api.run("flaky");
  await api.wait(run.id);
  await page.goto(`${server.url}/executions/${run.id}/failures`);
  const failures = page.locator(".failure");
  await expect(failures).toHaveCount(2);
  await expect(failures.first()).toContainText("bad item: deliberate failure");

  // Ancestry: the failed message at `check` came from `split`, which came from the source.
  await failures.first().getByTestId("failure-ancestry").click();
  await expect(page).toHaveURL(/\/lineage\?message=/);
  const detail = page.getByTestId("message-detail");
  await expect(detail.getByTestId("message-error")).toContainText("bad item: deliberate failure");
  const ancestry = detail.getByTestId("ancestry").locator("li");
  await expect(ancestry).toHaveCount(2);
  await expect(ancestry.nth(0)).toContainText("source");
  await expect(ancestry.nth(1)).toContainText("split");
  await ancestry.nth(0).getByText("payload").click();
  await expect(ancestry.nth(0)).toContainText('"bad": true');
  // Walk up: the root's descendants include the failed message.
  await ancestry.nth(0).getByRole("button").first().click();
  await expect(detail.getByTestId("descendants").locator("li")).toHaveCount(2);
  await page.goBack();
  await expect(detail.getByTestId("ancestry").locator("li")).toHaveCount(2);

  // Storage: preview and download an object; the bytes are the server's.
  await page.getByRole("link", { name: "Storage" }).click();
  const firstKey = page.locator(".storage-table tbody tr").first();
  const key = (await firstKey.getAttribute("data-key"))!;
  await firstKey.getByRole("button").click();
  await expect(page).toHaveURL(/storage\?key=/);
  await expect(page.getByTestId("object-preview")).toContainText('"text"');
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
  const saved = await readFile(await download.path());
  const expected = await (await fetch(`${server.url}/api/v1/executions/${run.id}/storage/objects/${key}`)).arrayBuffer();
  expect(Buffer.compare(saved, Buffer.from(expected))).toBe(0);
  expect(download.suggestedFilename()).toBe(key.split("/").at(-1));
  // Every object at once: the run's tar archive, each key a member.
  const [archive] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-all").click()]);
  expect(archive.suggestedFilename()).toBe(`${run.id}.tar`);
  const tar = await readFile(await archive.path());
  expect(tar.subarray(257, 262).toString()).toBe("ustar");
  expect(tar.includes(Buffer.from(key))).toBe(true);

  // Replay the failed messages from the UI: a new execution linked to this one.
  await page.getByRole("button", { name: "Replay…" }).click();
  const replay = page.getByRole("dialog", { name: "Replay messages as a new run" });
  await expect(replay.getByLabel(/Failed messages/)).toBeChecked();
  await replay.getByRole("button", { name: "Start replay" }).click();
  await expect(page.getByTestId("parent-link")).toHaveText(run.id.slice(0, 13));
  await expect(page.locator(".page-header [data-status]")).toHaveText("completed");
  await expect(page.locator('[data-total="received"]')).toHaveText("2");

  // A replayed message's chain goes on in the run it replays: its ancestry says so and links there.
  await page.getByRole("link", { name: "Lineage" }).click();
  await page.locator(".lineage-table tbody tr").first().click();
  const continues = page.getByTestId("continues");
  await expect(continues).toContainText(run.id.slice(0, 13));
  await continues.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/executions/${run.id}/lineage\\?message=`));
  await expect(page.getByTestId("message-detail")).toBeVisible();
  await expect(page.getByTestId("descendants").locator("li").first()).toBeVisible();
});

test("logs: a run's records with tracebacks, by level and by message, from the lineage", async ({ page }) => {
  const run = await api.run("flaky");
  await api.wait(run.id);
  type Page = { items: { seq: number; level: string; message_id: string | null; traceback: string | null }[] };
  const all = await api.json<Page>("GET", `/api/v1/executions/${run.id}/logs?limit=1000`);
  const errors = await api.json<Page>("GET", `/api/v1/executions/${run.id}/logs?level=error&limit=1000`);
  const failed = all.items.find((r) => r.traceback !== null && r.message_id !== null);
  expect(failed).toBeDefined();

  await page.goto(`${server.url}/executions/${run.id}`);
  await page.getByRole("link", { name: "Logs" }).click();
  await expect(page.locator("[data-log-stream-state]")).toHaveAttribute("data-log-stream-state", "ended");
  await expect(page.locator(".log-list li")).toHaveCount(all.items.length);
  const line = page.locator(`[data-log-seq="${failed!.seq}"]`);
  await expect(line).toContainText("bad item: deliberate failure");
  await line.locator("summary", { hasText: "traceback" }).click();
  await expect(line.locator(".traceback")).toContainText("Traceback");

  // By level: the URL says so, and the list is what the API answers for it.
  await page.getByLabel("Level").selectOption("error");
  await expect(page).toHaveURL(/logs\?level=error/);
  await expect(page.locator(".log-list li")).toHaveCount(errors.items.length);

  // From a record to its message's lineage, and back to that message's records.
  await page.getByLabel("Level").selectOption("");
  await line.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/lineage\\?message=${failed!.message_id}`));
  await page.getByRole("link", { name: "Its log records" }).click();
  await expect(page.locator('[data-filter="message"]')).toBeVisible();
  const mine = all.items.filter((r) => r.message_id === failed!.message_id);
  await expect(page.locator(".log-list li")).toHaveCount(mine.length);
});
