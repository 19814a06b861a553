// Forward-pass time of the default model in the same headless Chromium: GradLens's page (burn, CPU backend
// in wasm) against transformers.js (onnxruntime-web, wasm, one thread) on the same weights and sentences.
// Every request outside the loopback server is refused, so neither side can reach a CDN or a hub.
//
//   trunk build --release
//   python tools/transformers_js/make_model.py tools/transformers_js/models/gradlens-default
//   (cd tools/transformers_js && npm install --ignore-scripts)
//   node tools/transformers_js/bench.mjs [sentences] [repeats]
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DIST, explain, launch, loadedPage, serveDist } from "../../tests/e2e/harness.mjs";

const HERE = new URL(".", import.meta.url).pathname;
const count = Number(process.argv[2] ?? 8);
const repeats = Number(process.argv[3] ?? 5);
const ROOTS = {
  "/tjs/": join(HERE, "node_modules/@huggingface/transformers/dist"),
  "/ort/": join(HERE, "node_modules/onnxruntime-web/dist"),
  "/models/": join(HERE, "models"),
  "/": DIST,
};
const PEER = `<!doctype html><meta charset="utf-8"><title>transformers.js</title><script type="module">
import { env, AutoTokenizer, AutoModelForSequenceClassification } from "/tjs/transformers.min.js";
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = "/models/";
env.backends.onnx.wasm.wasmPaths = "/ort/";
env.backends.onnx.wasm.numThreads = 1;
const tokenizer = await AutoTokenizer.from_pretrained("gradlens-default");
const model = await AutoModelForSequenceClassification.from_pretrained("gradlens-default", { device: "wasm", dtype: "fp32" });
window.forward = async (text, repeats) => {
  const inputs = await tokenizer(text);
  const logits = (await model(inputs)).logits.data;
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await model(inputs);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)] / 1000, logits: Array.from(logits) };
};
window.ready = true;
</script>`;

const site = await serveDist({ roots: ROOTS, pages: { "/peer.html": PEER } });
const origin = site.origin;
const texts = (await readFile(new URL("../../data/test.jsonl", import.meta.url), "utf8"))
  .split("\n").filter(Boolean).slice(0, count).map((l) => JSON.parse(l).text);

const browser = await launch();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// transformers.js
const peer = await browser.newPage();
peer.on("pageerror", (e) => process.stderr.write(`peer error: ${e.message}\n`));
await peer.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
await peer.goto(origin + "/peer.html");
await peer.waitForFunction(() => window.ready === true, null, { timeout: 60_000 });
const peerRuns = [];
for (const text of texts) peerRuns.push(await peer.evaluate(([t, r]) => window.forward(t, r), [text, repeats]));

// GradLens: raw attention is one forward pass (with the attention maps read back); its time comes from the
// page's own JSON export, unrounded.
const { page } = await loadedPage(browser, origin, "/?backend=cpu");
await page.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
for (const m of ["integrated_gradients", "grad_sam", "occlusion"]) await page.getByLabel(m.replace(/_/g, " ")).uncheck();
await page.getByLabel("raw attention", { exact: true }).check();
const ours = [];
for (const text of texts) {
  const times = [];
  let probabilities;
  for (let i = 0; i < repeats + 1; i++) {
    await explain(page, text, 300_000);
    const saved = page.waitForEvent("download");
    await page.locator(".explanation > .exports .export", { hasText: "JSON" }).click();
    const explanation = JSON.parse(await readFile(await (await saved).path(), "utf8"));
    if (i > 0) times.push(explanation.attributions[0].seconds);
    probabilities = explanation.probabilities;
  }
  ours.push({ seconds: median(times), probabilities });
}

const softmax = (l) => { const e = l.map((x) => Math.exp(x - Math.max(...l))); const s = e.reduce((a, b) => a + b); return e.map((x) => x / s); };
const agreement = Math.max(...ours.map((o, i) => Math.max(...o.probabilities.map((p, k) => Math.abs(p - softmax(peerRuns[i].logits)[k])))));
const gradlens = median(ours.map((o) => o.seconds));
const transformers = median(peerRuns.map((p) => p.seconds));
console.log(JSON.stringify({
  browser: browser.version(), sentences: texts.length, repeats,
  gradlens_forward_seconds: gradlens, transformers_js_forward_seconds: transformers,
  ratio_gradlens_over_transformers_js: gradlens / transformers,
  largest_probability_difference: agreement,
}, null, 2));
await browser.close();
site.close();
