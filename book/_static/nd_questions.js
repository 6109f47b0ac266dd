/* Normalize & Drop: answer the question exercises on the page, without a kernel.
 *
 * The data (window.ndQuestionsData, from _static/nd_questions_data.js) is exported at build time by
 * book/_ext/nd_questions.py from the registry that check() uses (companion/exercises/export.py):
 * the right answers, the tolerances, the registered wrong answers with their misconception hints and
 * the verdict texts. check(name, text) below grades an answer as companion/exercises/grading.py's
 * grade_question does, and writes the verdict as Python writes it (numbers formatted like Python's
 * f"{value:.6g}"). tests/book/test_site_questions.py compares the two on every question.
 *
 * Under each question exercise (div.exercise#ex-<name>) it adds a form: a text field for a number,
 * radio buttons for a choice, a Check button and a verdict region announced to screen readers.
 * Answers are kept in the browser's localStorage. Code exercises get a note: they need a notebook.
 * Nothing is loaded from anywhere: no network, no kernel.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "nd-questions:v1";
  var FORMAT_VERSION = 1;
  var HEADLINE = {
    pass: ["\u2714", "passed"],
    fail: ["\u2718", "not passed"],
    todo: ["\u2026", "not attempted yet"]
  };

  // ------------------------------------------------------------------------------------------ Python's %g
  // Exact decimal digits of a finite double x > 0: x = BigInt(digits) * 10^(-scale).
  function exactDecimal(x) {
    var view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    var hi = view.getUint32(0), lo = view.getUint32(4);
    var e = (hi >>> 20) & 0x7ff;
    var m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    if (e === 0) { e = 1; } else { m |= 1n << 52n; }
    e -= 1075;  // x = m * 2^e
    if (e >= 0) { return { digits: (m << BigInt(e)).toString(), scale: 0 }; }
    return { digits: (m * 5n ** BigInt(-e)).toString(), scale: -e };  // m / 2^k = m * 5^k / 10^k
  }

  // Python's format(x, ".<p>g"): rounded half-even on the exact value, trailing zeros removed.
  function formatG(x, p) {
    if (p === undefined) { p = 6; }
    if (p === 0) { p = 1; }
    if (Number.isNaN(x)) { return "nan"; }
    if (!Number.isFinite(x)) { return x > 0 ? "inf" : "-inf"; }
    var sign = (x < 0 || Object.is(x, -0)) ? "-" : "";
    if (x === 0) { return sign + "0"; }
    var ex = exactDecimal(Math.abs(x));
    var all = ex.digits;
    var exp = all.length - 1 - ex.scale;  // x = d.ddd * 10^exp
    var kept;
    if (all.length <= p) {
      kept = all + "0".repeat(p - all.length);
    } else {
      kept = all.slice(0, p);
      var rest = all.slice(p);
      var up;
      if (rest[0] > "5") { up = true; }
      else if (rest[0] < "5") { up = false; }
      else if (/[1-9]/.test(rest.slice(1))) { up = true; }
      else { up = (Number(kept[kept.length - 1]) % 2) === 1; }  // a tie: to even
      if (up) {
        kept = (BigInt(kept) + 1n).toString();
        if (kept.length > p) { kept = kept.slice(0, p); exp += 1; }
      }
    }
    var out;
    if (exp >= -4 && exp < p) {
      var intPart, frac;
      if (exp >= 0) { intPart = kept.slice(0, exp + 1); frac = kept.slice(exp + 1); }
      else { intPart = "0"; frac = "0".repeat(-exp - 1) + kept; }
      frac = frac.replace(/0+$/, "");
      out = frac ? intPart + "." + frac : intPart;
    } else {
      var mant = kept.slice(1).replace(/0+$/, "");
      var e10 = Math.abs(exp);
      out = kept[0] + (mant ? "." + mant : "") + "e" + (exp < 0 ? "-" : "+") + (e10 < 10 ? "0" : "") + e10;
    }
    return sign + out;
  }

  // Python's str() of a float that is not finite, and repr() of a str (for the verdict texts).
  function floatStr(x) {
    if (Number.isNaN(x)) { return "nan"; }
    if (!Number.isFinite(x)) { return x > 0 ? "inf" : "-inf"; }
    return String(x);
  }

  function pyRepr(s) {
    var quote = (s.indexOf("'") >= 0 && s.indexOf('"') < 0) ? '"' : "'";
    var out = "";
    for (var i = 0; i < s.length; i++) {
      var c = s[i], code = s.charCodeAt(i);
      if (c === "\\") { out += "\\\\"; }
      else if (c === quote) { out += "\\" + c; }
      else if (c === "\n") { out += "\\n"; }
      else if (c === "\r") { out += "\\r"; }
      else if (c === "\t") { out += "\\t"; }
      else if (code < 0x20 || code === 0x7f) { out += "\\x" + code.toString(16).padStart(2, "0"); }
      else { out += c; }
    }
    return quote + out + quote;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  // Python's str.strip(): whitespace, or the given characters.
  function strip(s, chars) {
    if (chars === undefined) { return s.replace(/^\s+|\s+$/g, ""); }
    var a = 0, b = s.length;
    while (a < b && chars.indexOf(s[a]) >= 0) { a++; }
    while (b > a && chars.indexOf(s[b - 1]) >= 0) { b--; }
    return s.slice(a, b);
  }

  // ------------------------------------------------------------------------------------------ numbers
  // What a reader types is read as the Python expression it would be in the notebook's
  // `answer_<name> = ...`: a number literal (1.5, .25, 2e-3, 1_000, +3) or the quotient of two (1/4).
  var LITERAL = "[+-]?(?:\\d(?:_?\\d)*(?:\\.(?:\\d(?:_?\\d)*)?)?|\\.\\d(?:_?\\d)*)(?:[eE][+-]?\\d(?:_?\\d)*)?";
  var NUMBER = new RegExp("^\\s*(" + LITERAL + ")\\s*(?:/\\s*(" + LITERAL + ")\\s*)?$");

  function literal(text) { return Number(text.replace(/_/g, "")); }

  // Python refuses an integer literal with leading zeros (007), but not a float (007.5, 00e1).
  function leadingZeros(text) { return /^[+-]?0[\d_]*$/.test(text) && /[1-9]/.test(text); }

  // {value: number} or {error: text}
  function parseNumber(text) {
    var m = NUMBER.exec(text);
    if (!m || leadingZeros(m[1]) || (m[2] !== undefined && leadingZeros(m[2]))) { return { error: "not a number" }; }
    var value = literal(m[1]);
    if (m[2] !== undefined) {
      var den = literal(m[2]);
      if (den === 0) { return { error: "a division by zero" }; }
      value = value / den;
    }
    return { value: value };
  }

  // ------------------------------------------------------------------------------------------ grading
  function data() {
    var d = window.ndQuestionsData;
    return (d && d.version === FORMAT_VERSION) ? d : null;
  }

  function result(status, summary, hint, misconception) {
    var d = data();
    var message = hint ? (summary + "\n" + d.misconception + " " + hint).trim() : summary;
    return { status: status, summary: summary, hint: hint || null, misconception: misconception || null,
             message: message.replace(/`([^`\n]+)`/g, "$1") };
  }

  function tolerance(q, target) {
    return q.kind === "count" ? 0 : q.atol + q.rtol * Math.abs(target);
  }

  function numericVerdict(q, value, d) {
    var text = d.messages;
    if (q.kind === "count" && value !== Math.round(value)) {
      return result("fail", format(text.not_whole, { value: formatG(value, 6) }));
    }
    function close(target, factor) {
      return Math.abs(value - target) <= (factor === undefined ? 1 : factor) * tolerance(q, target);
    }
    var shown = q.kind === "count" ? BigInt(value).toString() : formatG(value, 6);
    if (close(q.answer)) {
      return result("pass", format(text.right, { explanation: q.explanation }).trim());
    }
    for (var i = 0; i < q.wrong.length; i++) {
      if (close(q.wrong[i][0])) {
        return result("fail", format(text.wrong, { shown: shown }), q.wrong[i][1], formatG(q.wrong[i][0], 6));
      }
    }
    if (q.kind === "numeric" && close(q.answer, d.close_factor)) {
      return result("fail", format(text.close, { shown: shown, expected: q.expected }));
    }
    return result("fail", format(text.wrong, { shown: shown }));
  }

  function choiceVerdict(q, answer, d) {
    var text = d.messages;
    var letters = q.choices.map(function (c) { return c[0]; });
    var letter = strip(strip(strip(answer), "()")).toLowerCase();
    if (letters.indexOf(letter) < 0) {
      return result("fail", format(text.not_a_choice, { answer: pyRepr(answer), choices: letters.slice().sort().join(", ") }));
    }
    if (letter === q.answer) {
      return result("pass", format(text.right, { explanation: q.explanation }).trim());
    }
    for (var i = 0; i < q.wrong.length; i++) {
      if (q.wrong[i][0] === letter) {
        return result("fail", format(text.choice_wrong, { letter: letter }), q.wrong[i][1], letter);
      }
    }
    return result("fail", format(text.choice_wrong, { letter: letter }));
  }

  // The verdict on the answer `text` (what the reader typed, or the letter chosen) to question `name`.
  function check(name, text) {
    var d = data();
    if (!d) { return null; }
    var q = d.exercises[name];
    if (!q) { return null; }
    if (q.kind === "code") {
      return result("todo", "This is a code exercise: its checker runs your Python function, which needs a notebook.");
    }
    text = text === undefined || text === null ? "" : String(text);
    if (strip(text) === "") {
      return result("todo", q.kind === "choice" ? "Choose an answer, then press Check."
                                                 : "Type your answer, then press Check.");
    }
    if (q.kind === "choice") { return choiceVerdict(q, text, d); }
    var parsed = parseNumber(text);
    if (parsed.error) {
      return result("fail", "Expected " + q.expected + ": " + pyRepr(strip(text)) + " is " + parsed.error +
                    (q.kind === "count" ? "." : ". Type a number such as 0.25, 1/4 or 2.5e-3."));
    }
    if (!Number.isFinite(parsed.value)) {
      return result("fail", format(d.messages.not_finite, { value: floatStr(parsed.value) }));
    }
    return numericVerdict(q, parsed.value, d);
  }

  // ------------------------------------------------------------------------------------------ storage
  function loadAll() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "{}");
      return (saved && typeof saved === "object") ? saved : {};
    } catch (e) {
      return {};
    }
  }

  function save(name, answer, checked) {
    try {
      var saved = loadAll();
      saved[name] = { answer: answer, checked: checked };
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    } catch (e) { /* storage disabled or full: the form still works */ }
  }

  // ------------------------------------------------------------------------------------------ page
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  // A verdict text with `code` spans, as the notebook's verdict shows it.
  function rich(text) {
    var span = document.createElement("span");
    text.split(/(`[^`\n]+`)/).forEach(function (part) {
      if (/^`[^`\n]+`$/.test(part)) { span.appendChild(el("code", { text: part.slice(1, -1) })); }
      else if (part) { span.appendChild(document.createTextNode(part)); }
    });
    return span;
  }

  function showVerdict(region, r) {
    region.textContent = "";
    region.className = "nd-q-result nd-q-" + r.status;
    region.setAttribute("data-status", r.status);
    var head = HEADLINE[r.status];
    region.appendChild(el("p", { "class": "nd-q-verdict" }, [
      el("span", { "aria-hidden": "true", "class": "nd-q-symbol", text: head[0] + " " }),
      el("strong", { text: head[1] })]));
    var summary = el("p", { "class": "nd-q-summary" });
    summary.appendChild(rich(r.summary));
    region.appendChild(summary);
    if (r.hint) {
      var hint = el("p", { "class": "nd-q-hint" }, [el("strong", { text: data().misconception }), " "]);
      hint.appendChild(rich(r.hint));
      region.appendChild(hint);
    }
  }

  function titleOf(box) {
    var number = box.querySelector(".admonition-title .caption-number");
    return number ? number.textContent.trim() : "this exercise";
  }

  function questionForm(box, name, q, saved) {
    var id = "nd-q-" + name;
    var form = el("form", { "class": "nd-q", "data-exercise": name, "aria-label": "Answer " + titleOf(box),
                            novalidate: "" });
    form.appendChild(el("p", { "class": "nd-q-title" }, [
      el("strong", { text: "Check your answer here" }),
      " (in your browser, no notebook needed):"]));
    var getAnswer, setAnswer;
    if (q.kind === "choice") {
      var fieldset = el("fieldset", { "class": "nd-q-choices" }, [el("legend", { text: "Your answer to " + titleOf(box) })]);
      q.choices.forEach(function (choice) {
        var inputId = id + "-" + choice[0];
        var input = el("input", { type: "radio", name: id, value: choice[0], id: inputId });
        var label = el("label", { "for": inputId }, ["(" + choice[0] + ") "]);
        label.appendChild(rich(choice[1]));
        fieldset.appendChild(el("div", { "class": "nd-q-choice" }, [input, label]));
      });
      form.appendChild(fieldset);
      getAnswer = function () {
        var picked = form.querySelector("input[type=radio]:checked");
        return picked ? picked.value : "";
      };
      setAnswer = function (value) {
        var input = form.querySelector('input[type=radio][value="' + String(value).replace(/["\\]/g, "") + '"]');
        if (input) { input.checked = true; }
      };
    } else {
      var field = el("input", { type: "text", id: id + "-input", "class": "nd-q-input", inputmode: "decimal",
                                autocomplete: "off", spellcheck: "false", "aria-describedby": id + "-help" });
      form.appendChild(el("div", { "class": "nd-q-field" }, [
        el("label", { "for": id + "-input", text: "Your answer to " + titleOf(box) }), field]));
      form.appendChild(el("p", { "class": "nd-q-help", id: id + "-help",
                                 text: "Expected: " + q.expected + "." +
                                       (q.kind === "count" ? "" : " For example 0.25, 1/4 or 2.5e-3.") }));
      getAnswer = function () { return field.value; };
      setAnswer = function (value) { field.value = value; };
    }
    var button = el("button", { type: "submit", "class": "nd-q-check", text: "Check" });
    form.appendChild(el("div", { "class": "nd-q-actions" }, [button]));
    var region = el("div", { "class": "nd-q-result", id: id + "-result", role: "status", "aria-live": "polite" });
    form.appendChild(region);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answer = getAnswer();
      save(name, answer, true);
      showVerdict(region, check(name, answer));
    });
    form.addEventListener("input", function () { save(name, getAnswer(), false); });
    form.addEventListener("change", function () { save(name, getAnswer(), false); });
    if (saved && typeof saved.answer === "string") {
      setAnswer(saved.answer);
      if (saved.checked) { showVerdict(region, check(name, saved.answer)); }
    }
    return form;
  }

  function notebookLink() {
    var a = document.querySelector('a[href$=".ipynb"][href*="_sources/"]');
    return a ? a.getAttribute("href") : null;
  }

  function codeNote(box) {
    var note = el("div", { "class": "nd-q nd-q-code", role: "note" }, [
      el("p", {}, [el("strong", { text: "A code exercise needs a notebook." }),
                   " Its checker runs your Python function, which a web page cannot do. "])]);
    var p = note.firstChild;
    var href = notebookLink();
    if (href) {
      p.appendChild(document.createTextNode("Download "));
      p.appendChild(el("a", { href: href, download: "", text: "this chapter's notebook" }));
      p.appendChild(document.createTextNode(" (exercises without solutions), or open it with a launch button at the "
                                            + "top of the page, then run its cells and the check under " + titleOf(box) + "."));
    } else {
      p.appendChild(document.createTextNode("Open the chapter as a notebook with a launch button at the top of the "
                                            + "page, then run its cells and the check under " + titleOf(box) + "."));
    }
    return note;
  }

  function setup() {
    var d = data();
    if (!d) { return; }
    var saved = loadAll();
    document.querySelectorAll("div.exercise[id^='ex-']").forEach(function (box) {
      var name = box.id.slice(3);
      var q = d.exercises[name];
      if (!q || box.nextElementSibling && box.nextElementSibling.classList.contains("nd-q")) { return; }
      var node = q.kind === "code" ? codeNote(box) : questionForm(box, name, q, saved[name]);
      box.parentNode.insertBefore(node, box.nextSibling);
    });
  }

  window.ndQuestions = { check: check, formatG: formatG, parseNumber: parseNumber, storageKey: STORAGE_KEY };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
