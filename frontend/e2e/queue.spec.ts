import { expect, test } from "@playwright/test";
import { slowConfig } from "./configs";
import { Api, startServer, type RunningServer } from "./server";

let server: RunningServer;
let api: Api;

// One slot: later runs wait in the run queue until the running one ends.
test.beforeAll(async () => {
  server = await startServer({ env: { FACTFLOW_MAX_RUNNING_EXECUTIONS: "1" } });
  api = new Api(server.url);
  await api.applyConfig(slowConfig("slow", 300, 0.2, 1));
  await api.applyConfig(slowConfig("quick", 3, 0.01, 1));
});
test.afterAll(async () => {
  await server.stop();
});

test("runs over capacity: the dialog says queued, the list and the page show each place, live, until they start", async ({
  page,
}) => {
  const first = await api.run("slow");
  expect(first.status).toBe("running");

  // The run dialog: 202 queued is said as such, not opened as started.
  await page.goto(`${server.url}/configs/slow`);
  await page.getByRole("button", { name: "Run…" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Start run" }).click();
  const queued = dialog.getByRole("status");
  await expect(queued).toHaveText("Queued, position 1: every slot is busy; it starts as one frees.");
  const secondId = (await queued.getAttribute("data-queued"))!;
  await expect(page).toHaveURL(/\/configs\/slow$/);
  await dialog.getByRole("button", { name: "Close", exact: true }).and(dialog.getByText("Close")).click();
  const third = await api.run("quick");
  expect(third.status).toBe("pending");

  // The executions list: each queued run's status cell reads its place.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Executions" }).click();
  const statusCell = (id: string) => page.locator(`tr[data-execution-id="${id}"] td`).first();
  await expect(statusCell(first.id)).toHaveText("running");
  await expect(statusCell(secondId)).toHaveText("pending · #1 in queue");
  await expect(statusCell(third.id)).toHaveText("pending · #2 in queue");

  // The Queue view: both waiting runs in start order, and this server's slots.
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Queue" }).click();
  await expect(page.getByTestId("queue-summary")).toHaveText("2 waiting · this server runs 1 of 1");
  const queuedRows = page.getByRole("table", { name: "Queued runs" }).locator("tbody tr");
  await expect(queuedRows).toHaveCount(2);
  await expect(queuedRows.nth(0)).toHaveAttribute("data-queued-id", secondId);
  await expect(queuedRows.nth(0).locator("td").first()).toHaveText("#1");
  await expect(queuedRows.nth(1)).toHaveAttribute("data-queued-id", third.id);
  await expect(queuedRows.nth(1).locator("td").first()).toHaveText("#2");

  // The third run's page: its place moves up when the first run ends and the second starts.
  await queuedRows.nth(1).getByRole("link").first().click();
  await expect(page).toHaveURL(new RegExp(`/executions/${third.id}$`));
  const header = page.locator(".page-header");
  await expect(header.locator("[data-status]")).toHaveText("pending");
  await expect(header.locator("[data-queue-position]")).toHaveText("· #2 in queue");
  await api.json("POST", `/api/v1/executions/${first.id}/cancel`, { reason: "make room" });
  await expect(header.locator("[data-queue-position]")).toHaveText("· #1 in queue");
  await api.json("POST", `/api/v1/executions/${secondId}/cancel`, { reason: "make room" });
  await expect(header.locator("[data-status]")).toHaveText("completed", { timeout: 30_000 });
  await expect(header.locator("[data-queue-position]")).toHaveCount(0);

  // And the list: no place shown any more; the queue is empty.
  await nav.getByRole("link", { name: "Executions" }).click();
  await expect(statusCell(third.id)).toHaveText("completed");
  await expect(statusCell(secondId)).toHaveText("cancelled");
  await expect(statusCell(first.id)).toHaveText("cancelled");
  await nav.getByRole("link", { name: "Queue" }).click();
  await expect(page.getByText("No run is waiting.")).toBeVisible();
  await expect(page.getByTestId("queue-summary")).toHaveText("0 waiting · this server runs 0 of 1");
});
