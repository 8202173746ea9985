import { expect, test, type Page } from "@playwright/test";
import { slowConfig } from "./configs";
import { Api, startServer, type RunningServer } from "./server";

let server: RunningServer;
let api: Api;

test.beforeAll(async () => {
  server = await startServer();
  api = new Api(server.url);
  await api.applyConfig(slowConfig("steady", 2000, 0.2, 2));
});
test.afterAll(async () => {
  await server.stop();
});

async function shownSeqs(page: Page): Promise<number[]> {
  return page
    .locator(".timeline-list [data-seq]")
    .evaluateAll((items): number[] => items.map((item) => Number(item.getAttribute("data-seq"))));
}

test("reload mid-run: the timeline continues with no gap and no duplicate", async ({ page }) => {
  // A run far longer than the test: it ends when the test cancels it.
  const run = await api.run("steady");
  await page.goto(`${server.url}/executions/${run.id}`);
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "live");
  await expect.poll(async () => (await shownSeqs(page)).length).toBeGreaterThan(8);
  const before = await shownSeqs(page);

  await page.reload();
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "live");
  // New events keep arriving after the reload...
  await expect.poll(async () => (await shownSeqs(page)).length).toBeGreaterThan(before.length + 3);
  // ...through the end of the run.
  await api.json("POST", `/api/v1/executions/${run.id}/cancel`, {});
  await expect(page.locator(".page-header [data-status]")).toHaveText("cancelled");
  await expect(page.locator("[data-stream-state]")).toHaveAttribute("data-stream-state", "ended");

  // The timeline shows the newest 400 events until asked for all of them.
  const showAll = page.getByRole("button", { name: /^Show all/ });
  if (await showAll.isVisible()) await showAll.click();
  const after = await shownSeqs(page);
  const last = (await api.json<{ last_event_seq: number }>("GET", `/api/v1/executions/${run.id}`)).last_event_seq;
  expect(after).toEqual(Array.from({ length: last }, (_, i) => i + 1)); // 1..last: no gap, no duplicate
  expect(after.slice(0, before.length)).toEqual(before); // what was shown before the reload is still there
  expect(after.length).toBeGreaterThan(before.length);
});
