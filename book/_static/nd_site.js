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
