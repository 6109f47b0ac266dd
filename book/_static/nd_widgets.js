/* Normalize & Drop: interactive figures that run in the reader's browser, without a kernel.
 *
 * Loaded (deferred) by book/_ext/nd_widgets.py on the pages that hold a placeholder
 *   <div class="nd-widget" data-widget="dropout|batch-stats|running-mean" data-seed="0">fallback</div>
 * written in a chapter's Markdown. The fallback sentence stays where JavaScript does not run
 * (and in the learner edition, in JupyterLab); here it is replaced by a slider, a figure (inline
 * SVG, redrawn at the width of its container) and a text summary read out by screen readers.
 *
 * The numbers are the companion's (tests/book/test_site_widgets.py checks them against it):
 *   dropout       inverted dropout, companion.dropout_forward: keep a unit when u >= p (u uniform
 *                 in [0, 1)), y = x * mask * (1 / (1 - p)); p is the DROP probability (PyTorch).
 *   batch-stats   mean and BIASED variance of each batch (divide by m), companion.batch_stats,
 *                 computed in two passes.
 *   running-mean  PyTorch: running = (1 - momentum) * running + momentum * batch_mean
 *                 (companion.BatchNorm); Keras: running = momentum * running + (1 - momentum) * batch_mean.
 * Random numbers come from mulberry32 (32-bit state, uniforms k / 2**32) and Box-Muller, so that a
 * seed gives the same numbers in every browser and in Python. Everything is exposed as
 * window.ndWidgets for the tests.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------------------------------
  // Random numbers
  // ------------------------------------------------------------------------------------------
  /** mulberry32: a function returning uniforms in [0, 1), multiples of 2**-32. */
  function mulberry32(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function uniforms(seed, n) {
    var next = mulberry32(seed), out = new Array(n);
    for (var i = 0; i < n; i++) out[i] = next();
    return out;
  }

  /** Standard normals by Box-Muller: each pair of uniforms (u1, u2) gives
   *  r cos(2 pi u2), r sin(2 pi u2) with r = sqrt(-2 log(1 - u1)). */
  function normalsFrom(next, n) {
    var out = new Array(n);
    for (var i = 0; i < n; i += 2) {
      var u1 = next(), u2 = next();
      var r = Math.sqrt(-2 * Math.log(1 - u1)), a = 2 * Math.PI * u2;
      out[i] = r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = r * Math.sin(a);
    }
    return out;
  }

  function normals(seed, n) {
    return normalsFrom(mulberry32(seed), n);
  }

  function mean(values) {
    var s = 0;
    for (var i = 0; i < values.length; i++) s += values[i];
    return s / values.length;
  }

  /** Mean and biased variance (divide by m), in two passes. */
  function moments(values) {
    var mu = mean(values), s = 0;
    for (var i = 0; i < values.length; i++) {
      var d = values[i] - mu;
      s += d * d;
    }
    return { mean: mu, variance: s / values.length };
  }

  function std(values) {
    return Math.sqrt(moments(values).variance);
  }

  // ------------------------------------------------------------------------------------------
  // The computations (pure functions)
  // ------------------------------------------------------------------------------------------
  /** Inverted dropout of x with the uniforms u (one per entry) and drop probability p. */
  function dropout(args) {
    var x = args.x, u = args.u, p = +args.p;
    if (!(p >= 0 && p <= 1)) throw new RangeError("p must be in [0, 1], got " + args.p);
    if (u.length !== x.length) throw new RangeError("x and u must have the same length");
    var scale = p < 1 ? 1 / (1 - p) : 0;
    var mask = new Array(x.length), y = new Array(x.length), kept = 0;
    for (var i = 0; i < x.length; i++) {
      var keep = p === 0 || u[i] >= p;
      mask[i] = keep;
      kept += keep ? 1 : 0;
      y[i] = p === 1 ? 0 : x[i] * (keep ? 1 : 0) * scale;
    }
    return { mask: mask, y: y, kept: kept, scale: scale, meanX: mean(x), meanY: mean(y) };
  }

  /** The dropout figure's numbers: n inputs in [0.5, 1.5), the mask shown, and the mean of the
   *  scaled activations averaged over `masks` further masks (uniforms drawn in that order). */
  function dropoutExperiment(args) {
    var n = args.n || 20, masks = args.masks == null ? 1000 : args.masks;
    var next = mulberry32(args.seed || 0);
    var x = new Array(n), u = new Array(n), i, k;
    for (i = 0; i < n; i++) x[i] = 0.5 + next();
    for (i = 0; i < n; i++) u[i] = next();
    var shown = dropout({ x: x, u: u, p: args.p });
    var total = 0, uk = new Array(n);
    for (k = 0; k < masks; k++) {
      for (i = 0; i < n; i++) uk[i] = next();
      total += dropout({ x: x, u: uk, p: args.p }).meanY;
    }
    return { x: x, u: u, p: +args.p, shown: shown, masks: masks, averageMeanY: masks ? total / masks : NaN };
  }

  /** Mean and biased variance of each batch: batch b is population[indices[b][0]], ... */
  function batchStats(args) {
    var pop = args.population, means = [], variances = [];
    args.indices.forEach(function (idx) {
      var m = moments(idx.map(function (j) { return pop[j]; }));
      means.push(m.mean);
      variances.push(m.variance);
    });
    return { means: means, variances: variances };
  }

  var BATCH_SIZES = [2, 4, 8, 16, 32, 64, 128, 256];

  /** A fixed population (`size` values, mean + std * normal, from `seed`) and `batches` batches of
   *  `batchSize` values drawn from it at random with replacement (indices from the stream `seed + 1`). */
  function batchExperiment(args) {
    var seed = args.seed || 0, size = args.populationSize || 10000, m = args.batchSize;
    var batches = args.batches || 200, mu = args.mean == null ? 3 : args.mean, sd = args.std == null ? 2 : args.std;
    if (!(m >= 2 && m === Math.floor(m))) throw new RangeError("batch size must be an integer >= 2");
    var population = normals(seed, size).map(function (z) { return mu + sd * z; });
    var next = mulberry32(seed + 1), indices = [];
    for (var b = 0; b < batches; b++) {
      var idx = new Array(m);
      for (var i = 0; i < m; i++) idx[i] = Math.floor(next() * size);
      indices.push(idx);
    }
    var stats = batchStats({ population: population, indices: indices });
    var pop = moments(population);
    return {
      population: population, indices: indices, batchSize: m,
      means: stats.means, variances: stats.variances,
      populationMean: pop.mean, populationVariance: pop.variance,
      spreadOfMeans: std(stats.means), expectedSpread: Math.sqrt(pop.variance / m),
      averageVariance: mean(stats.variances), expectedVariance: (m - 1) / m * pop.variance,
      minVariance: Math.min.apply(null, stats.variances), maxVariance: Math.max.apply(null, stats.variances),
    };
  }

  /** Running mean after each batch: [init, after batch 1, ...]. convention "pytorch" or "keras". */
  function runningMean(args) {
    var a = +args.momentum, r = args.init == null ? 0 : +args.init, out = [r];
    if (!(a >= 0 && a <= 1)) throw new RangeError("momentum must be in [0, 1], got " + args.momentum);
    if (args.convention !== "pytorch" && args.convention !== "keras") {
      throw new RangeError('convention must be "pytorch" or "keras"');
    }
    args.batchMeans.forEach(function (b) {
      r = args.convention === "pytorch" ? (1 - a) * r + a * b : a * r + (1 - a) * b;
      out.push(r);
    });
    return out;
  }

  /** `steps` batches of `batchSize` values from mean + std * normal (seed), and both trajectories. */
  function runningExperiment(args) {
    var steps = args.steps || 100, m = args.batchSize || 16, seed = args.seed || 0;
    var mu = args.mean == null ? 3 : args.mean, sd = args.std == null ? 2 : args.std, tail = args.window || 50;
    var z = normals(seed, steps * m), batches = [], batchMeans = [];
    for (var t = 0; t < steps; t++) {
      var batch = z.slice(t * m, (t + 1) * m).map(function (v) { return mu + sd * v; });
      batches.push(batch);
      batchMeans.push(mean(batch));
    }
    var out = { batches: batches, batchMeans: batchMeans, momentum: +args.momentum, mean: mu, window: tail };
    ["pytorch", "keras"].forEach(function (c) {
      var traj = runningMean({ batchMeans: batchMeans, momentum: args.momentum, convention: c, init: 0 });
      out[c] = traj;
      out[c + "Final"] = traj[traj.length - 1];
      out[c + "Fluctuation"] = std(traj.slice(traj.length - tail));
    });
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Drawing: inline SVG at the container's width
  // ------------------------------------------------------------------------------------------
  var NS = "http://www.w3.org/2000/svg";
  var FONT = 13;

  function svgEl(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function htmlEl(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  /** Round numbers for the axis between lo and hi, about `count` of them. */
  function niceTicks(lo, hi, count) {
    var raw = (hi - lo) / Math.max(count, 1), step = Math.pow(10, Math.floor(Math.log10(raw))), err = raw / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
    return { values: out, step: step };
  }

  function niceMax(v) {
    var t = niceTicks(0, v, 4);
    return Math.max(t.values[t.values.length - 1] < v ? t.values[t.values.length - 1] + t.step : t.values[t.values.length - 1], t.step);
  }

  /** Typographic minus for negative numbers. */
  function fmt(v, digits) {
    var s = (+v).toFixed(digits);
    if (/^-0\.?0*$/.test(s)) s = s.slice(1);
    return s.replace("-", "\u2212");
  }

  /** Axes in the box {x, y, w, h}; returns the scales sx, sy. */
  function axes(svg, box, xd, yd, labels, opts) {
    opts = opts || {};
    var sx = function (v) { return box.x + (v - xd[0]) / (xd[1] - xd[0]) * box.w; };
    var sy = function (v) { return box.y + box.h - (v - yd[0]) / (yd[1] - yd[0]) * box.h; };
    var g = svgEl("g", { "class": "nd-w-axes" }, svg);
    var xt = opts.xTicks || niceTicks(xd[0], xd[1], Math.max(2, Math.floor(box.w / 70)));
    var yt = niceTicks(yd[0], yd[1], Math.max(2, Math.floor(box.h / 45)));
    var xdig = Math.max(0, -Math.floor(Math.log10(xt.step) + 1e-9)), ydig = Math.max(0, -Math.floor(Math.log10(yt.step) + 1e-9));
    yt.values.forEach(function (v) {
      svgEl("line", { x1: box.x, x2: box.x + box.w, y1: sy(v), y2: sy(v), "class": "nd-w-grid" }, g);
      svgEl("text", { x: box.x - 6, y: sy(v), "text-anchor": "end", "dominant-baseline": "middle", "class": "nd-w-tick" }, g, fmt(v, ydig));
    });
    xt.values.forEach(function (v) {
      svgEl("line", { x1: sx(v), x2: sx(v), y1: box.y + box.h, y2: box.y + box.h + 5, "class": "nd-w-axis" }, g);
      svgEl("text", { x: sx(v), y: box.y + box.h + 8 + FONT * 0.8, "text-anchor": "middle", "class": "nd-w-tick" }, g,
        opts.xFormat ? opts.xFormat(v) : fmt(v, xdig));
    });
    svgEl("line", { x1: box.x, x2: box.x + box.w, y1: box.y + box.h, y2: box.y + box.h, "class": "nd-w-axis" }, g);
    svgEl("line", { x1: box.x, x2: box.x, y1: box.y, y2: box.y + box.h, "class": "nd-w-axis" }, g);
    svgEl("text", { x: box.x + box.w / 2, y: box.y + box.h + 2 * FONT + 14, "text-anchor": "middle", "class": "nd-w-label" }, g, labels[0]);
    var ly = box.y + box.h / 2, lx = box.x - (opts.yLabelOffset || 40);
    svgEl("text", { x: lx, y: ly, transform: "rotate(-90 " + lx + " " + ly + ")", "text-anchor": "middle", "class": "nd-w-label" }, g, labels[1]);
    if (opts.title) {
      svgEl("text", { x: box.x + box.w / 2, y: box.y - 10, "text-anchor": "middle", "class": "nd-w-title" }, g, opts.title);
    }
    return { sx: sx, sy: sy };
  }

  function polyline(svg, xs, ys, sx, sy, cls) {
    var pts = xs.map(function (x, i) { return sx(x).toFixed(1) + "," + sy(ys[i]).toFixed(1); }).join(" ");
    return svgEl("polyline", { points: pts, "class": cls, fill: "none" }, svg);
  }

  function newSvg(plot, width, height, label) {
    plot.textContent = "";
    var svg = svgEl("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": label }, plot);
    svgEl("title", {}, svg, label);
    return svg;
  }

  /** Legend entries: [{cls, text, kind: "line" | "box" | "dot"}]. */
  function legend(parent, entries) {
    var ul = htmlEl("ul", { "class": "nd-w-legend" }, parent);
    entries.forEach(function (e) {
      var li = htmlEl("li", {}, ul);
      var s = svgEl("svg", { width: 28, height: 14, viewBox: "0 0 28 14", "aria-hidden": "true" }, li);
      if (e.kind === "box") svgEl("rect", { x: 6, y: 1, width: 16, height: 12, "class": e.cls }, s);
      else if (e.kind === "dot") svgEl("circle", { cx: 14, cy: 7, r: 3, "class": e.cls }, s);
      else svgEl("line", { x1: 1, x2: 27, y1: 7, y2: 7, "class": e.cls }, s);
      htmlEl("span", {}, li, e.text);
    });
    return ul;
  }

  // ------------------------------------------------------------------------------------------
  // The widgets
  // ------------------------------------------------------------------------------------------
  var counter = 0;

  /** Common frame: title, slider with <label> and <output>, a "new random draw" button, legend,
   *  the figure and an aria-live summary. */
  function frame(root, spec) {
    var id = "nd-widget-" + (++counter);
    root.textContent = "";
    root.classList.add("nd-widget-ready");
    root.setAttribute("role", "group");
    root.setAttribute("aria-labelledby", id + "-title");
    htmlEl("p", { "class": "nd-w-heading", id: id + "-title" }, root, spec.title);
    var controls = htmlEl("div", { "class": "nd-w-controls" }, root);
    htmlEl("label", { "for": id + "-slider" }, controls, spec.label);
    var group = htmlEl("span", { "class": "nd-w-slider" }, controls);  // the slider and its value stay on one line
    var slider = htmlEl("input", { type: "range", id: id + "-slider", min: spec.min, max: spec.max, step: spec.step, value: spec.value }, group);
    var output = htmlEl("output", { "for": id + "-slider", "class": "nd-w-value" }, group);
    var button = htmlEl("button", { type: "button", "class": "nd-w-redraw" }, controls, "New random draw");
    legend(root, spec.legend);
    var plot = htmlEl("div", { "class": "nd-w-plot" }, root);
    if (spec.note) htmlEl("p", { "class": "nd-w-note" }, root, spec.note);
    var summary = htmlEl("p", { "class": "nd-w-summary", "aria-live": "polite" }, root);
    var state = { seed: parseInt(root.getAttribute("data-seed") || "0", 10) || 0 };
    function update() {
      var result = spec.compute(+slider.value, state.seed);
      output.textContent = result.valueText;
      slider.setAttribute("aria-valuetext", result.valueText);
      root.setAttribute("data-seed", String(state.seed));
      root.setAttribute("data-value", slider.value);
      summary.textContent = result.summary;
      var width = Math.max(260, Math.floor(plot.clientWidth || root.clientWidth || 320));
      spec.draw(plot, width, result);
    }
    slider.addEventListener("input", update);
    button.addEventListener("click", function () { state.seed += 1; update(); });
    var lastWidth = 0;
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        var w = Math.floor(plot.clientWidth);
        if (w && Math.abs(w - lastWidth) > 1) { lastWidth = w; update(); }
      }).observe(plot);
    }
    update();
    return { update: update, slider: slider, summary: summary };
  }

  function dropoutWidget(root) {
    var n = 20;
    frame(root, {
      title: "Inverted dropout on one layer of 20 units",
      label: "Drop probability p",
      min: 0, max: 0.9, step: 0.05, value: root.getAttribute("data-p") || 0.3,
      legend: [
        { kind: "box", cls: "nd-w-input", text: "input x (before dropout)" },
        { kind: "box", cls: "nd-w-fill-a", text: "output x \u00b7 mask / (1 \u2212 p)" },
        { kind: "line", cls: "nd-w-ref", text: "mean of the inputs" },
        { kind: "line", cls: "nd-w-line-a", text: "mean of the outputs (this mask)" },
      ],
      compute: function (p, seed) {
        var r = dropoutExperiment({ seed: seed, n: n, p: p, masks: 1000 });
        r.valueText = fmt(p, 2);
        r.summary = "p = " + fmt(p, 2) + ": " + r.shown.kept + " of " + n + " units kept, each multiplied by 1/(1 \u2212 p) = " +
          fmt(r.shown.scale, 2) + ". Mean of the scaled activations: " + fmt(r.shown.meanY, 2) + " for this mask, " +
          fmt(r.averageMeanY, 2) + " averaged over " + r.masks.toLocaleString("en-US") + " masks; input mean: " + fmt(r.shown.meanX, 2) + ".";
        return r;
      },
      draw: function (plot, width, r) {
        var height = 300, left = 56, right = 10, top = 12, maskRow = 30;
        var svg = newSvg(plot, width, height, "Bar chart of the 20 inputs and their dropout outputs. " + r.summary);
        var box = { x: left, y: top + maskRow + 14, w: width - left - right, h: height - top - maskRow - 14 - 56 };
        var ymax = niceMax(Math.max(1.5, Math.max.apply(null, r.shown.y)) * 1.02);
        var band = box.w / n;
        var a = axes(svg, box, [0, n], [0, ymax], ["unit (index)", "activation (input units)"], {
          xTicks: { values: [1, 5, 10, 15, 20].map(function (k) { return k - 0.5; }), step: 1 },
          xFormat: function (v) { return String(Math.round(v + 0.5)); },
        });
        // the mask row
        svgEl("text", { x: left - 6, y: top + maskRow / 2, "text-anchor": "end", "dominant-baseline": "middle", "class": "nd-w-tick" }, svg, "mask");
        var side = Math.min(band * 0.8, maskRow - 6);
        r.shown.mask.forEach(function (keep, i) {
          var cx = box.x + (i + 0.5) * band, cy = top + maskRow / 2;
          svgEl("rect", { x: cx - side / 2, y: cy - side / 2, width: side, height: side, "class": keep ? "nd-w-fill-a" : "nd-w-dropped" }, svg);
          if (!keep) {
            var d = side * 0.3;
            svgEl("path", { d: "M" + (cx - d) + "," + (cy - d) + "L" + (cx + d) + "," + (cy + d) + "M" + (cx + d) + "," + (cy - d) + "L" + (cx - d) + "," + (cy + d), "class": "nd-w-cross" }, svg);
          }
        });
        // inputs (outlines) and outputs (filled, narrower)
        r.x.forEach(function (xv, i) {
          var x0 = box.x + i * band;
          svgEl("rect", { x: x0 + band * 0.1, y: a.sy(xv), width: band * 0.8, height: a.sy(0) - a.sy(xv), "class": "nd-w-input" }, svg);
          var yv = r.shown.y[i];
          if (yv > 0) svgEl("rect", { x: x0 + band * 0.25, y: a.sy(yv), width: band * 0.5, height: a.sy(0) - a.sy(yv), "class": "nd-w-fill-a" }, svg);
        });
        svgEl("line", { x1: box.x, x2: box.x + box.w, y1: a.sy(r.shown.meanX), y2: a.sy(r.shown.meanX), "class": "nd-w-ref" }, svg);
        svgEl("line", { x1: box.x, x2: box.x + box.w, y1: a.sy(r.shown.meanY), y2: a.sy(r.shown.meanY), "class": "nd-w-line-a" }, svg);
      },
    });
  }

  function histogram(values, lo, hi, bins) {
    var counts = new Array(bins).fill(0);
    values.forEach(function (v) {
      var k = Math.floor((v - lo) / (hi - lo) * bins);
      counts[Math.min(bins - 1, Math.max(0, k))] += 1;
    });
    return counts;
  }

  function batchStatsWidget(root) {
    var nBatches = 200, start = BATCH_SIZES.indexOf(parseInt(root.getAttribute("data-batch-size") || "16", 10));
    frame(root, {
      title: "200 batches drawn from one population (mean 3, standard deviation 2)",
      label: "Batch size m",
      min: 0, max: BATCH_SIZES.length - 1, step: 1, value: start < 0 ? 3 : start,
      legend: [
        { kind: "box", cls: "nd-w-fill-a", text: "batches (count per bin)" },
        { kind: "line", cls: "nd-w-ref", text: "population value (\u03bc or \u03c3\u00b2)" },
        { kind: "line", cls: "nd-w-line-b", text: "average over the batches" },
      ],
      compute: function (k, seed) {
        var m = BATCH_SIZES[k];
        var r = batchExperiment({ seed: seed, batchSize: m, batches: nBatches });
        r.valueText = String(m);
        r.summary = "Batch size " + m + ", " + nBatches + " batches: \u03bc_B varies with standard deviation " + fmt(r.spreadOfMeans, 2) +
          " across batches (\u03c3/\u221am = " + fmt(r.expectedSpread, 2) + "); \u03c3\u00b2_B ranges from " + fmt(r.minVariance, 2) +
          " to " + fmt(r.maxVariance, 2) + ", average " + fmt(r.averageVariance, 2) + " (population variance " +
          fmt(r.populationVariance, 2) + "; the biased estimate averages (m \u2212 1)/m \u00b7 \u03c3\u00b2 = " + fmt(r.expectedVariance, 2) + ").";
        return r;
      },
      note: "Values beyond the end of an axis are counted in its end bin.",
      draw: function (plot, width, r) {
        var wide = width >= 560, panelH = 230, gap = wide ? 24 : 16;
        var height = wide ? panelH : 2 * panelH + gap;
        var svg = newSvg(plot, width, height, "Histograms of the batch means and batch variances. " + r.summary);
        var panels = [
          { values: r.means, lo: -1, hi: 7, pop: r.populationMean, avg: mean(r.means),
            labels: ["batch mean \u03bc_B (input units)", "batches (count)"], title: "batch means \u03bc_B" },
          { values: r.variances, lo: 0, hi: 16, pop: r.populationVariance, avg: r.averageVariance,
            labels: ["batch variance \u03c3\u00b2_B (input units\u00b2)", "batches (count)"], title: "batch variances \u03c3\u00b2_B (biased)" },
        ];
        var pw = wide ? (width - gap) / 2 : width;
        panels.forEach(function (pnl, j) {
          var ox = wide ? j * (pw + gap) : 0, oy = wide ? 0 : j * (panelH + gap);
          var box = { x: ox + 52, y: oy + 26, w: pw - 52 - 10, h: panelH - 26 - 56 };
          var bins = 32, counts = histogram(pnl.values, pnl.lo, pnl.hi, bins);
          var ymax = niceMax(Math.max(10, Math.max.apply(null, counts)));
          var a = axes(svg, box, [pnl.lo, pnl.hi], [0, ymax], pnl.labels, { title: pnl.title, yLabelOffset: 38 });
          var bw = box.w / bins;
          counts.forEach(function (c, k) {
            if (c) svgEl("rect", { x: box.x + k * bw + 0.5, y: a.sy(c), width: Math.max(bw - 1, 1), height: a.sy(0) - a.sy(c), "class": "nd-w-fill-a" }, svg);
          });
          svgEl("line", { x1: a.sx(pnl.pop), x2: a.sx(pnl.pop), y1: box.y, y2: box.y + box.h, "class": "nd-w-ref" }, svg);
          svgEl("line", { x1: a.sx(pnl.avg), x2: a.sx(pnl.avg), y1: box.y, y2: box.y + box.h, "class": "nd-w-line-b" }, svg);
        });
      },
    });
  }

  function runningMeanWidget(root) {
    var steps = 100, m = 16;
    frame(root, {
      title: "One momentum, two conventions: the running mean over 100 batches of 16",
      label: "Momentum",
      min: 0.01, max: 0.99, step: 0.01, value: root.getAttribute("data-momentum") || 0.1,
      legend: [
        { kind: "line", cls: "nd-w-line-a", text: "PyTorch: (1 \u2212 momentum) \u00b7 running + momentum \u00b7 \u03bc_B" },
        { kind: "line", cls: "nd-w-line-b", text: "Keras: momentum \u00b7 running + (1 \u2212 momentum) \u00b7 \u03bc_B" },
        { kind: "dot", cls: "nd-w-dot", text: "batch mean \u03bc_B" },
        { kind: "line", cls: "nd-w-ref", text: "population mean" },
      ],
      compute: function (a, seed) {
        var r = runningExperiment({ seed: seed, steps: steps, batchSize: m, momentum: a });
        r.valueText = fmt(a, 2);
        r.summary = "Momentum " + fmt(a, 2) + ". PyTorch gives each new batch the weight " + fmt(a, 2) + ": after " + steps +
          " steps the running mean is " + fmt(r.pytorchFinal, 2) + ", and it fluctuates by " + fmt(r.pytorchFluctuation, 2) +
          " (standard deviation over the last " + r.window + " steps). Keras gives each new batch the weight " + fmt(1 - a, 2) +
          ": " + fmt(r.kerasFinal, 2) + ", fluctuating by " + fmt(r.kerasFluctuation, 2) + ". Population mean: " + fmt(r.mean, 2) + ".";
        return r;
      },
      draw: function (plot, width, r) {
        var height = 280;
        var svg = newSvg(plot, width, height, "Trajectories of the running mean under both conventions. " + r.summary);
        var box = { x: 52, y: 12, w: width - 52 - 10, h: height - 12 - 56 };
        var lo = Math.min(0, Math.min.apply(null, r.batchMeans)), hi = Math.max.apply(null, r.batchMeans.concat([r.mean]));
        var yd = [Math.floor(lo - 0.25), Math.ceil(hi + 0.25)];
        var a = axes(svg, box, [0, steps], yd, ["training step (batches seen)", "running mean (input units)"], { yLabelOffset: 38 });
        svgEl("line", { x1: box.x, x2: box.x + box.w, y1: a.sy(r.mean), y2: a.sy(r.mean), "class": "nd-w-ref" }, svg);
        r.batchMeans.forEach(function (b, t) { svgEl("circle", { cx: a.sx(t + 1), cy: a.sy(b), r: 2.2, "class": "nd-w-dot" }, svg); });
        var xs = r.pytorch.map(function (_, t) { return t; });
        polyline(svg, xs, r.keras, a.sx, a.sy, "nd-w-line-b");
        polyline(svg, xs, r.pytorch, a.sx, a.sy, "nd-w-line-a");
      },
    });
  }

  var WIDGETS = { "dropout": dropoutWidget, "batch-stats": batchStatsWidget, "running-mean": runningMeanWidget };

  function init() {
    document.querySelectorAll(".nd-widget[data-widget]").forEach(function (root) {
      var make = WIDGETS[root.getAttribute("data-widget")];
      if (make && !root.classList.contains("nd-widget-ready")) make(root);
    });
  }

  window.ndWidgets = {
    mulberry32: mulberry32, uniforms: uniforms, normals: normals, moments: moments,
    dropout: dropout, dropoutExperiment: dropoutExperiment,
    batchStats: batchStats, batchExperiment: batchExperiment, BATCH_SIZES: BATCH_SIZES.slice(),
    runningMean: runningMean, runningExperiment: runningExperiment,
    init: init, names: Object.keys(WIDGETS),
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
