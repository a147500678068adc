/**
 * The explorer page in a real browser: Debian's headless chromium driven by playwright-core.
 * Skips with the reason when /usr/bin/chromium (or $CHROMIUM_PATH) is missing.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { serveFixture } from "./api.case.test.ts";
import { createService } from "./index.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install -y chromium)`;
if (skip) console.log(`# skipping the page test: ${skip}`);

test("explorer page: merged items with provenance, events, similar items", {
  skip,
  timeout: 60_000,
}, async () => {
  const fx = await serveFixture();
  const svc = await createService(fx.config, { dataset: fx.ds, models: fx.models, defaultMetrics: false });
  const address = await svc.listen({ host: "127.0.0.1", port: 0 });
  const profile = await mkdtemp(join(tmpdir(), "recallkit-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${address}/?user=u3`);
    await page.waitForSelector("#items tbody tr");
    assert.equal(await page.locator("#items tbody tr").count(), 20);
    assert.match((await page.textContent("#summary")) ?? "", /^20 items for u3 \(known path\)/);
    // Every row names at least one channel with its rank; the inserting channel is outlined.
    const first = page.locator("#items tbody tr").first();
    assert.match((await first.textContent()) ?? "", /u2i\/popular #1/);
    assert.equal(await page.locator("#items tbody tr .badge.ins").count(), 20);
    assert.equal(await page.locator("#channels tbody tr").count(), 6);
    assert.match((await page.textContent("#channels")) ?? "", /cold\/attrs\s*skipped/);

    // Similar items of the first item.
    await first.locator("a.sim").click();
    await page.waitForSelector("#similar tbody tr");
    assert.match((await page.textContent("#simOf")) ?? "", /of i\d+ \(itemcf\)/);

    // Record the first item as an event: the next answer shows it in the recent history.
    const item = (await first.getAttribute("data-item")) ?? "";
    await first.locator("button.ev").click();
    await page.waitForFunction(
      `document.getElementById("context").textContent.includes(${JSON.stringify(item)})`,
    );
    const items = await page
      .locator("#items tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-item")));
    assert.ok(!items.includes(item), "the event's item is now seen and excluded");

    // A bad request shows the API's error message.
    await page.fill("#user", "");
    await page.fill("#user", "u3");
    await page.fill("#rule", "colour=red");
    await page.click("#go");
    await page.waitForFunction(`document.getElementById("error").textContent.length > 0`);
    assert.match(
      (await page.textContent("#error")) ?? "",
      /RK_SERVE_BAD_REQUEST: filters\.rules\[0\]\.field: unknown item attribute "colour"/,
    );
    await page.fill("#rule", "");
    await page.click("#go");
    await page.waitForFunction(`document.getElementById("error").textContent === ""`);

    await page.screenshot({ path: join(tmpdir(), "recallkit-page.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await svc.close();
    await rm(profile, { recursive: true, force: true });
  }
});
