// gradstep's shared page script: the window.gradstep namespace, embedded data, deep links, keys, and a
// pan/zoom view of an inline SVG. Every page view (stepper, training viewer) is built on these few
// helpers; none of them computes anything about the graph: numbers arrive formatted from Python.
//
// API (all on window.gradstep):
//   data(id)                 the JSON embedded by build_page (default id "gradstep-data").
//   stepFromHash(count)      the N of "#step=N" clamped to [0, count-1], or null.
//   setHash(n)               write "#step=n" without a history entry (silently skipped in sandboxes).
//   onHashChange(count, go)  call go(n) when the address's "#step=N" changes.
//   onKeys(bindings)         {key: action} for document keys, ignored while typing in form fields
//                            (and Space/Enter on a focused button, which press the button itself).
//   svgView(container, svg, options) -> view: pan and zoom an inline <svg> inside `container`:
//       the wheel (and a touchpad pinch) zooms around the pointer, dragging pans, two fingers pinch.
//       view.fit()                     the whole drawing, centred (never above options.maxScale).
//       view.show(elements, options)   bring every element into view at a legible zoom:
//           options.legible: elements whose text must stay readable (default: all of `elements`);
//           options.minTextPx: the smallest on-screen font size allowed (default 11 px);
//           options.padding: screen pixels kept free around them (default 24).
//         It moves as little as it can: nothing if they are already in view at a legible zoom, a pan
//         if they fit at the current zoom, else a zoom to the largest scale that fits them all (never
//         below legible; if they cannot all fit legibly, the first element is centred).
//       view.zoom(factor, [clientX, clientY])  zoom around a screen point (default: the centre).
//       view.scale()                   screen pixels per SVG user unit.
//       view.visible(element)          true when the element's box lies inside the container.
//       options.maxScale (default 2.5), options.minScale (default 0.02), options.onChange(view).
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
      // Space and Enter on a focused button press that button (the browser's own behaviour); handling
      // them here as well would act twice (play, then pause at once).
      if (tag === "button" && (event.key === " " || event.key === "Enter")) return;
      const action = bindings[event.key];
      if (action) {
        event.preventDefault();
        action(event);
      }
    });
  };

  // ---- pan and zoom of an inline SVG ------------------------------------------------------------
  // The view is the SVG's viewBox: [x, y] is the user-space point at the container's top-left corner,
  // `scale` the screen pixels per user unit. The viewBox always has the container's aspect ratio.
  gradstep.svgView = function (container, svg, options) {
    options = options || {};
    const maxScale = options.maxScale || 2.5;
    const minScale = options.minScale || 0.02;
    const base = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width
      ? svg.viewBox.baseVal
      : { x: 0, y: 0, width: svg.getBBox().width, height: svg.getBBox().height };
    const extent = { x: base.x, y: base.y, width: base.width, height: base.height };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    svg.style.width = "100%";
    svg.style.height = "100%";
    svg.style.display = "block";
    container.classList.add("gradstep-svg-view");
    const state = { x: extent.x, y: extent.y, scale: 1 };

    function size() {
      return { width: container.clientWidth || 1, height: container.clientHeight || 1 };
    }
    function apply() {
      const s = size();
      svg.setAttribute("viewBox", [state.x, state.y, s.width / state.scale, s.height / state.scale].join(" "));
      if (options.onChange) options.onChange(view);
    }
    function clampScale(scale) {
      return Math.max(minScale, Math.min(maxScale, scale));
    }
    // The box of an element in SVG user units, from its on-screen box and the current view.
    function userBox(element) {
      const r = element.getBoundingClientRect();
      const c = container.getBoundingClientRect();
      return {
        left: state.x + (r.left - c.left) / state.scale,
        top: state.y + (r.top - c.top) / state.scale,
        right: state.x + (r.right - c.left) / state.scale,
        bottom: state.y + (r.bottom - c.top) / state.scale,
        height: r.height / state.scale,
      };
    }
    function zoom(factor, clientX, clientY) {
      const c = container.getBoundingClientRect();
      const px = clientX === undefined ? c.width / 2 : clientX - c.left;
      const py = clientY === undefined ? c.height / 2 : clientY - c.top;
      const ux = state.x + px / state.scale;
      const uy = state.y + py / state.scale;
      state.scale = clampScale(state.scale * factor);
      state.x = ux - px / state.scale;
      state.y = uy - py / state.scale;
      apply();
    }
    function fit() {
      const s = size();
      state.scale = clampScale(Math.min(s.width / extent.width, s.height / extent.height, maxScale));
      state.x = extent.x - (s.width / state.scale - extent.width) / 2;
      state.y = extent.y - (s.height / state.scale - extent.height) / 2;
      apply();
    }
    function textHeight(element) {
      // The smallest font size of the <text> inside (or of the element itself if it is one), in user
      // units. The font size, not a measured box: boxes of text drawn tiny are rounded up by the font
      // engine, so they would promise a legibility that is not there.
      const texts = element.tagName.toLowerCase() === "text" ? [element] : Array.from(element.querySelectorAll("text"));
      let smallest = 0;
      texts.forEach(function (t) {
        const ctm = t.getCTM();
        // The font-size attribute (Graphviz and the stepper set one) avoids a style recalculation.
        const own = parseFloat(t.getAttribute("font-size")) || parseFloat(window.getComputedStyle(t).fontSize) || 0;
        const h = ctm ? own * Math.abs(ctm.d) / state.scale : own;
        if (h > 0 && (smallest === 0 || h < smallest)) smallest = h;
      });
      return smallest;
    }
    function show(elements, showOptions) {
      showOptions = showOptions || {};
      const items = elements.filter(Boolean);
      if (!items.length) return;
      const padding = showOptions.padding === undefined ? 24 : showOptions.padding;
      const minTextPx = showOptions.minTextPx || 11;
      const legible = (showOptions.legible || items).filter(Boolean);
      const boxes = items.map(userBox);
      const box = boxes.reduce(function (a, b) {
        return {
          left: Math.min(a.left, b.left), top: Math.min(a.top, b.top),
          right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom),
        };
      });
      let tallestText = 0;
      legible.forEach(function (element) {
        const h = textHeight(element);
        if (h > 0 && (tallestText === 0 || h < tallestText)) tallestText = h;
      });
      const legibleScale = tallestText > 0 ? clampScale(minTextPx / tallestText) : minScale;
      const s = size();
      const room = { width: Math.max(1, s.width - 2 * padding), height: Math.max(1, s.height - 2 * padding) };
      const fitScale = Math.min(room.width / Math.max(box.right - box.left, 1e-9), room.height / Math.max(box.bottom - box.top, 1e-9));
      let scale = state.scale;
      if (scale < legibleScale) scale = legibleScale;
      if (scale > fitScale) scale = Math.max(legibleScale, fitScale);
      scale = clampScale(scale);
      const changed = scale !== state.scale;
      state.scale = scale;
      const viewWidth = s.width / scale;
      const viewHeight = s.height / scale;
      const pad = padding / scale;
      const fits = box.right - box.left <= viewWidth - 2 * pad && box.bottom - box.top <= viewHeight - 2 * pad;
      if (fits) {
        // Pan as little as possible: only the sides that stick out move the view.
        if (changed) {
          state.x = (box.left + box.right) / 2 - viewWidth / 2;
          state.y = (box.top + box.bottom) / 2 - viewHeight / 2;
        }
        if (box.left - pad < state.x) state.x = box.left - pad;
        if (box.right + pad > state.x + viewWidth) state.x = box.right + pad - viewWidth;
        if (box.top - pad < state.y) state.y = box.top - pad;
        if (box.bottom + pad > state.y + viewHeight) state.y = box.bottom + pad - viewHeight;
      } else {
        const first = boxes[0];
        state.x = (first.left + first.right) / 2 - viewWidth / 2;
        state.y = (first.top + first.bottom) / 2 - viewHeight / 2;
      }
      apply();
    }
    function visible(element) {
      const r = element.getBoundingClientRect();
      const c = container.getBoundingClientRect();
      return r.width + r.height > 0 && r.left >= c.left - 0.5 && r.right <= c.right + 0.5 &&
        r.top >= c.top - 0.5 && r.bottom <= c.bottom + 0.5;
    }

    // Wheel and touchpad pinch (Chromium reports a pinch as a wheel event with ctrlKey) zoom.
    container.addEventListener("wheel", function (event) {
      event.preventDefault();
      const step = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
      zoom(Math.exp(-step * (event.ctrlKey ? 0.01 : 0.0015)), event.clientX, event.clientY);
    }, { passive: false });

    // One pointer drags; two pointers (touch) pinch.
    const pointers = new Map();
    let pinchDistance = 0;
    container.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      container.setPointerCapture(event.pointerId);
      container.classList.add("dragging");
      if (pointers.size === 2) {
        const p = Array.from(pointers.values());
        pinchDistance = Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
      }
    });
    container.addEventListener("pointermove", function (event) {
      const previous = pointers.get(event.pointerId);
      if (!previous) return;
      const current = { x: event.clientX, y: event.clientY };
      pointers.set(event.pointerId, current);
      if (pointers.size === 1) {
        state.x -= (current.x - previous.x) / state.scale;
        state.y -= (current.y - previous.y) / state.scale;
        apply();
      } else if (pointers.size === 2) {
        const p = Array.from(pointers.values());
        const distance = Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
        if (pinchDistance > 0) zoom(distance / pinchDistance, (p[0].x + p[1].x) / 2, (p[0].y + p[1].y) / 2);
        pinchDistance = distance;
      }
    });
    function release(event) {
      pointers.delete(event.pointerId);
      if (!pointers.size) container.classList.remove("dragging");
      pinchDistance = 0;
    }
    container.addEventListener("pointerup", release);
    container.addEventListener("pointercancel", release);
    window.addEventListener("resize", apply);

    const view = {
      fit: fit,
      show: show,
      zoom: zoom,
      visible: visible,
      scale: function () { return state.scale; },
    };
    fit();
    return view;
  };
})();
