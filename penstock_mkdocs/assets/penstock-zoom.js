// penstock: zoom, pan and full screen for diagrams drawn with `zoom: true`.
// Served from the site itself (no CDN). Works on the element Material draws the diagram in,
// from outside: Material keeps the SVG in a closed shadow root, so the diagram is moved and
// scaled as a whole with a CSS transform.
(function () {
  "use strict";
  var STEP = 1.25;
  var MIN = 0.2;
  var MAX = 8;

  function style() {
    if (document.getElementById("penstock-zoom-style")) return;
    var css = document.createElement("style");
    css.id = "penstock-zoom-style";
    css.textContent =
      ".penstock-zoom{position:relative;overflow:hidden;cursor:grab;touch-action:none;" +
      "border:1px solid var(--md-default-fg-color--lightest,#ddd);border-radius:4px}" +
      ".penstock-zoom.penstock-dragging{cursor:grabbing}" +
      ".penstock-zoom:fullscreen{background:var(--md-default-bg-color,#fff);padding:1rem}" +
      ".penstock-zoom-bar{position:absolute;top:4px;right:4px;z-index:1;display:flex;gap:2px}" +
      ".penstock-zoom-bar button{font:inherit;font-size:.7rem;padding:2px 6px;cursor:pointer;" +
      "color:var(--md-default-fg-color,#000);background:var(--md-default-bg-color,#fff);" +
      "border:1px solid var(--md-default-fg-color--lighter,#999);border-radius:3px}";
    document.head.appendChild(css);
  }

  function setup(box) {
    if (box.getAttribute("data-penstock-ready")) return;
    box.setAttribute("data-penstock-ready", "1");
    var state = { scale: 1, x: 0, y: 0 };
    function target() {
      return box.querySelector(".mermaid");
    }
    function apply() {
      var t = target();
      if (!t) return;
      t.style.transformOrigin = "0 0";
      t.style.transform =
        "translate(" + state.x + "px," + state.y + "px) scale(" + state.scale + ")";
      box.setAttribute("data-penstock-scale", String(state.scale));
    }
    function zoom(factor) {
      state.scale = Math.min(MAX, Math.max(MIN, state.scale * factor));
      apply();
    }
    var bar = document.createElement("div");
    bar.className = "penstock-zoom-bar";
    [
      ["+", "Zoom in", function () { zoom(STEP); }],
      ["\u2212", "Zoom out", function () { zoom(1 / STEP); }],
      ["1:1", "Reset zoom", function () { state = { scale: 1, x: 0, y: 0 }; apply(); }],
      ["Full screen", "Full screen", function () {
        if (document.fullscreenElement) document.exitFullscreen();
        else if (box.requestFullscreen) box.requestFullscreen();
      }],
    ].forEach(function (spec) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = spec[0];
      b.title = spec[1];
      b.setAttribute("aria-label", spec[1]);
      b.addEventListener("click", function (e) { e.stopPropagation(); spec[2](); });
      bar.appendChild(b);
    });
    box.appendChild(bar);
    // The wheel zooms only with Ctrl (or in full screen), so scrolling the page still works.
    box.addEventListener("wheel", function (e) {
      if (!e.ctrlKey && document.fullscreenElement !== box) return;
      e.preventDefault();
      zoom(e.deltaY < 0 ? STEP : 1 / STEP);
    }, { passive: false });
    var drag = null;
    box.addEventListener("pointerdown", function (e) {
      if (e.target.closest && e.target.closest(".penstock-zoom-bar")) return;
      drag = { x: e.clientX - state.x, y: e.clientY - state.y };
      box.classList.add("penstock-dragging");
    });
    window.addEventListener("pointermove", function (e) {
      if (!drag) return;
      state.x = e.clientX - drag.x;
      state.y = e.clientY - drag.y;
      apply();
    });
    window.addEventListener("pointerup", function () {
      drag = null;
      box.classList.remove("penstock-dragging");
    });
  }

  function scan() {
    style();
    var boxes = document.querySelectorAll(".penstock-zoom");
    for (var i = 0; i < boxes.length; i++) setup(boxes[i]);
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(scan); // Material's instant navigation
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scan);
  } else {
    scan();
  }
})();
