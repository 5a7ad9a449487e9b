// Draws <pre class="mermaid"><code>...</code></pre> blocks (what penstock and pymdownx
// superfences emit) on themes that do not render Mermaid themselves, e.g. MkDocs' own themes.
// Loaded after mermaid.min.js; Material for MkDocs renders them itself and does not get this.
(function () {
  if (typeof mermaid === "undefined") {
    return;
  }
  mermaid.initialize({ startOnLoad: false });
  function draw() {
    var blocks = document.querySelectorAll("pre.mermaid");
    blocks.forEach(function (pre) {
      // Mermaid reads the element's HTML: keep the text only, as the <code> wrapper would break it.
      pre.textContent = pre.textContent;
    });
    if (blocks.length) {
      mermaid.run({ nodes: blocks });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
