// Layout of this site (not shipped with penstock): code in a table cell that has no space (a
// name, an option like `--allow-problems`) never breaks inside; code with spaces (a message)
// wraps like prose, so tables fit the text column.
(function () {
  function mark() {
    var codes = document.querySelectorAll(".md-typeset table:not([class]) td code");
    for (var i = 0; i < codes.length; i++) {
      if (!/\s/.test(codes[i].textContent)) codes[i].classList.add("site-nobreak");
    }
  }
  if (window.document$ && window.document$.subscribe) window.document$.subscribe(mark);
  else document.addEventListener("DOMContentLoaded", mark);
})();
