// Accessibility: axe-core (npm) finds no serious or critical violation on the page with a full report,
// on a post with a light and a dark widget, or in the iframe; the keyboard reaches every control, and
// Ctrl+Enter explains.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { DIST, explain, finished, launch, serveDist } from "./harness.mjs";

const AXE = new URL("../../node_modules/axe-core/axe.min.js", import.meta.url).pathname;
const POST = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title></head><body><main>
<h1>Two widgets</h1>
<gradlens-explain src="/demo/" text="A gorgeous, witty, seductive movie." methods="integrated_gradients,grad_sam" editable curve></gradlens-explain>
<gradlens-explain src="/demo/" text="The plot is thin and the jokes fall flat." methods="saliency" theme="dark" editable></gradlens-explain>
<script type="module" src="/demo/loader.js"></script></main></body></html>`;

let site, browser, context;

before(async () => {
  site = await serveDist({ roots: { "/demo/": DIST }, pages: { "/post.html": POST } });
  browser = await launch();
  // axe is added as a script of the test's own: past the page's Content-Security-Policy.
  context = await browser.newContext({ bypassCSP: true });
});

after(async () => {
  await browser?.close();
  site?.close();
});

/** The serious and critical violations axe finds in `frame` (a page or a frame), one line each. */
async function violations(frame) {
  await frame.addScriptTag({ path: AXE });
  const found = await frame.evaluate(async () => (await globalThis.axe.run(document, { resultTypes: ["violations"] })).violations);
  return found
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

test("the page with a full report has no serious or critical violation; the keyboard reaches and runs everything", async () => {
  const page = await context.newPage();
  await page.goto(`${site.origin}/demo/`);
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });

  // Ctrl+Enter in the text box explains.
  const before = await finished(page);
  await page.locator("#text").focus();
  await page.keyboard.press("Control+Enter");
  await page.locator(`main[data-finished="${before + 1}"][aria-busy="false"]`).waitFor({ timeout: 120_000 });
  assert.equal(await page.locator(".method").count(), 3, "Ctrl+Enter explained the text");

  for (const summary of [".embed summary", ".attention-map summary", ".surrogate summary"]) await page.locator(summary).click();
  assert.deepEqual(await violations(page), []);

  // Tab from the top reaches every control of the form, the switches and the exports.
  await page.locator("body").focus();
  const reached = new Set();
  for (let i = 0; i < 120; i++) {
    await page.keyboard.press("Tab");
    reached.add(await page.evaluate(() => {
      const e = document.activeElement;
      return e?.id ? `#${e.id}` : e?.matches("input") ? `input[value="${e.value}"]` : e?.className ? `.${e.className.split(" ")[0]}` : e?.tagName;
    }));
  }
  for (const control of ["#text", "#explain", 'input[value="integrated_gradients"]', 'input[value="lime"]', "#backend", ".switch-class", ".export", ".word"]) {
    assert.ok(reached.has(control), `Tab reaches ${control}: ${[...reached].join(" ")}`);
  }
  await page.close();
});

test("widgets (light and dark) and the iframe have no serious or critical violation", async () => {
  const post = await context.newPage();
  await post.goto(`${site.origin}/post.html`);
  await post.waitForFunction(() => {
    const widgets = [...document.querySelectorAll(".gradlens-widget")];
    return widgets.length === 2 && widgets.every((w) => w.querySelector(".gl-prediction") && w.getAttribute("aria-busy") === "false");
  }, null, { timeout: 180_000 });
  assert.deepEqual(await violations(post), []);
  // Ctrl+Enter in a widget's text box explains too.
  const box = post.locator(".gradlens-widget textarea").first();
  await box.fill("Flat, dull and far too long.");
  await box.press("Control+Enter");
  await post.locator(".gradlens-widget .gl-prediction", { hasText: "negative" }).first().waitFor({ timeout: 120_000 });
  await post.close();

  const host = await context.newPage();
  await host.setContent(`<!doctype html><html lang="en"><head><title>Embedded</title></head><body><main><h1>Embedded</h1>
    <iframe src="${site.origin}/demo/?embed&text=A%20gorgeous%20movie.&methods=integrated_gradients&curve=true" title="GradLens explanation" width="640" height="900"></iframe></main></body></html>`);
  const frame = host.frames().find((f) => f.url().includes("embed"));
  await frame.locator('.gradlens-widget[aria-busy="false"] .chart svg').waitFor({ timeout: 180_000 });
  assert.deepEqual(await violations(frame), []);
  await host.close();
});
