// Sizes the GradLens iframes of a page to their content: each frame tells its height when it changes
// (web/src/widget.rs), and this script, on the embedding page, applies it. One script for any number of frames.
addEventListener("message", (event) => {
  const height = Number(event.data?.height);
  if (event.data?.kind !== "gradlens-height" || !Number.isFinite(height)) return;
  for (const frame of document.querySelectorAll("iframe")) {
    // The frame's own outer border, if any, comes on top of its content.
    if (frame.contentWindow === event.source) frame.height = String(Math.min(Math.ceil(height), 20000));
  }
});
