// gradstep's browser stepper: replays one recorded training step (forward, seed, backward, update,
// after) on the inlined drawings. Every number arrives formatted from Python; this script only picks
// which recorded text to show, it never computes a value or a gradient.
//
// window.gradstep.stepper:
//   count          number of steps in the current view
//   index          the step shown (0 .. count - 1)
//   go(n)          show step n (clamped)
//   phase(n)       "forward" | "seed" | "backward" | "update" (the final "after" step is "update")
//   active()       the DOM elements highlighted for the current step, kept in view at a legible zoom
//   view           "neuron" or "scalar"; setView(name) switches, keeping the place in the timeline
//   stepKind(n)    the recorded phase, including "after"
(function () {
  "use strict";
  const gradstep = window.gradstep;
  const data = gradstep.data("stepper-data");
  const scalarSteps = data.steps;
  const PLAY_INTERVAL_MS = 700;
  const MIN_TEXT_PX = 9; // the smallest font size the view zooms out to around the active step

  const $ = function (id) { return document.getElementById(id); };
  const graph = $("graph");
  const views = {
    neuron: { box: $("neuron-view"), svg: $("neuron-view").querySelector("svg"), steps: data.neuronSteps || null },
    scalar: { box: $("scalar-view"), svg: $("scalar-view").querySelector("svg"), steps: null },
  };
  views.scalar.steps = scalarSteps.map(function (step, k) {
    return { phase: step.phase, title: step.title, rows: step.rows, first: k, last: k, active: step.active, marks: step.marks };
  });
  const buttons = {
    reset: $("reset"), prev: $("prev"), play: $("play"), next: $("next"),
    neuron: $("view-neuron"), scalar: $("view-scalar"), fit: $("fit"), zoomIn: $("zoom-in"), zoomOut: $("zoom-out"),
  };
  const counter = $("counter");
  const phaseChip = $("phase");
  const headline = $("headline");
  const note = $("note");
  const rowsBox = $("rows");
  const expand = $("expand");
  const substeps = $("substeps");
  const stepList = $("step-list");

  // Node state: the text shown for each node's data ("d") and grad ("g"), and the scalar step it is at.
  const state = { d: data.initial.d.slice(), g: data.initial.g.slice() };
  let applied = -1; // scalar steps 0..applied are applied

  // Where each node's texts are, per view: node -> [{el, prefix}].
  function bindScalar(svg) {
    const bound = { d: {}, g: {} };
    if (!svg) return bound;
    data.names.forEach(function (_, i) {
      const box = svg.getElementById("v" + i);
      if (!box) return;
      Array.from(box.querySelectorAll("text")).forEach(function (t) {
        const text = t.textContent.trim();
        if (text.startsWith("data ")) (bound.d[i] = bound.d[i] || []).push({ el: t, prefix: "data " });
        if (text.startsWith("grad ")) (bound.g[i] = bound.g[i] || []).push({ el: t, prefix: "grad " });
      });
    });
    return bound;
  }
  function bindNeuron(svg) {
    const bound = { d: {}, g: {} };
    if (!svg) return bound;
    Array.from(svg.querySelectorAll("text[data-n]")).forEach(function (t) {
      const field = t.getAttribute("data-f");
      const node = Number(t.getAttribute("data-n"));
      (bound[field][node] = bound[field][node] || []).push({ el: t, prefix: t.getAttribute("data-p") || "" });
    });
    return bound;
  }
  const bindings = [bindScalar(views.scalar.svg), bindNeuron(views.neuron.svg)];

  function write(node, field, text) {
    state[field][node] = text;
    bindings.forEach(function (bound) {
      (bound[field][node] || []).forEach(function (item) {
        item.el.textContent = item.prefix + text;
      });
    });
  }
  function writeAll() {
    ["d", "g"].forEach(function (field) {
      state[field].forEach(function (text, node) { write(node, field, text); });
    });
  }
  // Move the node state to "scalar steps 0..k applied", touching only the steps in between.
  function applyTo(k) {
    while (applied < k) {
      applied += 1;
      scalarSteps[applied].changes.forEach(function (c) { write(c[0], c[1], c[3]); });
    }
    while (applied > k) {
      const changes = scalarSteps[applied].changes;
      for (let j = changes.length - 1; j >= 0; j--) write(changes[j][0], changes[j][1], changes[j][2]);
      applied -= 1;
    }
  }

  let viewName = data.views.default;
  let current = 0;
  let timer = null;
  let highlighted = [];
  let activeElements = [];
  const panZoom = {};

  function steps() { return views[viewName].steps; }
  function count() { return steps().length; }

  function find(id) {
    const svg = views[viewName].svg;
    return svg && id ? svg.getElementById(id) : null;
  }
  function mark(element, className) {
    if (!element) return;
    element.classList.add(className);
    highlighted.push([element, className]);
  }
  function unmarkAll() {
    highlighted.forEach(function (pair) { pair[0].classList.remove(pair[1]); });
    highlighted = [];
  }

  function add(parent, tag, text, className) {
    const element = document.createElement(tag);
    element.textContent = text;
    if (className) element.className = className;
    parent.appendChild(element);
    return element;
  }

  function explain(step, n) {
    headline.textContent = step.title;
    note.textContent = n === 0 ? data.startNote : (n === count() - 1 ? data.endNote : "");
    rowsBox.textContent = "";
    step.rows.forEach(function (row) {
      const line = add(rowsBox, "div", "", "row");
      if (row[0]) add(line, "span", row[0], "label");
      add(line, "span", row[1], "value");
    });
    const inside = step.last - step.first + 1;
    if (inside > 1) {
      expand.hidden = false;
      expand.querySelector("summary").textContent = "scalar steps " + step.first + "–" + step.last + " (" + inside + ")";
      if (expand.open) fillSubsteps(step);
      else substeps.textContent = "";
    } else {
      expand.hidden = true;
      substeps.textContent = "";
    }
  }
  function fillSubsteps(step) {
    substeps.textContent = "";
    substeps.start = step.first;
    for (let k = step.first; k <= step.last; k++) {
      const scalar = scalarSteps[k];
      const detail = scalar.rows.map(function (row) { return (row[0] ? row[0] + ": " : "") + row[1]; }).join("   ");
      const item = add(substeps, "li", scalar.title + "   " + detail);
      if (views.scalar.svg) {
        item.classList.add("link");
        item.title = "Open this step in the scalar view";
        item.addEventListener("click", function () { stop(); setView("scalar", k); });
      }
    }
  }
  expand.addEventListener("toggle", function () {
    if (expand.open) fillSubsteps(steps()[current]);
  });

  function go(n) {
    const total = count();
    current = Math.max(0, Math.min(total - 1, Math.floor(Number(n) || 0)));
    const step = steps()[current];
    applyTo(step.last);
    unmarkAll();
    activeElements = step.active.map(find).filter(Boolean);
    activeElements.forEach(function (element) { mark(element, "active"); });
    step.marks.forEach(function (pair) { mark(find(pair[0]), pair[1]); });
    if (step.phase === "backward" && viewName === "scalar") {
      mark(find(step.active[1]), "upstream-node");
      mark(find(step.active[2]), "updated-node");
    }
    explain(step, current);
    counter.textContent = "step " + current + " of " + (total - 1);
    phaseChip.textContent = step.phase === "after" ? "after the update" : step.phase;
    phaseChip.className = "phase " + step.phase;
    document.body.dataset.step = String(current);
    document.body.dataset.phase = step.phase;
    buttons.prev.disabled = buttons.reset.disabled = current === 0;
    buttons.next.disabled = current === total - 1;
    const previous = stepList.querySelector("li.current");
    if (previous) previous.classList.remove("current");
    const item = stepList.children[current];
    if (item) {
      item.classList.add("current");
      const list = stepList.parentElement;
      const top = item.offsetTop - list.offsetTop;
      if (top < list.scrollTop || top > list.scrollTop + list.clientHeight - item.offsetHeight) {
        list.scrollTop = top - list.clientHeight / 2;
      }
    }
    if (panZoom[viewName] && activeElements.length) {
      panZoom[viewName].show(activeElements, { minTextPx: MIN_TEXT_PX, legible: activeElements.filter(isBox) });
    }
    gradstep.setHash(current + (viewName !== data.views.default ? "&view=" + viewName : ""));
    if (current === total - 1) stop();
  }
  function isBox(element) {
    return element.tagName.toLowerCase() === "g" && element.querySelector("text");
  }

  function fillStepList() {
    stepList.textContent = "";
    const fragment = document.createDocumentFragment();
    steps().forEach(function (step, i) {
      const item = document.createElement("li");
      item.textContent = step.title;
      item.className = step.phase;
      item.dataset.index = String(i);
      fragment.appendChild(item);
    });
    stepList.appendChild(fragment);
  }
  stepList.addEventListener("click", function (event) {
    const item = event.target.closest("li");
    if (item) { stop(); go(Number(item.dataset.index)); }
  });

  // Switch views, staying at the same place of the timeline (scalar step `at`, default: the current one).
  function setView(name, at) {
    if (!views[name] || !views[name].svg || !views[name].steps) return false;
    const scalarIndex = at === undefined ? steps()[current].last : at;
    viewName = name;
    Object.keys(views).forEach(function (key) {
      if (views[key].box) views[key].box.hidden = key !== name;
    });
    buttons.neuron.classList.toggle("selected", name === "neuron");
    buttons.scalar.classList.toggle("selected", name === "scalar");
    if (!panZoom[name]) panZoom[name] = gradstep.svgView(views[name].box, views[name].svg);
    fillStepList();
    const list = steps();
    let n = list.findIndex(function (step) { return step.first <= scalarIndex && scalarIndex <= step.last; });
    if (n < 0) n = 0;
    go(n);
    return true;
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    buttons.play.textContent = "▶ Play";
  }
  function play() {
    if (timer !== null) return stop();
    if (current === count() - 1) go(0);
    buttons.play.textContent = "⏸ Pause";
    timer = setInterval(function () { go(current + 1); }, PLAY_INTERVAL_MS);
  }

  buttons.reset.addEventListener("click", function () { stop(); go(0); });
  buttons.prev.addEventListener("click", function () { stop(); go(current - 1); });
  buttons.next.addEventListener("click", function () { stop(); go(current + 1); });
  buttons.play.addEventListener("click", play);
  buttons.fit.addEventListener("click", function () { panZoom[viewName].fit(); });
  buttons.zoomIn.addEventListener("click", function () { panZoom[viewName].zoom(1.25); });
  buttons.zoomOut.addEventListener("click", function () { panZoom[viewName].zoom(0.8); });
  buttons.neuron.addEventListener("click", function () { stop(); setView("neuron"); });
  buttons.scalar.addEventListener("click", function () { stop(); setView("scalar"); });
  if (!data.views.neuron) buttons.neuron.disabled = true;
  if (!data.views.scalar) {
    buttons.scalar.disabled = true;
    buttons.scalar.title = data.scalarNote;
  }
  if (!data.views.neuron && !data.views.scalar) throw new Error("gradstep stepper: the page has no drawing");
  if (!(data.views.neuron && data.views.scalar)) $("views").hidden = true;

  gradstep.onKeys({
    ArrowRight: function () { stop(); go(current + 1); },
    ArrowLeft: function () { stop(); go(current - 1); },
    Home: function () { stop(); go(0); },
    End: function () { stop(); go(count() - 1); },
    " ": play,
    f: function () { panZoom[viewName].fit(); },
    "+": function () { panZoom[viewName].zoom(1.25); },
    "=": function () { panZoom[viewName].zoom(1.25); },
    "-": function () { panZoom[viewName].zoom(0.8); },
  });

  gradstep.stepper = {
    get count() { return count(); },
    get index() { return current; },
    get view() { return viewName; },
    go: function (n) { stop(); go(n); return current; },
    phase: function (n) {
      const step = steps()[n === undefined ? current : n];
      if (!step) return null;
      return step.phase === "after" ? "update" : step.phase;
    },
    stepKind: function (n) {
      const step = steps()[n === undefined ? current : n];
      return step ? step.phase : null;
    },
    active: function () { return activeElements.slice(); },
    setView: function (name) { stop(); return setView(name); },
    fit: function () { panZoom[viewName].fit(); },
  };

  // Open where the address says (#step=N, optionally &view=scalar), else at step 0.
  const wanted = /(?:^#|&)view=(neuron|scalar)/.exec(window.location.hash || "");
  if (wanted && views[wanted[1]].svg && views[wanted[1]].steps) viewName = wanted[1];
  writeAll();
  Object.keys(views).forEach(function (key) {
    if (views[key].box) views[key].box.hidden = true;
  });
  const start = gradstep.stepFromHash(views[viewName].steps.length); // read before go() rewrites it
  setView(viewName, 0);
  if (start !== null) go(start);
  gradstep.onHashChange(count(), function (n) { stop(); go(n); });
})();
