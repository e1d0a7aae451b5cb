// gradstep's shared page script: the window.gradstep namespace, embedded data, deep links and keys.
// Every page view (stepper, training viewer) is built on these few helpers; none of them computes
// anything about the graph: numbers arrive formatted from Python.
(function () {
  "use strict";
  const gradstep = (window.gradstep = window.gradstep || {});

  // The JSON embedded by autograd.drawing.pages.build_page under <script id=...>.
  gradstep.data = function (id) {
    const element = document.getElementById(id || "gradstep-data");
    if (!element) throw new Error("gradstep: no embedded data with id " + (id || "gradstep-data"));
    return JSON.parse(element.textContent);
  };

  // The step named by the address, "#step=N" (N from 0), clamped to [0, count - 1]; null if absent.
  gradstep.stepFromHash = function (count) {
    const match = /(?:^#|&)step=(-?\d+)/.exec(window.location.hash || "");
    if (!match) return null;
    const n = parseInt(match[1], 10);
    if (!isFinite(n) || count <= 0) return null;
    return Math.max(0, Math.min(count - 1, n));
  };

  // Keep "#step=N" in the address bar without adding history entries (sandboxed frames may refuse).
  gradstep.setHash = function (n) {
    try {
      history.replaceState(null, "", "#step=" + n);
    } catch (error) {
      /* an opaque-origin iframe cannot change its URL: deep links still work on open */
    }
  };

  // Follow later edits of the address ("#step=12" typed or clicked in a link).
  gradstep.onHashChange = function (count, go) {
    window.addEventListener("hashchange", function () {
      const n = gradstep.stepFromHash(count);
      if (n !== null) go(n);
    });
  };

  // Keys for this page only: ignored while the user types in a form field. Inside a notebook the page
  // runs in its own iframe, so these handlers never see keys typed in the notebook's cells.
  gradstep.onKeys = function (bindings) {
    document.addEventListener("keydown", function (event) {
      const target = event.target;
      const tag = target && target.tagName ? target.tagName.toLowerCase() : "";
      if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const action = bindings[event.key];
      if (action) {
        event.preventDefault();
        action(event);
      }
    });
  };
})();
