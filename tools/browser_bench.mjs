// Numbers for the page, measured in Debian's headless Chromium on the built dist/ (run `trunk build
// --release` first): wasm and model sizes (raw and gzip), what a first visit transfers (gzip -9 of every
// file the server sent; the model's .gz copies as they are), the tab's memory (JS heap and wasm memory)
// (JS heap, the page's and each worker's wasm memory) after loading and after the first explanation,
// time from opening the page to the loaded model and to the first explanation, the time of a 128-token
// review with the default methods and metrics, each method's time per sentence on the CPU backend, and
// the time from opening the page to its first highlight (first and second visit) with the network
// throttled to 20 Mbit/s and 20 ms latency.
// Not a test: it prints one JSON object.
//   node tools/browser_bench.mjs [sentences] [method,method,...] [workers]
//   (default: 8 sentences, every method, as many workers as the page chooses)
import { readFile, readdir } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { DIST, REVIEW, explain, launch, serveDist, transferBytes } from "../tests/e2e/harness.mjs";

const count = Number(process.argv[2] ?? 8);
const asked = process.argv[3]?.split(",").filter(Boolean);
const workers = process.argv[4];

async function sizes() {
  const out = {};
  for (const dir of ["", "model"]) {
    for (const name of await readdir(join(DIST, dir))) {
      if (!/\.(wasm|js|bpk|f16|json|gz)$/.test(name)) continue;
      const bytes = await readFile(join(DIST, dir, name));
      out[join(dir, name).replace(/-[0-9a-f]{16}/, "")] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    }
  }
  return out;
}

const texts = (await readFile(new URL("../data/test.jsonl", import.meta.url), "utf8"))
  .split("\n").filter(Boolean).slice(0, count).map((l) => JSON.parse(l).text);
const site = await serveDist();
const browser = await launch();
const page = await browser.newPage();
const opened = performance.now();
await page.goto(site.origin + "/?backend=cpu" + (workers ? `&workers=${workers}` : ""));
await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 300_000 });
const loaded = performance.now();
const firstVisit = { bytes: transferBytes(site.served), files: site.served.map((s) => s.path) };
// The tab's memory: JS heap in use plus the wasm memory of the page and of each worker (which only
// grows, so its last size is its peak).
const memory = () => page.evaluate(() => {
  const out = {
    js_heap_mb: performance.memory.usedJSHeapSize / 1e6,
    page_wasm_mb: globalThis.gradlens.memory.buffer.byteLength / 1e6,
    worker_wasm_mb: (globalThis.gradlens.workerMemory ?? []).map((bytes) => bytes / 1e6),
  };
  out.total_mb = out.js_heap_mb + out.page_wasm_mb + out.worker_wasm_mb.reduce((a, b) => a + b, 0);
  return out;
});
const memoryAfterLoad = await memory();
await explain(page, texts[0], 600_000);
const firstExplanation = performance.now();
const memoryAfterExplanation = await memory();
const workersLine = (await page.getByRole("status").textContent()).match(/\(([^)]*worker[^)]*)\)/)?.[1];
const reviewStarted = performance.now();
await explain(page, REVIEW, 600_000);
const reviewSeconds = (performance.now() - reviewStarted) / 1000;

const offered = await page.locator(".methods input").evaluateAll((inputs) => inputs.map((i) => i.value));
const perMethod = {};
for (const method of asked ?? offered) {
  for (const m of offered) await page.locator(`.methods input[value="${m}"]`).setChecked(m === method);
  const seconds = [];
  for (const text of texts) {
    await explain(page, text, 600_000);
    const caption = await page.locator(`.method[data-method="${method}"] h3 small`).textContent();
    seconds.push(parseFloat(caption.match(/([0-9.]+) s/)[1]));
  }
  seconds.sort((a, b) => a - b);
  perMethod[method] = { median_seconds: seconds[Math.floor(seconds.length / 2)], mean_seconds: seconds.reduce((a, b) => a + b) / seconds.length };
}
// A first and a second visit in a fresh profile over a throttled network: from opening the page to the
// first highlight of its example text (the Explain button pressed as soon as it is enabled).
async function throttledVisits() {
  const context = await browser.newContext();
  const times = {};
  for (const visit of ["first_visit", "second_visit"]) {
    const tab = await context.newPage();
    const cdp = await context.newCDPSession(tab);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 20, downloadThroughput: 20e6 / 8, uploadThroughput: 20e6 / 8 });
    const started = performance.now();
    await tab.goto(site.origin + "/?backend=cpu" + (workers ? `&workers=${workers}` : ""));
    await tab.locator("#explain:enabled").waitFor({ timeout: 300_000 });
    const ready = performance.now();
    await tab.click("#explain");
    await tab.locator(".method .word").first().waitFor({ timeout: 300_000 });
    times[visit] = { seconds_to_model_loaded: (ready - started) / 1000, seconds_to_first_highlight: (performance.now() - started) / 1000 };
    // The service worker and the model's cache are written after the first load: let them finish.
    await tab.waitForTimeout(3000);
    await tab.close();
  }
  await context.close();
  return times;
}
const throttled = await throttledVisits();

console.log(JSON.stringify({
  browser: browser.version(),
  sentences: texts.length,
  sizes: await sizes(),
  first_visit: firstVisit,
  memory_after_load: memoryAfterLoad,
  memory_after_first_explanation: memoryAfterExplanation,
  seconds_to_model_loaded: (loaded - opened) / 1000,
  seconds_to_first_explanation: (firstExplanation - opened) / 1000,
  first_explanation_methods: "integrated_gradients, grad_sam, occlusion, with metrics",
  workers: workersLine,
  long_review_seconds: reviewSeconds,
  memory_after_long_review: await memory(),
  cpu_backend_seconds_per_sentence: perMethod,
  throttled_20_mbit_20_ms: throttled,
}, null, 2));
await browser.close();
site.close();
