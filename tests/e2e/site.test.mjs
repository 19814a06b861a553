// The built site (dist/, from `trunk build --release`) in Debian's headless Chromium: the default model
// loads from the same origin, classifies typed text in the tab, shows markup as text, and makes no
// request after it has loaded. A screenshot is kept in tests/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ARTIFACTS, REVIEW, explain, launch, loadedPage, serveDist } from "./harness.mjs";

let site, browser, origin;

before(async () => {
  site = await serveDist();
  origin = site.origin;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

test("explains typed text in the tab: prediction, highlights, methods, curves; no request after load", async () => {
  const { page, requests } = await loadedPage(browser, origin);
  assert.ok(requests.every((url) => url.startsWith(origin)), `only same-origin requests: ${requests}`);
  assert.ok(requests.some((url) => url.endsWith("/model/classifier.bpk.gz")));
  const afterLoad = requests.length;

  await explain(page, "A gorgeous, witty, seductive movie.");
  const positive = parseFloat(await page.locator('.bar[data-label="positive"] span').last().textContent());
  assert.ok(positive > 50, `a positive review is classified positive (${positive}%)`);

  // One highlighted row per picked method (IG, Grad-SAM, occlusion), one span per word.
  const methods = await page.locator(".method").evaluateAll((els) => els.map((e) => e.dataset.method));
  // The one-pass method first: its highlight shows while the others run.
  assert.deepEqual(methods, ["grad_sam", "integrated_gradients", "occlusion"]);
  const ig = page.locator('.method[data-method="integrated_gradients"] .word');
  assert.deepEqual(await ig.allTextContents(), ["A", "gorgeous", ",", "witty", ",", "seductive", "movie", "."]);
  // IG gives "gorgeous" the strongest support: its score is the largest and it is drawn in full blue.
  const scores = (await ig.evaluateAll((els) => els.map((e) => parseFloat(e.dataset.score))));
  assert.equal(scores.indexOf(Math.max(...scores)), 1, `scores ${scores}`);
  assert.equal(await ig.nth(1).evaluate((e) => getComputedStyle(e).backgroundColor), "rgb(33, 102, 172)");

  // Switch methods: drop occlusion, add saliency.
  await page.getByLabel("Occlusion", { exact: true }).uncheck();
  await page.getByLabel("Saliency", { exact: true }).check();
  await explain(page, "The plot is thin and the jokes fall flat.");
  const negative = parseFloat(await page.locator('.bar[data-label="negative"] span').last().textContent());
  assert.ok(negative > 50, `a negative review is classified negative (${negative}%)`);
  const switched = await page.locator(".method").evaluateAll((els) => els.map((e) => e.dataset.method));
  assert.deepEqual(switched, ["grad_sam", "saliency", "integrated_gradients"], "one-pass methods first");

  // Metric values and one curve per method in each chart.
  assert.equal(await page.locator(".faithfulness tbody tr").count(), 3);
  for (const chart of ["deletion", "insertion"]) {
    assert.equal(await page.locator(`.chart[data-chart="${chart}"] svg polyline`).count(), 3, chart);
  }

  // The perturbation baselines. KernelSHAP and Shapley value sampling sum to p(x) - p(baseline) by
  // construction, so the page shows no completeness gap for them (it would be zero whatever the scores).
  const choice = (name) => page.locator(`.methods input[value="${name}"]`);
  for (const name of ["integrated_gradients", "grad_sam", "saliency"]) await choice(name).uncheck();
  for (const name of ["lime", "kernel_shap", "shapley_sampling"]) await choice(name).check();
  await explain(page, "Dull but lovely.");
  const perturbation = page.locator(".method");
  assert.deepEqual(await perturbation.evaluateAll((els) => els.map((e) => e.dataset.method)), ["lime", "kernel_shap", "shapley_sampling"]);
  for (const name of ["lime", "kernel_shap", "shapley_sampling"]) {
    assert.doesNotMatch(await page.locator(`.method[data-method="${name}"]`).textContent(), /completeness gap/, name);
  }
  for (const name of ["lime", "kernel_shap", "shapley_sampling"]) {
    assert.deepEqual(await page.locator(`.method[data-method="${name}"] .word`).allTextContents(), ["Dull", "but", "lovely", "."], name);
  }
  // Layer saliency shows every layer's reading with its coherence; the reported one is the most coherent.
  await choice("layer_saliency").check();
  await explain(page, "Dull but lovely.");
  const layers = page.locator('.method[data-method="layer_saliency"] .reading');
  assert.equal(await layers.count(), 6, "one reading per encoder layer of the default model");
  const coherence = (await layers.evaluateAll((els) => els.map((e) => parseFloat(e.dataset.score))));
  assert.ok(coherence.every((c) => c >= 0 && c <= 1), `${coherence}`);
  const best = coherence.indexOf(Math.max(...coherence));
  const reported = await page.locator('.method[data-method="layer_saliency"] > .highlighted .word').evaluateAll((els) => els.map((e) => e.dataset.score));
  assert.deepEqual(await layers.nth(best).locator(".word").evaluateAll((els) => els.map((e) => e.dataset.score)), reported);
  await choice("layer_saliency").uncheck();

  // Representation attribution: one reading per attributed dimension, and the encoder's two scores.
  await choice("representation").check();
  await explain(page, "Dull but lovely.");
  const representation = page.locator('.method[data-method="representation"]');
  assert.equal(await representation.locator(".reading").count(), 16);
  assert.match(await representation.locator(".encoder-scores").textContent(), /informativeness 0\.\d{3} · disentanglement 0\.\d{3}/);
  await choice("representation").uncheck();
  for (const name of ["lime", "kernel_shap", "shapley_sampling"]) await choice(name).uncheck();
  for (const name of ["integrated_gradients", "grad_sam", "saliency"]) await choice(name).check();
  await explain(page, "The plot is thin and the jokes fall flat.");

  // The Grad-SAM map: one cell per token pair of "[CLS] the plot is thin and the jokes fall flat . [SEP]" (12 tokens).
  await page.locator(".attention-map summary").click();
  await page.locator('.chart[data-chart="grad-sam"] svg').waitFor(); // drawn when opened
  assert.equal(await page.locator('.chart[data-chart="grad-sam"] svg rect title').count(), 12 * 12);

  // The model at a glance: the surrogate tree shipped with the default model, with its fidelity.
  const report = JSON.parse(await readFile(new URL("../../models/default/surrogate.json", import.meta.url), "utf8"));
  const panel = page.locator(".surrogate");
  assert.equal(parseFloat(await panel.getAttribute("data-test-fidelity")), Number(report.crembo.test_fidelity.toFixed(4)));
  await panel.locator("summary").click();
  assert.equal(await panel.locator('.chart[data-chart="surrogate"] svg rect[rx]').count(), 2 * report.crembo.leaves - 1, "one box per node");
  assert.match(await panel.textContent(), new RegExp(`held-out texts; .* on ${(100 * report.argmax_tree.test_fidelity).toFixed(1)}%`));

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "site.png"), fullPage: true });
  assert.equal(requests.length, afterLoad, `requests after load: ${requests.slice(afterLoad)}`);
  await page.close();
});

test("an out-of-date report is marked; right-to-left text keeps its direction and marks; unknown text is flagged", async () => {
  const { page } = await loadedPage(browser, origin);
  await explain(page, "A gorgeous, witty, seductive movie.");
  assert.equal(await page.locator(".report.stale").count(), 0);
  await page.fill("#text", "Flat.");
  assert.equal(await page.locator(".report.stale").count(), 1, "the report of another text is marked");
  assert.match(await page.locator(".stale-note").textContent(), /for “A gorgeous, witty, seductive movie\.”/);
  assert.equal(await page.locator(".report.stale > .explanation").evaluate((e) => getComputedStyle(e).opacity), "0.45", "dimmed");
  await explain(page, "Flat.");
  assert.equal(await page.locator(".report.stale").count(), 0);

  // Arabic, with tanween ending both words: read right to left, the marks inside their words' spans.
  await explain(page, "كتابٌ جميلٌ.");
  assert.equal(await page.locator("#text").getAttribute("dir"), "auto");
  const row = page.locator('.method[data-method="grad_sam"] .highlighted');
  assert.equal(await row.evaluate((e) => getComputedStyle(e).direction), "rtl");
  assert.deepEqual((await row.locator(".word").allTextContents()).slice(0, 2), ["كتابٌ", "جميلٌ"]);

  // Emoji only: the vocabulary knows none of them, and the page says so beside the prediction.
  await explain(page, "🎬🎬 🍿 ✨✨");
  assert.match(await page.locator(".prediction .warning").textContent(), /3 of this text's 3 tokens are unknown/);
  await explain(page, "A gorgeous movie 🎬.");
  assert.equal(await page.locator(".prediction .warning").count(), 0);
  await page.close();
});

test("a reader can read it: the class each row explains, a switch to the other, metrics in plain words, a phone", async () => {
  const { page } = await loadedPage(browser, origin);
  await explain(page, "A gorgeous, witty, seductive movie.");
  const rows = page.locator(".method");
  // Every row names its method and the class its colours explain, with the legend beside it.
  assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.dataset.explains)), ["positive", "positive", "positive"]);
  assert.match(await rows.first().locator("h3").textContent(), /^Grad-SAM · explains positive/);
  assert.equal(await page.locator(".method .legend").count(), 3);
  assert.match(await rows.first().locator(".legend").textContent(), /supports positive.*speaks against positive/);
  assert.match(await page.locator(".explained").textContent(), /The colours explain positive \(the prediction\)/);
  const ig = page.locator('.method[data-method="integrated_gradients"] .word');
  const gorgeous = async () => parseFloat(await ig.nth(1).getAttribute("data-score"));
  assert.ok((await gorgeous()) > 0, "gorgeous supports positive");

  // One click explains the other class: the same word now speaks against it, drawn in red.
  const before = Number(await page.locator("main").getAttribute("data-finished"));
  await page.locator('.switch-class[data-class="negative"]').click();
  await page.locator(`main[data-finished="${before + 1}"][aria-busy="false"]`).waitFor({ timeout: 120_000 });
  assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.dataset.explains)), ["negative", "negative", "negative"]);
  assert.match(await page.locator(".explained").textContent(), /The colours explain negative \(not the prediction\)/);
  assert.ok((await gorgeous()) < 0, "gorgeous speaks against negative");
  const [r, g, b] = (await ig.nth(1).evaluate((e) => getComputedStyle(e).backgroundColor)).match(/\d+/g).map(Number);
  assert.ok(r > g && r > b, `red: ${r},${g},${b}`);

  // Metrics and curves in plain words, methods by their names everywhere.
  assert.deepEqual(await page.locator(".metric-help dt").allTextContents(),
    ["Comprehensiveness ↑", "Sufficiency ↓", "Log-odds ↓", "Deletion area ↓", "Insertion area ↑"]);
  assert.match(await page.locator(".metric-help dd").first().textContent(), /Higher: the highlighted words drove the prediction/);
  assert.match(await page.locator('.chart[data-chart="deletion"] figcaption').textContent(), /highest-scored first/);
  const desk = await page.locator(".table-wrap").evaluate((e) => [e.scrollWidth, e.clientWidth]);
  assert.ok(desk[0] <= desk[1], `on a desktop the metric table shows whole: ${desk}`);
  assert.deepEqual(await page.locator(".faithfulness tbody th").allTextContents(), ["Grad-SAM", "Integrated Gradients", "Occlusion"]);
  const legend = (await page.locator('.chart[data-chart="deletion"] svg text').allTextContents()).map((t) => t.trim());
  assert.ok(legend.includes("Integrated Gradients"), `chart legend: ${legend}`);

  // The Grad-SAM map of a long review keeps its labels at their size (the map scrolls sideways instead).
  await explain(page, REVIEW);
  await page.locator(".attention-map summary").click();
  const map = page.locator('.chart[data-chart="grad-sam"] svg');
  await map.waitFor();
  const scale = await map.evaluate((svg) => svg.getBoundingClientRect().width / svg.width.baseVal.value);
  assert.ok(Math.abs(scale - 1) < 0.01, `the map is drawn at its own size (scale ${scale})`);

  // A phone: nothing wider than the screen, the metrics stacked as "name: value" lines.
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the page fits a phone's width (${wide} px)`);
  const wrap = await page.locator(".table-wrap").evaluate((e) => [e.scrollWidth, e.clientWidth]);
  assert.ok(wrap[0] <= wrap[1], `the metric table is not clipped: ${wrap}`);
  assert.equal(await page.locator(".faithfulness td").first().evaluate((e) => getComputedStyle(e, "::before").content), '"Comprehensiveness: "');
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "site-phone.png"), fullPage: true });
  await page.close();
});

test("markup in the text stays text, and empty text gets a clear message", async () => {
  const { page } = await loadedPage(browser, origin);
  const xss = '<img src=x onerror="window.injected=1"><script>window.injected=2</script>';
  await explain(page, xss);
  assert.equal(await page.locator("main img, main script").count(), 0);
  assert.equal(await page.evaluate(() => window.injected), undefined);
  assert.ok((await page.locator(".method").first().textContent()).includes("<img"), "the markup is shown as text");

  // The exports of that explanation are made in the tab and stay inert: escaped text, no scripts.
  for (const [button, name] of [["HTML", "gradlens-integrated_gradients.html"], ["SVG", "gradlens-integrated_gradients.svg"]]) {
    const saved = page.waitForEvent("download");
    await page.locator('.method[data-method="integrated_gradients"] .export', { hasText: button }).click();
    const download = await saved;
    assert.equal(download.suggestedFilename(), name);
    const body = await readFile(await download.path(), "utf8");
    assert.ok(!/<script|<img|onerror=/i.test(body), `${name} is inert: ${body.slice(0, 200)}`);
    assert.ok(body.includes("&lt;"), `${name} escapes the markup`);
  }
  const json = page.waitForEvent("download");
  await page.locator(".explanation > .exports .export", { hasText: "JSON" }).click();
  const explanation = JSON.parse(await readFile(await (await json).path(), "utf8"));
  assert.equal(explanation.text, xss);
  assert.deepEqual(explanation.attributions.map((a) => a.method), ["grad_sam", "integrated_gradients", "occlusion"]);
  // The export holds the metric table the reader sees, value for value.
  const cells = await page.locator(".faithfulness tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.querySelectorAll("td")].map((td) => [td.dataset.metric, td.textContent])));
  assert.deepEqual(
    explanation.attributions.map((a) => a.metrics.map((m) => [m.metric, m.value.toFixed(3)])),
    cells,
  );
  // The page marks the method with the best mean rank over these metrics, ranked here from the export.
  const better = (m, than) => (m.lower_is_better ? m.value < than.value : m.value > than.value);
  const ranks = explanation.attributions.map((a) =>
    a.metrics.reduce((sum, m, k) => sum + 1 + explanation.attributions.filter((o) => better(o.metrics[k], m)).length, 0) / a.metrics.length);
  const best = explanation.attributions[ranks.indexOf(Math.min(...ranks))].method;
  assert.deepEqual(await page.locator(".method.most-faithful").evaluateAll((els) => els.map((e) => e.dataset.method)), [best]);
  assert.match(await page.locator(".verdict").textContent(), new RegExp(`mean rank ${Math.min(...ranks).toFixed(1)}`));
  assert.equal(await page.locator(".faithfulness tr.most-faithful").count(), 1);
  const wordTokens = explanation.tokens.filter((t) => t.word !== null).length;
  // The page's curves take 0%, 10%, ..., 100% of the tokens (a point per token on a text this short).
  const curve = explanation.attributions[0].metrics.find((m) => m.metric === "deletion_area").curve;
  assert.ok(wordTokens > 10, `${wordTokens} word tokens`);
  assert.deepEqual(curve.map((p) => Math.round(p.fraction * wordTokens)), [...Array(11).keys()].map((i) => Math.round((i * wordTokens) / 10)));

  await explain(page, "   ");
  await page.getByRole("alert").getByText("empty").waitFor();
  await page.close();
});
