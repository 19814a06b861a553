// Embedding: the site served from a sub-path of a static host, two widgets on a blog post sharing one
// model download, the same widget in an <iframe>, and the full page's embed code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ARTIFACTS, DIST, launch, loadedPage, recordRequests, serveDist } from "./harness.mjs";

const POST = `<!doctype html><html><head><meta charset="utf-8"><title>A post</title></head><body>
<h1>My review of reviews</h1>
<gradlens-explain id="first" src="/demo/" text="A gorgeous, witty, seductive movie." methods="integrated_gradients,occlusion"></gradlens-explain>
<p>Some prose between the widgets.</p>
<gradlens-explain id="second" src="demo" text="The plot is thin &amp; the jokes fall flat." methods="saliency" theme="dark" curve></gradlens-explain>
<script type="module" src="/demo/loader.js"></script>
</body></html>`;

let site, browser;

before(async () => {
  site = await serveDist({ roots: { "/demo/": DIST }, pages: { "/post.html": POST } });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

const words = (widget) => widget.locator(".method .word").allTextContents();

test("two widgets on a post, served from a sub-path (spelt two ways), share one model download; the dark one is dark", async () => {
  const page = await browser.newPage();
  const requests = recordRequests(page, [], (url) => new URL(url).pathname);
  await page.goto(site.origin + "/post.html");
  const first = page.locator("#first .gradlens-widget");
  const second = page.locator("#second .gradlens-widget");
  // Highlights show first, then the curve: wait until each widget is done.
  for (const widget of [first, second]) await widget.locator(".gl-prediction").waitFor({ timeout: 180_000 });
  await page.waitForFunction(() => [...document.querySelectorAll(".gradlens-widget")].every((w) => w.getAttribute("aria-busy") === "false"), null, { timeout: 180_000 });

  assert.match(await first.locator(".gl-prediction").textContent(), /^positive/);
  assert.deepEqual(await first.locator(".method").evaluateAll((els) => els.map((e) => e.dataset.method)), ["integrated_gradients", "occlusion"]);
  assert.deepEqual((await words(first)).slice(0, 3), ["A", "gorgeous", ",", "witty", ",", "seductive", "movie", "."].slice(0, 3));
  assert.match(await second.locator(".gl-prediction").textContent(), /^negative/);
  assert.equal(await second.getAttribute("data-theme"), "dark");
  // Dark word boxes (the scale starts from the widget's background, not from white) and a dark chart.
  const shades = await second.locator(".word").evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  const brightness = (rgb) => rgb.match(/\d+/g).slice(0, 3).reduce((sum, c) => sum + Number(c), 0) / 3;
  assert.ok(shades.every((s) => brightness(s) < 128), `dark word boxes: ${shades}`);
  assert.equal(await second.locator(".chart svg > rect").first().evaluate((e) => getComputedStyle(e).fill), "rgba(0, 0, 0, 0)");
  assert.ok((await words(second)).includes("&"), "the text's markup-like characters are shown as text");
  assert.equal(await second.locator('.chart[data-chart="deletion"] svg polyline').count(), 1);
  assert.equal(await first.locator(".chart").count(), 0, "no curve unless asked");

  assert.equal(requests.filter((p) => p === "/demo/model/classifier.bpk.gz").length, 1, `one download: ${requests}`);
  assert.ok(requests.every((p) => p === "/post.html" || p.startsWith("/demo/")), `${requests}`);

  // Screenshots of the light and the dark widget, on a desktop and on a phone.
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "widgets-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, "widgets-phone.png"), fullPage: true });

  // Each row says which class it explains, with its legend; one click explains the other class.
  assert.deepEqual(await first.locator(".method").evaluateAll((els) => els.map((e) => e.dataset.explains)), ["positive", "positive"]);
  assert.equal(await first.locator(".method .legend").count(), 2);
  await first.locator('.gl-switch[data-class="negative"]').click();
  await first.locator('.method[data-explains="negative"]').first().waitFor({ timeout: 120_000 });
  await page.close();
});

test("the full page's embed code works in an iframe on another page", async () => {
  const { page } = await loadedPage(browser, site.origin, "/demo/");
  await page.fill("#text", "Flat, dull & far too long.");
  await page.locator(".embed summary").click();
  const iframe = await page.locator("#embed-iframe").inputValue();
  // The snippet's address, its `&` escaped for the attribute, carries the text and methods as typed.
  const src = new URL(iframe.match(/^<iframe src="([^"]*)"/)[1].replaceAll("&amp;", "&"));
  assert.equal(src.origin + src.pathname, `${site.origin}/demo/`);
  assert.ok(src.searchParams.has("embed"));
  assert.equal(src.searchParams.get("text"), "Flat, dull & far too long.");
  assert.equal(src.searchParams.get("methods"), "integrated_gradients,grad_sam,occlusion");
  assert.doesNotMatch(iframe.replaceAll("&amp;", ""), /&/, "every & of the address is escaped");
  const element = await page.locator("#embed-element").inputValue();
  assert.match(element, /<gradlens-explain src="http:\/\/127\.0\.0\.1:\d+\/demo\/" text="Flat, dull &amp; far too long\."/);
  await page.close();

  const host = await browser.newPage();
  await host.setContent(`<!doctype html><body><h1>Embedded</h1>${iframe}</body>`);
  const frame = host.frameLocator("iframe");
  await frame.locator(".gl-prediction").waitFor({ timeout: 180_000 });
  assert.match(await frame.locator(".gl-prediction").textContent(), /^negative/);
  assert.equal(await frame.locator("textarea").inputValue(), "Flat, dull & far too long.", "editable, with the text");
  assert.ok((await frame.locator(".method .word").allTextContents()).includes("dull"));
  await host.close();
});
