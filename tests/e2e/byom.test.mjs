// Bring your own model: tools/build_site.sh turns a model folder into a static site. The second model
// is the tiny fixture under another name, with its own class names, description and examples; the site
// is served from a sub-path, must say what the folder says and must predict what the tiny model
// predicts natively (the CLI), not what the default model does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { launch, loadedPage, serveDist } from "./harness.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const WORK = new URL("../../target/byom/", import.meta.url).pathname;
const TEXT = "A gorgeous, witty, seductive movie.";

let site, browser, native;

before(async () => {
  const cli = execFileSync("cargo", ["run", "--quiet", "-p", "gradlens-cli", "--features", "fixtures", "--", "explain", "--model", "tiny",
    "-m", "saliency", "--format", "json", TEXT], { cwd: ROOT, encoding: "utf8" });
  native = JSON.parse(cli).probabilities;

  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  const model = WORK + "model/";
  await cp(ROOT + "models/tiny/", model, { recursive: true });
  const config = JSON.parse(await readFile(model + "config.json", "utf8"));
  Object.assign(config, {
    name: "tiny-critic",
    labels: ["thumbs down", "thumbs up"],
    description: "A very small critic <b>for tests</b>.",
    examples: ["Lovely, lovely film.", "Dreary."],
  });
  await writeFile(model + "config.json", JSON.stringify(config));
  execFileSync("tools/build_site.sh", [model, WORK + "site"], { cwd: ROOT, stdio: "inherit" });

  site = await serveDist({ roots: { "/critic/": WORK + "site/" } });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

test("a site built from another model folder serves that model", async () => {
  const { page, requests } = await loadedPage(browser, site.origin, "/critic/");
  assert.ok(requests.some((url) => url.endsWith("/critic/model/classifier.bpk.gz")));
  assert.equal(await page.locator(".about").textContent(), "A very small critic <b>for tests</b>.", "shown as text");
  assert.deepEqual(await page.locator(".example").allTextContents(), ["Lovely, lovely film.", "Dreary."]);
  assert.equal(await page.inputValue("#text"), "Lovely, lovely film.", "the first example is filled in");
  assert.equal(await page.locator(".surrogate").count(), 0, "no surrogate in the folder, no panel");

  await page.fill("#text", TEXT);
  await page.click("#explain");
  await page.locator('main[data-finished="1"][aria-busy="false"]').waitFor({ timeout: 120_000 });
  const shown = await page.locator(".bar").evaluateAll((bars) =>
    bars.map((b) => [b.dataset.label, parseFloat(b.lastElementChild.textContent)]));
  assert.deepEqual(shown.map(([label]) => label), ["thumbs down", "thumbs up"]);
  shown.forEach(([label, percent], i) =>
    assert.ok(Math.abs(percent - 100 * native[i]) < 0.06, `${label}: page ${percent}%, tiny model natively ${100 * native[i]}%`));
  assert.deepEqual(await page.locator('.method[data-method="integrated_gradients"] .word').allTextContents(),
    ["A", "gorgeous", ",", "witty", ",", "seductive", "movie", "."]);
  await page.close();
});
