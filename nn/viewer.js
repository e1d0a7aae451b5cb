// gradstep's training viewer: replays a recorded run. Every number, picture and position arrives
// from Python (nn/viewer_page.py) ready to show; this script only swaps them in for the step shown.
(function () {
  "use strict";
  const gradstep = window.gradstep;
  const data = gradstep.data("viewer-data");
  const count = data.count;
  const $ = (id) => document.getElementById(id);
  const SIGN_CLASS = { "+": "pos", "-": "neg", "0": "zero" };

  const scrub = $("scrub");
  const playButton = $("play");
  const speed = $("speed");
  const surfaceImage = $("surface-image");
  const net = $("net");
  const edges = Array.from(document.querySelectorAll("#net line.edge"));
  const neuronLines = Array.from(document.querySelectorAll("#surface .neuron-line"));
  const tiles = Array.from(document.querySelectorAll("#net .tile"));
  const markers = tiles.map((tile) => tile.querySelector(".marker"));
  const neuronTiles = Array.from(document.querySelectorAll("#net .tile[data-tile]"));
  const detailCells = Array.from(document.querySelectorAll("[data-detail]"));
  const rows = Array.from(document.querySelectorAll("#optimiser tbody tr")).map((row) => Array.from(row.querySelectorAll("td")));
  const ring = $("pick-ring");
  let index = 0;
  let picked = null;
  let timer = null;

  function setText(id, text) {
    const element = $(id);
    if (element) element.textContent = text;
  }

  function setMarker(line, dot, x, y) {
    const marker = $(line);
    marker.setAttribute("x1", x);
    marker.setAttribute("x2", x);
    const point = $(dot);
    if (point && y !== undefined) {
      point.setAttribute("cx", x);
      point.setAttribute("cy", y);
    }
  }

  // Only the rows in view of the table's scroll box are filled in (hundreds of parameters would make
  // every step re-lay out the whole table); scrolling fills in the rows that come into view.
  const tableBox = document.querySelector(".table-box");
  let tableColumns = null;
  let tableSigns = null;
  let tableStep = -1;

  function fillRows() {
    if (rows.length === 0) return;
    const rowHeight = rows[0][0].parentElement.offsetHeight || 20;
    const first = Math.max(0, Math.floor(tableBox.scrollTop / rowHeight) - 4);
    const last = Math.min(rows.length - 1, first + Math.ceil(tableBox.clientHeight / rowHeight) + 8);
    for (let r = first; r <= last; r++) {
      const row = rows[r][0].parentElement;
      if (row.dataset.step === String(tableStep)) continue;
      row.dataset.step = String(tableStep);
      rows[r].forEach((cell, c) => {
        cell.textContent = tableColumns[c][r];
        cell.className = SIGN_CLASS[tableSigns[c][r]];
      });
    }
  }

  function showTable(n) {
    tableColumns = data.table[n].map((text) => text.split(" "));
    tableSigns = data.tableSigns[n];
    tableStep = n;
    fillRows();
  }

  function showPick(n) {
    document.body.classList.toggle("picked", picked !== null);
    const link = $("stepper-link");
    if (picked === null) {
      setText("example-text", "");
      link.textContent = "";
      ring.classList.add("hidden");
      return;
    }
    const pick = data.picks[String(picked)];
    const tokens = pick.details[n].split(" ");
    detailCells.forEach((cell) => {
      const k = Number(cell.dataset.detail);
      const text = tokens[k];
      cell.textContent = cell.classList.contains("g") ? "∂ " + text : text;
    });
    markers.forEach((marker) => {
      marker.style.left = pick.marker[0];
      marker.style.top = pick.marker[1];
    });
    setText("example-text", pick.text + ", at step " + data.steps[n]);
    const circle = document.querySelector('#surface circle.pickable[data-example="' + picked + '"]');
    ring.setAttribute("cx", circle.getAttribute("cx"));
    ring.setAttribute("cy", circle.getAttribute("cy"));
    ring.classList.remove("hidden");
    link.textContent = "";
    const here = data.steppers[picked + ":" + data.steps[n]];
    if (here) {
      const anchor = document.createElement("a");
      anchor.href = here;
      anchor.id = "open-stepper";
      anchor.textContent = "Open the stepper for example " + picked + " at step " + data.steps[n] + " →";
      link.appendChild(anchor);
      return;
    }
    const written = data.pickSteps[String(picked)] || [];
    if (written.length === 0) {
      link.textContent =
        "No stepper page was written for this example. Make one in Python: history.run.write_stepper(" +
        picked + ", " + n + ', "example.html")';
      return;
    }
    link.appendChild(document.createTextNode("Stepper pages for this example, at step: "));
    written.forEach((step) => {
      const anchor = document.createElement("a");
      anchor.href = data.steppers[picked + ":" + step];
      anchor.textContent = String(step);
      anchor.className = "step-link";
      link.appendChild(anchor);
      link.appendChild(document.createTextNode(" "));
    });
  }

  function show(n) {
    index = n;
    scrub.value = String(n);
    document.body.dataset.step = String(n);
    setText("step-now", String(data.steps[n]));
    setText("loss-now", data.loss[n]);
    setText("train-acc-now", data.train[n]);
    if (data.test) setText("test-acc-now", data.test[n]);
    setText("lr-now", data.lr[n]);
    surfaceImage.setAttribute("href", data.surface[n]);
    net.style.setProperty("--sprite", "url(" + data.sprite[n] + ")");
    const largest = data.tileMax[n].split(" ");
    neuronTiles.forEach((tile, k) => {
      tile.dataset.largest = largest[k];
    });
    const widths = data.edgeWidths[n].split(" ");
    const signs = data.edgeSigns[n];
    edges.forEach((edge, k) => {
      edge.setAttribute("stroke-width", widths[k]);
      edge.setAttribute("class", "edge " + SIGN_CLASS[signs[k]]);
    });
    data.lines[n].forEach((line, j) => {
      const element = neuronLines[j];
      if (line === null) {
        element.classList.add("hidden");
        return;
      }
      element.classList.remove("hidden");
      element.setAttribute("x1", line[0]);
      element.setAttribute("y1", line[1]);
      element.setAttribute("x2", line[2]);
      element.setAttribute("y2", line[3]);
    });
    setMarker("loss-marker", "loss-dot", data.markerX[n], data.markerLoss[n]);
    setMarker("accuracy-marker", "train-dot", data.markerX[n], data.markerTrain[n]);
    if (data.test) {
      const dot = $("test-dot");
      dot.setAttribute("cx", data.markerX[n]);
      dot.setAttribute("cy", data.markerTest[n]);
    }
    showTable(n);
    showPick(n);
    $("back").disabled = n === 0;
    $("reset").disabled = n === 0;
    $("forward").disabled = n === count - 1;
  }

  function go(n) {
    const target = Math.max(0, Math.min(count - 1, Math.floor(Number(n)) || 0));
    show(target);
    gradstep.setHash(target);
    return target;
  }

  function pause() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ Play";
    document.body.classList.remove("playing");
  }

  function play() {
    if (timer !== null) return;
    if (index === count - 1) go(0);
    playButton.textContent = "⏸ Pause";
    document.body.classList.add("playing");
    timer = window.setInterval(function () {
      if (index >= count - 1) {
        pause();
        return;
      }
      go(index + 1);
    }, Number(speed.value));
  }

  function pick(example) {
    if (example === null || data.picks[String(example)] === undefined) {
      picked = null;
    } else {
      picked = Number(example);
    }
    showPick(index);
    return picked;
  }

  playButton.addEventListener("click", () => (timer === null ? play() : pause()));
  $("reset").addEventListener("click", () => {
    pause();
    go(0);
  });
  $("back").addEventListener("click", () => {
    pause();
    go(index - 1);
  });
  $("forward").addEventListener("click", () => {
    pause();
    go(index + 1);
  });
  scrub.addEventListener("input", () => {
    pause();
    go(Number(scrub.value));
  });
  speed.addEventListener("change", () => {
    if (timer !== null) {
      pause();
      play();
    }
  });
  tableBox.addEventListener("scroll", fillRows, { passive: true });
  document.querySelectorAll("#surface circle.pickable").forEach((circle) => {
    circle.addEventListener("click", () => pick(circle.dataset.example));
  });
  gradstep.onKeys({
    " ": () => (timer === null ? play() : pause()),
    ArrowRight: () => {
      pause();
      go(index + 1);
    },
    ArrowLeft: () => {
      pause();
      go(index - 1);
    },
    Home: () => {
      pause();
      go(0);
    },
    End: () => {
      pause();
      go(count - 1);
    },
  });
  gradstep.onHashChange(count, (n) => show(n));

  gradstep.viewer = {
    count: count,
    steps: data.steps.slice(),
    get index() {
      return index;
    },
    get picked() {
      return picked;
    },
    go: go,
    play: play,
    pause: pause,
    pick: pick,
  };

  const start = gradstep.stepFromHash(count);
  show(start === null ? 0 : start);
})();
