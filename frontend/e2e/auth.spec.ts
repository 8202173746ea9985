import { expect, test } from "@playwright/test";
import { slowConfig } from "./configs";
import { Api, startServer, type RunningServer } from "./server";

const TOKEN = "e2e-token-0123456789";
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer({ token: TOKEN });
  await new Api(server.url, TOKEN).applyConfig(slowConfig("guarded", 6, 0.05, 2));
});
test.afterAll(async () => {
  await server.stop();
});

test("log in with the token once; API and live streams then work; log out", async ({ page, context }) => {
  await page.goto(`${server.url}/executions`);
  const token = page.getByLabel("API token");
  await expect(token).toBeVisible();
  await token.fill("wrong");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("not this server's token");

  await token.fill(TOKEN);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Executions" })).toBeVisible();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "factflow_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");
  expect(await page.evaluate(() => document.cookie)).not.toContain("factflow_session");

  // Run from the UI; the SSE timeline follows it with the cookie alone.
  await page.goto(`${server.url}/configs/guarded`);
  await page.getByRole("button", { name: "Run…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Start run" }).click();
  await expect(page.locator(".page-header [data-status]")).toHaveText("completed");
  await expect(page.locator(".timeline-list li").last()).toContainText("status → completed");
  await expect(page.locator('[data-route="store"] [data-count="processed"]')).toHaveText("6");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByLabel("API token")).toBeVisible();
  const denied = await page.evaluate(async () => (await fetch("/api/v1/executions")).status);
  expect(denied).toBe(401);
});
