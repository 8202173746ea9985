import { expect, test } from "@playwright/test";
import { slowConfig } from "./configs";
import { Api, startServer, type RunningServer } from "./server";

let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer();
  await new Api(server.url).applyConfig(slowConfig("edited", 3, 0.01, 1));
});
test.afterAll(async () => {
  await server.stop();
});

test("edit a config with validation as you type, save a version, diff it against the first", async ({ page }) => {
  await page.goto(`${server.url}/configs/edited`);
  await expect(page.getByRole("region", { name: "edited v1 as YAML" })).toContainText("storage_write");
  await page.getByRole("link", { name: "Edit as new version" }).click();
  const editor = page.getByLabel("Config YAML");
  await expect(page.getByTestId("editor-status")).toContainText("identical to edited v1");

  // An unknown processor: the server's dry run names it and its line.
  const text = await editor.inputValue();
  await editor.fill(text.replace("type: sleep", "type: slep"));
  await expect(page.getByTestId("editor-issues")).toContainText("unknown processor 'slep'");
  await expect(page.getByTestId("editor-issues")).toContainText(/line \d+/);
  // Broken YAML is caught in the browser before the server is asked.
  await editor.fill(`${text}\n  broken: [unclosed`);
  await expect(page.getByTestId("editor-issues")).toContainText("(yaml)");
  await expect(page.getByRole("button", { name: "Save version" })).toBeDisabled();

  await editor.fill(text.replace("concurrency: 1", "concurrency: 3"));
  await expect(page.getByTestId("editor-status")).toContainText("Saving creates edited version 2");
  await page.getByRole("button", { name: "Save version" }).click();
  await expect(page).toHaveURL(/\/configs\/edited\?version=2$/);
  await page.getByRole("button", { name: "Show diff" }).click();
  await expect(page).toHaveURL(/diff\?from=1&to=2/);
  await expect(page.locator(".diff-removed")).toContainText("concurrency: 1");
  await expect(page.locator(".diff-added")).toContainText("concurrency: 3");
  await page.goBack();
  await expect(page).toHaveURL(/version=2$/);
});
