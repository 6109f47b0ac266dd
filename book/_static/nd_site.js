/* Normalize & Drop: make the sidebar buttons work (on phones and on the desktop).
 *
 * pydata-sphinx-theme 0.17 renders its own sidebar toggles in the top navbar, and
 * sphinx-book-theme renders the ones people see in the article header (the navbar ones are
 * hidden by CSS). Both themes then attach their click handlers to
 * document.querySelector(".primary-toggle") / (".secondary-toggle"): the FIRST match, which
 * is the hidden navbar button, so the visible buttons do nothing (pydata-sphinx-theme
 * issue #2451). This script is loaded with `defer` in <head>, so it runs after the page is
 * parsed and before the themes' own scripts look the buttons up: it removes the hidden
 * duplicates, and the themes' handlers land on the visible buttons.
 */
(function () {
  ["primary-toggle", "secondary-toggle"].forEach(function (cls) {
    var buttons = document.querySelectorAll("." + cls);
    if (buttons.length < 2) return;
    document.querySelectorAll(".bd-header ." + cls).forEach(function (button) {
      button.remove();
    });
  });
})();

/* Keyboard access to what scrolls sideways (WCAG 2.1.1, axe rule scrollable-region-focusable):
 * a code block, an output, an equation or a figure wider than its box (on a narrow screen)
 * becomes focusable, so that the arrow keys scroll it. Checked again when the window is resized.
 */
(function () {
  var SELECTOR = "article.bd-article pre, article.bd-article mjx-container[display='true'], " +
                 "article.bd-article .cell_output figure";
  function mark() {
    document.querySelectorAll(SELECTOR).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 &&
                    ["auto", "scroll"].indexOf(getComputedStyle(el).overflowX) >= 0;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.dataset.ndScrollFocus = "1";
      } else if (!scrolls && el.dataset.ndScrollFocus) {
        el.removeAttribute("tabindex");
        delete el.dataset.ndScrollFocus;
      }
    });
  }
  var pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(mark, 200); }
  window.addEventListener("load", function () {
    mark();
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(mark);
  });
  window.addEventListener("resize", later);
  document.addEventListener("toggle", later, true);  // a "show code" box was opened
  document.addEventListener("click", later);  // a solution dropdown was opened
})();
