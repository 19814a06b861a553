// What a host that publishes the site meets: a dist/ with no development script, a strict
// Content-Security-Policy (the page's own, and a blog's for the widget and the iframe) under which the
// words keep their colours, an iframe sized to its content, and a loading line before the program arrives.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { DIST, launch, loadedPage, recordRequests, serveDist } from "./harness.mjs";

// The policy the README gives hosts (and index.html ships as a meta tag).
const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; connect-src 'self'; style-src 'self'; object-src 'none'; base-uri 'self'";
const locked = (body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title>
<meta http-equiv="Content-Security-Policy" content="${POLICY}"></head><body><h1>A locked-down post</h1>${body}</body></html>`;
const WIDGET = `<gradlens-explain src="/demo/" text="A gorgeous, witty, seductive movie." methods="integrated_gradients"></gradlens-explain>
<script type="module" src="/demo/loader.js"></script>`;

let site, browser;
const pages = { "/widget.html": locked(WIDGET) };

before(async () => {
  site = await serveDist({ roots: { "/demo/": DIST }, pages });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

/** Records every policy violation the page sees: its events, and the console lines Chromium writes for
 * violations anywhere (its workers included). */
async function watchViolations(page) {
  const violations = [];
  page.on("console", (m) => /Content.Security.Policy/i.test(m.text()) && violations.push(m.text()));
  await page.exposeFunction("reportViolation", (v) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => window.reportViolation(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  return violations;
}

/** The background colour the reader sees on the word `text` of `row`. */
const background = (row, text) => row.locator(".word", { hasText: text }).first().evaluate((e) => getComputedStyle(e).backgroundColor);

test("dist/ holds no development script, and the page opens no socket, stream or beacon", async () => {
  const files = (await readdir(DIST, { recursive: true })).filter((f) => /\.(html|js)$/.test(f));
  for (const file of files) {
    const text = await readFile(join(DIST, file), "utf8");
    assert.doesNotMatch(text, /__trunk|new WebSocket|EventSource|sendBeacon/, `${file} has a development or reporting script`);
  }
  // recordRequests counts WebSockets with the requests (a live reload reconnects every few seconds).
  const { page, requests } = await loadedPage(browser, site.origin, "/demo/");
  const loaded = requests.length;
  await page.waitForTimeout(6_000);
  assert.deepEqual(requests.slice(loaded), [], "nothing after load");
  await page.close();
});

test("the page, a widget and an iframe work under a strict Content-Security-Policy, colours included", async () => {
  const page = await browser.newPage();
  const violations = await watchViolations(page);
  await page.goto(`${site.origin}/demo/`);
  assert.equal(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content"), POLICY, "index.html ships the policy");
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
  assert.match(await page.locator(".status").textContent(), /security policy lets it connect to its own site only/);
  const icon = await fetch(new URL(await page.locator('link[rel="icon"]').getAttribute("href"), page.url()));
  assert.equal(icon.status, 200, "the favicon is served");
  await page.fill("#text", "A gorgeous, witty, seductive movie.");
  await page.click("#explain");
  await page.locator('main[data-finished="1"][aria-busy="false"]').waitFor({ timeout: 120_000 });
  const ig = page.locator('.method[data-method="integrated_gradients"]');
  assert.equal(await background(ig, "gorgeous"), "rgb(33, 102, 172)", "the strongest word in full blue");
  assert.equal(await page.locator(".legend .swatch").first().evaluate((e) => getComputedStyle(e).backgroundColor), "rgb(33, 102, 172)");
  // The embed snippet, for the iframe test below.
  await page.locator(".embed summary").click();
  const snippet = await page.locator("#embed-iframe").inputValue();
  assert.deepEqual(violations, [], "the page");
  await page.close();

  const post = await browser.newPage();
  const widgetViolations = await watchViolations(post);
  await post.goto(`${site.origin}/widget.html`);
  const widget = post.locator(".gradlens-widget");
  await post.waitForFunction(() => document.querySelector(".gradlens-widget .gl-prediction") && document.querySelector(".gradlens-widget").getAttribute("aria-busy") === "false", null, { timeout: 180_000 });
  assert.equal(await background(widget, "gorgeous"), "rgb(33, 102, 172)");
  assert.equal(await widget.evaluate((e) => getComputedStyle(e).borderRadius), "6px", "the widget's own styles apply");
  assert.deepEqual(widgetViolations, [], "the widget");
  await post.close();

  pages["/frame.html"] = locked(snippet);
  const host = await browser.newPage();
  const frameViolations = await watchViolations(host);
  await host.goto(`${site.origin}/frame.html`);
  const frame = host.frameLocator("iframe");
  await frame.locator('.gradlens-widget[aria-busy="false"] .gl-prediction').waitFor({ timeout: 180_000 });
  assert.equal(await background(frame.locator('.method[data-method="integrated_gradients"]'), "gorgeous"), "rgb(33, 102, 172)");
  assert.deepEqual(frameViolations, [], "the iframe and its host");
  await host.close();
});

test("the iframe fits its content: sized by embed.js, and a default that holds the default example", async () => {
  const page = await browser.newPage();
  await page.goto(`${site.origin}/demo/`);
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
  await page.locator(".embed summary").click();
  const snippet = await page.locator("#embed-iframe").inputValue();
  await page.close();
  // Inner height and content height of the frame, once its explanation (curve included) is done.
  const measure = async (html) => {
    const host = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await host.setContent(`<!doctype html><body><h1>Embedded</h1>${html}<p>After the frame.</p></body>`);
    const frame = host.frameLocator("iframe");
    await frame.locator('.gradlens-widget[aria-busy="false"] .chart svg').waitFor({ timeout: 180_000 });
    await host.waitForTimeout(500);
    const inner = await frame.locator("html").evaluate((e) => ({ content: e.scrollHeight, view: e.clientHeight }));
    await host.close();
    return inner;
  };
  const sized = await measure(snippet);
  assert.ok(sized.content <= sized.view, `with embed.js the frame shows everything: ${JSON.stringify(sized)}`);
  const plain = await measure(snippet.split("\n")[0]);
  assert.ok(plain.content <= plain.view, `without it, the default height holds the default example: ${JSON.stringify(plain)}`);
});

test("before the program arrives the page says what it is loading", async () => {
  const page = await browser.newPage();
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route("**/gradlens-web_bg.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${site.origin}/demo/`);
  const boot = page.locator("#gradlens-boot");
  assert.match(await boot.textContent(), /Loading GradLens/);
  assert.ok(await boot.isVisible());
  release();
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
  assert.equal(await boot.count(), 0, "the page replaces the loading line");
  await page.close();
});
