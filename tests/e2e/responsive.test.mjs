// The page stays responsive while it explains: the model and the methods run in a Web Worker, so the
// page's own thread has no long task (50 ms or more, the browser's own measure) during an explanation,
// and Cancel is handled at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { explain, launch, loadedPage, serveDist } from "./harness.mjs";

let site, browser;

before(async () => {
  site = await serveDist();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

// About 128 tokens: the length at which the page used to freeze the tab for tens of seconds.
const REVIEW = ("The film opens with a long, quiet sequence that promises more than the rest delivers; the cast "
  + "works hard, the photography is often lovely, and the score swells in all the right places, yet the script "
  + "keeps circling the same two ideas until even the actors seem tired of them. ").repeat(2);

test("the page's thread has no long task while the default methods explain a long review", async () => {
  const { page } = await loadedPage(browser, site.origin);
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration)))
      .observe({ type: "longtask" });
  });
  const started = Date.now();
  await explain(page, REVIEW, 300_000);
  const seconds = (Date.now() - started) / 1000;
  const longTasks = await page.evaluate(() => window.longTasks);
  console.log(`# ${seconds.toFixed(1)} s for the default methods and metrics; long tasks on the page's thread: ${JSON.stringify(longTasks)}`);
  assert.equal(await page.locator(".method").count(), 3);
  assert.ok(await page.locator(".faithfulness tbody tr").count() === 3, "metrics came after the highlights");
  assert.ok(Math.max(0, ...longTasks) < LONGEST_TASK_MS, `longest task ${Math.max(...longTasks)} ms`);
  await page.close();
});

/** The page's longest task during an explanation may not reach what the browser calls a long task. */
const LONGEST_TASK_MS = 50;
