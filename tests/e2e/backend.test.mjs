// Which backend the page runs on, long work that can be cancelled or superseded, and a page that stays
// responsive meanwhile: the model and the methods run in a Web Worker, so the page's own thread has no
// long task (50 ms or more, the browser's own measure) during an explanation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { REVIEW, explain, finished, launch, loadedPage, recordRequests, serveDist } from "./harness.mjs";

let site;

before(async () => {
  site = await serveDist();
});

after(() => site?.close());

const methods = (page) => page.locator(".method").evaluateAll((els) => els.map((e) => e.dataset.method));
const words = (page) => page.locator(".method .word").allTextContents();
/** Each word's score as the page shows it (4 decimals). */
const scores = (page) => page.locator(".method .word").evaluateAll((els) => els.map((e) => parseFloat(e.dataset.score)));
const probability = async (page, label) =>
  parseFloat(await page.locator(`.bar[data-label="${label}"] span`).last().textContent());

test("without WebGPU the page runs on the CPU and says why; cancel and a second request", async () => {
  const browser = await launch();
  try {
    const { page, requests } = await loadedPage(browser, site.origin);
    assert.equal(await page.locator("#backend").inputValue(), "cpu");
    assert.match(await page.locator(".backend-note").textContent(), /no WebGPU/);
    assert.ok(requests.every((url) => !url.includes("/gpu/")), `a CPU visitor fetches no WebGPU build: ${requests}`);
    assert.ok(await page.locator('#backend option[value="webgpu"]').isDisabled());

    // Cancel: DIG and UDIG on a long review run long enough to be caught; nothing is reported, and the
    // page is ready again.
    await page.getByLabel("DIG", { exact: true }).check();
    await page.getByLabel("UDIG", { exact: true }).check();
    await page.fill("#text", "It is neither funny nor moving, and it goes on far too long for a story this slight.");
    const before = await finished(page);
    await page.click("#explain");
    // Straight to the element: Playwright's usual checks need animation frames, which a busy page gives
    // only between steps.
    await page.locator("#cancel").dispatchEvent("click");
    await page.locator('main[aria-busy="false"]').waitFor();
    assert.equal(await finished(page), before, "a cancelled request reports nothing");
    // What it had shown so far (if anything) stays, marked as out of date.
    assert.equal(await page.locator(".report:not(.stale) .method").count(), 0);
    assert.match(await page.getByRole("status").textContent(), /Model loaded/);

    // A second click supersedes the first (long) request: only the second text is reported.
    await page.click("#explain");
    await page.locator("#cancel").waitFor();
    await page.evaluate(() => {
      const text = document.querySelector("#text");
      text.value = "Flat.";
      text.dispatchEvent(new Event("input", { bubbles: true }));
      document.querySelector("#explain").click();
    });
    await page.locator(`main[data-finished="${before + 1}"][aria-busy="false"]`).waitFor({ timeout: 120_000 });
    await new Promise((settle) => setTimeout(settle, 3000));
    assert.equal(await finished(page), before + 1, "the superseded request reports nothing");
    assert.ok((await words(page)).every((w) => ["Flat", "."].includes(w)), `words: ${await words(page)}`);
    await page.close();
  } finally {
    await browser.close();
  }
});

test("with WebGPU (SwiftShader here) the page stays on the CPU, can switch, and WebGPU agrees with the CPU", async () => {
  const browser = await launch({ webgpu: true });
  try {
    const { page, requests } = await loadedPage(browser, site.origin);
    assert.equal(await page.locator("#backend").inputValue(), "cpu");
    assert.match(await page.locator(".backend-note").textContent(), /software emulation/);
    assert.ok(requests.every((url) => !url.includes("/gpu/")), `a software adapter fetches no WebGPU build: ${requests}`);
    for (const m of ["Integrated Gradients", "Grad-SAM", "Occlusion"]) await page.getByLabel(m, { exact: true }).uncheck();
    await page.getByLabel("Saliency", { exact: true }).check();
    const text = "Flat and dull.";
    await explain(page, text);
    const cpu = await probability(page, "negative");
    const cpuWords = await words(page);
    const cpuScores = await scores(page);

    // The CPU build has no WebGPU runtime: the page reopens in the build that has, keeping text and methods.
    await page.locator("#backend").selectOption("webgpu");
    await page.waitForURL(/backend=webgpu/);
    await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
    assert.equal(await page.inputValue("#text"), text, "the text survives the switch");
    assert.ok(requests.some((url) => url.endsWith("/gpu/gradlens-web-gpu_bg.wasm")), "the WebGPU build was fetched");
    assert.equal(await page.locator(".backend-note").getAttribute("data-backend"), "webgpu");
    await explain(page, text, 600_000);
    assert.deepEqual(await methods(page), ["saliency"]);
    assert.deepEqual(await words(page), cpuWords);
    // The same scores on both backends, to the page's 4 decimals and 2% of the largest.
    const gpuScores = await scores(page);
    const largest = Math.max(...cpuScores.map(Math.abs));
    assert.ok(largest > 0.01, `scores to compare: ${cpuScores}`);
    cpuScores.forEach((cpu, i) => assert.ok(Math.abs(gpuScores[i] - cpu) <= 2e-4 + 0.02 * largest, `word ${i}: WebGPU ${gpuScores[i]}, CPU ${cpu}`));
    assert.ok(Math.abs((await probability(page, "negative")) - cpu) <= 0.1, "WebGPU and CPU give the same prediction");
    await page.close();
  } finally {
    await browser.close();
  }
});


test("the page measures WebGPU against the CPU once per adapter, keeps the faster and remembers it", async () => {
  // SwiftShader is never measured unless asked (?calibrate): a hardware adapter always is.
  const browser = await launch({ webgpu: true });
  try {
    const page = await browser.newPage();
    await page.goto(site.origin + "/?calibrate");
    await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 300_000 });
    const note = await page.locator(".backend-note").textContent();
    const measured = note.match(/^measured on this device: WebGPU \((.+)\) ([0-9.]+) ms, CPU ([0-9.]+) ms per forward and backward pass$/);
    assert.ok(measured, note);
    const [webgpu, cpu] = [Number(measured[2]), Number(measured[3])];
    assert.ok(webgpu > 0 && cpu > 0, note);
    const faster = webgpu < cpu ? "webgpu" : "cpu";
    assert.equal(await page.locator("#backend").inputValue(), faster);
    const kept = JSON.parse(await page.evaluate(() => localStorage.getItem("gradlens-backend")));
    assert.deepEqual(kept, { adapter: measured[1], webgpu_ms: kept.webgpu_ms, cpu_ms: kept.cpu_ms });
    assert.equal(kept.webgpu_ms.toFixed(1), measured[2]);
    await explain(page, "Flat and dull.", 600_000);
    assert.equal(await page.locator(".method").count(), 3);

    // The next visit takes the kept measurement without measuring again, and fetches the WebGPU build
    // only if WebGPU was the faster.
    const requests = recordRequests(page);
    await page.reload();
    await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 300_000 });
    assert.equal(await page.locator(".backend-note").textContent(), note.replace("on this device", "on this device earlier"));
    assert.equal(await page.locator("#backend").inputValue(), faster);
    assert.equal(requests.some((url) => url.includes("/gpu/")), faster === "webgpu", `${faster}: ${requests}`);
    await page.close();
  } finally {
    await browser.close();
  }
});

test("the page's thread has no long task while the default methods explain a long review", async () => {
  const browser = await launch();
  try {
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
    assert.equal(await page.locator(".faithfulness tbody tr").count(), 3, "the metrics came after the highlights");
    assert.ok(Math.max(0, ...longTasks) < LONGEST_TASK_MS, `longest task ${Math.max(...longTasks)} ms`);
  } finally {
    await browser.close();
  }
});

/** The page's longest task during an explanation may not reach what the browser calls a long task. */
const LONGEST_TASK_MS = 50;
