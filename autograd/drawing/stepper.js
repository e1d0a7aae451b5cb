// gradstep's browser stepper: replays the recorded chain-rule steps on the inlined SVG graph.
// The page embeds every step (numbers already formatted in Python, so they match the drawing);
// this script only shows them: it never computes a gradient itself.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("stepper-data").textContent);
  const steps = data.steps;
  const last = steps.length - 1;
  const PLAY_INTERVAL_MS = 900;

  const graphBox = document.getElementById("graph");
  const svg = graphBox.querySelector("svg");
  const buttons = {
    reset: document.getElementById("reset"),
    prev: document.getElementById("prev"),
    play: document.getElementById("play"),
    next: document.getElementById("next"),
  };
  const counter = document.getElementById("counter");
  const headline = document.getElementById("headline");
  const rule = document.getElementById("rule");
  const equation = document.getElementById("equation");
  const update = document.getElementById("update");
  const stepList = document.getElementById("step-list");

  // The <text> of each value box that starts with "grad ": the one we rewrite.
  const gradTexts = data.initial.map(function (_, i) {
    const box = svg.getElementById("v" + i);
    if (!box) return null;
    return Array.from(box.querySelectorAll("text")).find(function (t) {
      return t.textContent.trim().startsWith("grad ");
    }) || null;
  });

  let current = 0;
  let timer = null;
  let highlighted = [];

  function element(id) {
    return id === null ? null : svg.getElementById(id);
  }

  function grads(upTo) {
    const values = data.initial.slice();
    for (let k = 0; k <= upTo; k++) values[steps[k].child] = steps[k].after;
    return values;
  }

  function mark(id, className) {
    const found = element(id);
    if (found) {
      found.classList.add(className);
      highlighted.push([found, className]);
    }
    return found;
  }

  function text(parent, tag, content, className) {
    const child = document.createElement(tag);
    child.textContent = content;
    if (className) child.className = className;
    parent.appendChild(child);
    return child;
  }

  function explain(step) {
    headline.textContent = "";
    rule.textContent = "";
    equation.textContent = "";
    update.textContent = "";
    if (step.kind === "seed") {
      text(headline, "span", "Start at the output: ");
      text(headline, "b", "grad(" + step.childName + ") = 1");
      text(headline, "span", "  (the output's derivative with respect to itself)", "muted");
      rule.textContent = "Every other grad is still 0 (inputs keep what they already held).";
    } else {
      text(headline, "span", "Edge " + step.nodeName + " → ");
      text(headline, "b", step.childName);
      text(headline, "span", "  (operand " + (step.position + 1) + " of " + step.op + ")", "muted");
      text(rule, "span", "local derivative: ", "muted");
      text(rule, "code", step.rule);
      text(equation, "span", "upstream × local = contribution:  ", "muted");
      text(equation, "span", step.upstream, "upstream");
      text(equation, "span", " × ");
      text(equation, "span", step.local, "local");
      text(equation, "span", " = ");
      text(equation, "span", step.contribution, "contribution");
    }
    text(update, "span", "grad(" + step.childName + "): ", "muted");
    text(update, "span", step.before);
    text(update, "span", " → ");
    text(update, "b", step.after);
    if (step.index === last && last > 0) {
      text(update, "span", "   done: every grad is now what backward() leaves", "muted");
    }
  }

  function show(k) {
    current = Math.max(0, Math.min(last, k));
    const step = steps[current];
    const values = grads(current);
    gradTexts.forEach(function (t, i) {
      if (t) t.textContent = "grad " + values[i];
    });
    highlighted.forEach(function (pair) {
      pair[0].classList.remove(pair[1]);
    });
    highlighted = [];
    mark("v" + step.node, "upstream-node");
    if (step.kind === "edge") {
      mark("op" + step.node, "active-op");
      mark(step.edge, "active-edge");
    }
    const target = mark("v" + step.child, "updated-node");
    explain(step);
    counter.textContent = "step " + current + " of " + last;
    document.body.dataset.step = String(current);
    buttons.prev.disabled = buttons.reset.disabled = current === 0;
    buttons.next.disabled = current === last;
    Array.from(stepList.children).forEach(function (item, i) {
      item.classList.toggle("current", i === current);
    });
    reveal(element(step.edge) || target);
    if (current === last) stop();
  }

  // Scroll the graph (only the graph, not the page) so that `item` is in view, centred if it was not.
  function reveal(item) {
    if (!item) return;
    const view = graphBox.getBoundingClientRect();
    const box = item.getBoundingClientRect();
    if (box.left < view.left || box.right > view.right) {
      graphBox.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    }
    if (box.top < view.top || box.bottom > view.bottom) {
      graphBox.scrollTop += (box.top + box.bottom) / 2 - (view.top + view.bottom) / 2;
    }
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    buttons.play.textContent = "▶ Play";
  }

  function play() {
    if (timer !== null) return stop();
    if (current === last) show(0);
    buttons.play.textContent = "⏸ Pause";
    timer = setInterval(function () {
      show(current + 1);
    }, PLAY_INTERVAL_MS);
  }

  steps.forEach(function (step, i) {
    const item = document.createElement("li");
    item.textContent = step.kind === "seed"
      ? "grad(" + step.childName + ") = 1"
      : step.nodeName + " → " + step.childName + ":  " + step.upstream + " × " + step.local +
        " = " + step.contribution + "   (grad " + step.before + " → " + step.after + ")";
    item.addEventListener("click", function () {
      stop();
      show(i);
    });
    stepList.appendChild(item);
  });

  buttons.reset.addEventListener("click", function () { stop(); show(0); });
  buttons.prev.addEventListener("click", function () { stop(); show(current - 1); });
  buttons.next.addEventListener("click", function () { stop(); show(current + 1); });
  buttons.play.addEventListener("click", play);
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const actions = {
      ArrowRight: function () { stop(); show(current + 1); },
      ArrowLeft: function () { stop(); show(current - 1); },
      Home: function () { stop(); show(0); },
      End: function () { stop(); show(last); },
      " ": play,
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  show(0);
})();
