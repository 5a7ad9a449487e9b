// penstock: diagrams that fit the page. Served from the site itself (no CDN), on every host.
//
// 1. Colours. penstock draws overlay marks (recorded runs, `since:` changes, failures) as CSS
//    classes; their colours are custom properties in penstock.css with light and dark values.
//    Material draws each diagram into a closed shadow root that page CSS cannot reach, so the
//    same rules are appended to Mermaid's `themeCSS` (Mermaid puts it in each SVG's own style);
//    custom properties inherit into the shadow root, so the colours follow the page's scheme.
// 2. Fit. Each `.penstock-diagram` box, once Mermaid has drawn it, is fitted to the text column:
//    - it fits: left as drawn;
//    - scaled down to the column width if its labels stay at least MIN_LABEL_PX on screen;
//    - else a left-right flow is drawn top-down instead (its text is in the box's
//      `template.penstock-top-down`), if that fits;
//    - else it is shown at a legible size in a pan box with zoom buttons and a "wider than the
//      page" cue.
//    The box says what was done in `data-penstock-fit` (natural, scaled, flipped, pan) and the
//    scale in `data-penstock-scale`. It is done again when the window is resized.
(function () {
  "use strict";
  var MIN_LABEL_PX = 12;
  var MARK = "/* penstock-diagram-styles */";
  var flips = 0;

  // -- 1. Colours --------------------------------------------------------------------------

  function diagramRules() {
    var out = [];
    var sheets = document.styleSheets;
    for (var i = 0; i < sheets.length; i++) {
      var sheet = sheets[i];
      if (!sheet.href || !/\/penstock\.css(\?|$)/.test(sheet.href)) continue;
      var rules;
      try {
        rules = sheet.cssRules;
      } catch (e) {
        continue; // another origin: not ours
      }
      for (var j = 0; j < rules.length; j++) {
        var sel = rules[j].selectorText || "";
        // Graphviz's SVG rules (.penstock-svg) are for the page only.
        if (/\.ps_|stroke-miterlimit/.test(sel) && sel.indexOf("penstock-svg") < 0) {
          out.push(rules[j].cssText);
        }
      }
    }
    return out.join("\n");
  }

  function withRules(config) {
    var css = (config && config.themeCSS) || "";
    if (css.indexOf(MARK) >= 0) return config;
    var copy = Object.assign({}, config);
    copy.themeCSS = css + "\n" + MARK + "\n" + diagramRules();
    return copy;
  }

  // Called with the global `mermaid` as soon as it exists (here, or by penstock-mermaid.mjs).
  function prepare(m) {
    if (!m || m.__penstock) return;
    m.__penstock = true;
    var initialize = m.initialize;
    m.initialize = function (config) {
      return initialize.call(m, withRules(config || {}));
    };
    var render = m.render;
    if (typeof render === "function") {
      // A host that initialized Mermaid before this script ran (Material) gets the rules on
      // its next render: its site configuration is applied again with them.
      m.render = function () {
        var api = m.mermaidAPI;
        var current = api && api.getSiteConfig ? api.getSiteConfig() : null;
        if (current && (current.themeCSS || "").indexOf(MARK) < 0) {
          initialize.call(m, withRules(current));
        }
        return render.apply(m, arguments);
      };
    }
  }
  window.penstockPrepareMermaid = prepare;
  if (typeof window.mermaid !== "undefined") prepare(window.mermaid);

  // -- 2. Fit ------------------------------------------------------------------------------

  // The element Mermaid's drawing lives in, and the SVG when it can be seen (not in a closed
  // shadow root). Null while the diagram is not drawn yet.
  function drawing(box) {
    var host = null;
    var found = box.querySelectorAll(".mermaid");
    for (var i = 0; i < found.length; i++) {
      if (!found[i].closest(".penstock-flipped")) {
        host = found[i];
        break;
      }
    }
    if (!host) {
      // Graphviz's inline SVG (the svg option): drawn at build time.
      var inline = box.querySelector("svg.penstock-svg");
      return inline ? { host: inline, svg: inline } : null;
    }
    var root = host.shadowRoot || host;
    var svg = root.querySelector("svg[aria-roledescription]");
    if (svg) {
      if (svg.getAttribute("aria-roledescription") === "error") return null;
      return { host: host, svg: svg };
    }
    // Material replaces the <pre> with a <div> holding a closed shadow root once drawn.
    if (host.localName !== "pre" && !host.shadowRoot && host.getBoundingClientRect().height > 0) {
      return { host: host, svg: null };
    }
    return null;
  }

  function naturalWidth(d) {
    if (d.svg) {
      var w = parseFloat(d.svg.getAttribute("width"));
      if (w > 0) return w;
      return d.svg.viewBox.baseVal.width || d.svg.getBoundingClientRect().width;
    }
    return d.host.scrollWidth;
  }

  // The smallest label text, in CSS px, at the drawing's natural size.
  function labelPx(box, d) {
    if (d.svg) {
      var smallest = Infinity;
      var labels = d.svg.querySelectorAll(".nodeLabel, .edgeLabel, text");
      for (var i = 0; i < labels.length; i++) {
        if (!labels[i].textContent.trim()) continue;
        smallest = Math.min(smallest, parseFloat(getComputedStyle(labels[i]).fontSize));
      }
      // Graphviz draws in points: its SVG is wider in px than its user units.
      var units = d.svg.viewBox && d.svg.viewBox.baseVal ? d.svg.viewBox.baseVal.width : 0;
      var width = parseFloat(d.svg.getAttribute("width"));
      if (d.svg.classList.contains("penstock-svg") && units > 0 && width > 0) {
        smallest *= width / units;
      }
      if (smallest < Infinity) return smallest;
    }
    // A closed shadow root: Mermaid's configured size (notes in <small> are a step smaller).
    var size = 16;
    var api = window.mermaid && window.mermaid.mermaidAPI;
    var config = api && api.getSiteConfig ? api.getSiteConfig() : null;
    if (config) {
      size = parseFloat((config.themeVariables || {}).fontSize || config.fontSize) || 16;
    }
    return box.classList.contains("penstock-small") ? size * 0.83 : size;
  }

  // The horizontal padding and border around the drawing in its host (a <pre> has some).
  function chrome(host) {
    var style = getComputedStyle(host);
    var sides = ["paddingLeft", "paddingRight", "borderLeftWidth", "borderRightWidth"];
    var sum = 0;
    for (var i = 0; i < sides.length; i++) sum += parseFloat(style[sides[i]]) || 0;
    return sum;
  }

  function setScale(box, el, scale) {
    el.style.zoom = scale === 1 ? "" : String(scale);
    box.setAttribute("data-penstock-scale", scale.toFixed(3));
  }

  function reset(box) {
    var flipped = box.querySelector(".penstock-flipped");
    if (flipped) flipped.remove();
    var bar = box.querySelector(".penstock-wide-bar");
    if (bar) bar.remove();
    var pan = box.querySelector(".penstock-pan");
    if (pan) {
      while (pan.firstChild) pan.parentNode.insertBefore(pan.firstChild, pan);
      pan.remove();
    }
    var d = drawing(box);
    if (d) {
      d.host.style.zoom = "";
      if (d.svg) d.svg.style.zoom = "";
    }
    box.removeAttribute("data-penstock-fit");
    box.removeAttribute("data-penstock-scale");
  }

  function fit(box) {
    if (box.closest(".penstock-zoom") || box.querySelector(".penstock-zoom")) return true;
    var d = drawing(box);
    if (!d) return false;
    reset(box);
    var column = box.clientWidth - chrome(d.host);
    // The element scaled: the SVG itself when it can be seen, else its (shadow) host.
    d.scaled = d.svg || d.host;
    box.__penstockSvg = d.svg;
    var width = naturalWidth(d);
    var px = labelPx(box, d);
    if (!(column > 0) || width <= column + 0.5) {
      box.setAttribute("data-penstock-fit", "natural");
      setScale(box, d.scaled, 1);
      return true;
    }
    var scale = column / width;
    if (px * scale >= MIN_LABEL_PX) {
      setScale(box, d.scaled, scale);
      box.setAttribute("data-penstock-fit", "scaled");
      return true;
    }
    var template = box.querySelector("template.penstock-top-down");
    var topDown = template ? template.content.textContent : null;
    if (topDown && window.mermaid && typeof window.mermaid.render === "function") {
      flip(box, d, topDown, column, px);
    } else {
      pan(box, d, column, width, px);
    }
    return true;
  }

  function flip(box, d, text, column, px) {
    var id = "penstock-flip-" + ++flips;
    window.mermaid.render(id, text).then(
      function (result) {
        var holder = document.createElement("div");
        holder.className = "penstock-flipped mermaid-flipped";
        holder.innerHTML = result.svg;
        var legend = box.querySelector(".penstock-legend");
        box.insertBefore(holder, legend);
        if (result.bindFunctions) result.bindFunctions(holder);
        var svg = holder.querySelector("svg");
        var width = parseFloat(svg.getAttribute("width")) || svg.viewBox.baseVal.width;
        var scale = Math.min(1, column / width);
        if (px * scale >= MIN_LABEL_PX) {
          box.setAttribute("data-penstock-fit", "flipped");
          setScale(box, svg, scale);
        } else {
          holder.remove();
          pan(box, d, column, naturalWidth(d), px);
        }
      },
      function () {
        pan(box, d, column, naturalWidth(d), px);
      }
    );
  }

  function pan(box, d, column, width, px) {
    var legible = Math.min(1, MIN_LABEL_PX / px);
    var state = { scale: Math.max(column / width, legible) };
    var area = document.createElement("div");
    area.className = "penstock-pan";
    area.setAttribute("tabindex", "0");
    area.setAttribute("aria-label", "Diagram wider than the page: scroll or drag to see all of it");
    var outer = d.host;
    while (outer.parentNode && outer.parentNode !== box) outer = outer.parentNode;
    box.insertBefore(area, outer);
    area.appendChild(outer);
    var bar = document.createElement("div");
    bar.className = "penstock-wide-bar";
    var cue = document.createElement("span");
    cue.className = "penstock-wide-cue";
    cue.textContent = "\u2194 Wider than the page: drag or scroll sideways to see all of it";
    bar.appendChild(cue);
    function apply() {
      setScale(box, d.scaled, state.scale);
    }
    [
      ["\u2212", "Zoom out", function () { state.scale = Math.max(0.2, state.scale / 1.25); }],
      ["+", "Zoom in", function () { state.scale = Math.min(4, state.scale * 1.25); }],
      ["Fit width", "Fit the column (small text)", function () { state.scale = column / width; }],
      ["Legible", "Legible size", function () { state.scale = legible; }],
    ].forEach(function (spec) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = spec[0];
      b.title = spec[1];
      b.setAttribute("aria-label", spec[1]);
      b.addEventListener("click", function () {
        spec[2]();
        apply();
      });
      bar.appendChild(b);
    });
    box.insertBefore(bar, area);
    var drag = null;
    area.addEventListener("pointerdown", function (e) {
      drag = { x: e.clientX, y: e.clientY, left: area.scrollLeft, top: area.scrollTop };
      area.classList.add("penstock-dragging");
    });
    window.addEventListener("pointermove", function (e) {
      if (!drag) return;
      area.scrollLeft = drag.left - (e.clientX - drag.x);
      area.scrollTop = drag.top - (e.clientY - drag.y);
    });
    window.addEventListener("pointerup", function () {
      drag = null;
      area.classList.remove("penstock-dragging");
    });
    box.setAttribute("data-penstock-fit", "pan");
    apply();
  }

  function scan() {
    var boxes = document.querySelectorAll(".penstock-diagram");
    var waiting = [];
    for (var i = 0; i < boxes.length; i++) waiting.push(boxes[i]);
    var tries = 0;
    function step() {
      waiting = waiting.filter(function (box) {
        return !fit(box);
      });
      if (waiting.length && ++tries < 300) setTimeout(step, 100);
    }
    step();
  }

  // A host that draws a diagram again (sphinxcontrib-mermaid does on a theme change) replaces
  // the SVG that was fitted: fit the new one.
  if (typeof MutationObserver !== "undefined") {
    var redraw = null;
    new MutationObserver(function () {
      clearTimeout(redraw);
      redraw = setTimeout(function () {
        var boxes = document.querySelectorAll(".penstock-diagram[data-penstock-fit]");
        for (var i = 0; i < boxes.length; i++) {
          var d = drawing(boxes[i]);
          if (d && d.svg && d.svg !== boxes[i].__penstockSvg) fit(boxes[i]);
        }
      }, 100);
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  var timer = null;
  var lastWidth = window.innerWidth;
  window.addEventListener("resize", function () {
    if (window.innerWidth === lastWidth) return;
    lastWidth = window.innerWidth;
    clearTimeout(timer);
    timer = setTimeout(scan, 200);
  });

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(scan); // Material's instant navigation
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scan);
  } else {
    scan();
  }
})();
