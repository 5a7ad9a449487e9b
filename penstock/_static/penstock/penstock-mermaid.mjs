// The ES module face of the classic mermaid.min.js beside this file, for hosts that
// `import mermaid from "..."` (sphinxcontrib-mermaid). Shipped with penstock, served with the
// site: no CDN request.
if (typeof globalThis.mermaid === "undefined") {
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL("./mermaid.min.js", import.meta.url).href;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`penstock: cannot load ${script.src}`));
    document.head.appendChild(script);
  });
}
// penstock-diagrams.js (a classic script, run before this module) hands penstock's colour
// rules to Mermaid.
if (typeof globalThis.penstockPrepareMermaid === "function") {
  globalThis.penstockPrepareMermaid(globalThis.mermaid);
}
globalThis.mermaid.initialize({ startOnLoad: false });
export default globalThis.mermaid;
