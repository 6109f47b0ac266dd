"""Question exercises answered on the site, without a kernel, checked in Chromium against ``check()``.

book/_ext/nd_questions.py exports the exercise registry at build time; book/_static/nd_questions.js
adds an answer form under every question exercise and grades the answer in the browser. Here, for
EVERY question of the registry, the browser's verdict (``window.ndQuestions.check(name, text)``) is
compared with the verdict of ``companion.exercises.check`` on the same answer, computed in this
test: the right answer, every registered wrong answer (with its misconception), answers close to
the right one ("Close: give more digits"), other spellings and far-off values. A few questions are
then answered through the form itself, by mouse and keyboard; the answers survive a reload
(localStorage); code exercises say that they need a notebook; the forms are readable in light and
dark mode and nothing is requested from another host.
"""
import ast
import json
import re
import subprocess
import sys
from fractions import Fraction
from urllib.parse import urljoin

import numpy as np
import pytest

from companion.exercises import check, registry
from companion.exercises.results import MISCONCEPTION, plain

from _chromium import PageLog
from _site import DESKTOP, PAGES, PHONE, REPO, exercise_labels, new_page

READY = "() => window.ndQuestions && window.ndQuestionsData && document.readyState === 'complete'"


def exercise_names(docname):
    """The exercise names (labels without ``ex-``) of one page."""
    return [label.removeprefix("ex-") for label in exercise_labels(docname)]


ENTRIES = {e.name: e for e in registry.exercises()}
QUESTIONS = sorted(name for name, e in ENTRIES.items() if e.kind != "code")
CODE = sorted(name for name, e in ENTRIES.items() if e.kind == "code")
PAGE_OF = {name: doc for doc in PAGES for name in exercise_names(doc)}


def python_value(text):
    """What ``answer_<name> = <text>`` assigns in a notebook, for the forms the page reads: a number
    literal, signed, or the quotient of two. ``None`` when Python refuses it (a syntax error, a
    division by zero) or it is another kind of expression."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None

    def number(node):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            node = node.operand
        return (isinstance(node, ast.Constant) and type(node.value) in (int, float)
                and re.fullmatch(r"[\d_.eE+-]+", ast.unparse(node)) is not None)

    body = tree.body
    if not (number(body) or (isinstance(body, ast.BinOp) and isinstance(body.op, ast.Div)
                             and number(body.left) and number(body.right))):
        return None
    try:
        return eval(compile(tree, "<answer>", "eval"), {"__builtins__": {}})
    except ZeroDivisionError:
        return None


def verdict(name, text):
    """``check()``'s verdict on ``text`` typed for question ``name``, as the fields the page shows."""
    q = ENTRIES[name]
    answer = text if q.kind == "choice" else python_value(text)
    assert answer is not None, f"{text!r} is not an answer Python accepts"
    result = check(name, answer)
    return {"status": result.status, "summary": plain(result.summary), "hint": result.hint,
            "message": result.message}


def answers_to_try(name):
    """Answers to compare for one question: right, every registered wrong one, close, other spellings."""
    q = ENTRIES[name]
    if q.kind == "choice":
        letters = sorted(q.choices)
        texts = [letter for letter in letters] + [f"({letter.upper()})" for letter in letters]
        texts += [f"  {letters[0]} ", "z", "(ab)", "a b", "'", "A\\"]
        return texts
    texts = [repr(q.answer)] + [repr(w) for w in q.wrong]
    texts += [f"{w:.6g}" for w in q.wrong] + [f"{w:.4e}" for w in q.wrong]
    targets = [q.answer, *q.wrong]
    if q.kind == "count":
        texts += [f"{q.answer}.0", f"{q.answer}.5", f"{q.answer + 1}", f"{-q.answer}", "0", "1e20",
                  f"{q.answer * 2}/2", f"{q.answer}/7"]
        return texts
    for target in targets:
        tol = q.tolerance(target)
        for k in (0.5, 0.999, 1.5, 2, 3, 5, 9.5, 10.5, 20):
            texts += [repr(target + k * tol), repr(target - k * tol)]
    for digits in range(1, 9):  # the right answer rounded to too few (and enough) digits
        texts.append(f"{q.answer:.{digits}g}")
    fraction = Fraction(q.answer).limit_denominator(1000)
    texts.append(f"{fraction.numerator}/{fraction.denominator}")
    texts += [f"{q.answer:.3e}", f"{q.answer * 100:g}/100", f"{-q.answer!r}", "0", "-0.0", "1e300", "1e-300",
              "1e400", "-1e400", "1e400/1e400", "1_0.5", ".5", "5.", "+3", "1E3", "2/3"]
    rng = np.random.default_rng(len(name))
    texts += [repr(float(q.answer * (1 + u))) for u in rng.normal(scale=0.01, size=10)]
    return texts


@pytest.fixture(scope="module")
def questions_page(browser, server):
    """One page with forms, ready, with an empty localStorage, and its PageLog."""
    page = new_page(browser, DESKTOP)
    log = PageLog(page)
    page.goto(urljoin(server, PAGE_OF[QUESTIONS[0]] + ".html"))
    page.wait_for_function(READY)
    yield page, log
    page.close()


def js_check(page, pairs):
    return page.evaluate("pairs => pairs.map(([name, text]) => window.ndQuestions.check(name, text))", pairs)


# --------------------------------------------------------------------------------------------
# Coverage: every question of the registry has a form on its page
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pages_with_exercises(browser, server):
    """Every page with exercises, opened once: its forms, its code-exercise notes, its PageLog."""
    seen = {}
    for doc in sorted(set(PAGE_OF.values())):
        page = new_page(browser, DESKTOP)
        log = PageLog(page)
        response = page.goto(urljoin(server, doc + ".html"))
        page.wait_for_function(READY)
        seen[doc] = page.evaluate("""() => ({
            forms: [...document.querySelectorAll('form.nd-q')].map(f => f.dataset.exercise),
            formsAfter: [...document.querySelectorAll('form.nd-q')].map(f => f.previousElementSibling.id),
            notesAfter: [...document.querySelectorAll('.nd-q-code')].map(n => n.previousElementSibling.id),
        })""")
        seen[doc].update(status=response.status, problems=log.problems())
        page.close()
    return seen


def test_every_question_can_be_answered_on_its_page(pages_with_exercises):
    assert QUESTIONS and CODE
    assert sorted(PAGE_OF) == sorted(ENTRIES), "every registered exercise is on a page of the book, and no other"
    answerable = []
    for doc, seen in pages_with_exercises.items():
        names = exercise_names(doc)
        questions = [n for n in names if ENTRIES[n].kind != "code"]
        code = [n for n in names if ENTRIES[n].kind == "code"]
        assert seen["forms"] == questions, f"{doc}: forms for {seen['forms']}, questions {questions}"
        assert seen["formsAfter"] == [f"ex-{n}" for n in questions], f"{doc}: a form is not under its exercise"
        assert seen["notesAfter"] == [f"ex-{n}" for n in code], f"{doc}: code exercises without the notebook note"
        answerable += seen["forms"]
    assert sorted(answerable) == QUESTIONS
    print(f"{len(QUESTIONS)} questions can be answered on the site; {len(CODE)} code exercises need a notebook")


def test_pages_with_forms_load_cleanly_and_nothing_from_another_host(pages_with_exercises, browser):
    for doc, seen in pages_with_exercises.items():
        assert seen["status"] == 200, doc
        assert not seen["problems"], f"{doc}:\n" + "\n".join(seen["problems"])
    assert not browser.off_host, f"requests to other hosts: {browser.off_host[:5]}"


# --------------------------------------------------------------------------------------------
# The browser grades as check() does
# --------------------------------------------------------------------------------------------
def test_in_page_checker_agrees_with_check_on_every_question(questions_page):
    page, log = questions_page
    pairs = [(name, text) for name in QUESTIONS for text in answers_to_try(name)]
    got = js_check(page, pairs)
    mismatches = []
    for (name, text), js in zip(pairs, got, strict=True):
        want = verdict(name, text)
        if js is None or any(js[k] != want[k] for k in want):
            mismatches.append(f"{name} {text!r}:\n  page:   {js}\n  check(): {want}")
    assert not mismatches, f"{len(mismatches)} of {len(pairs)} verdicts differ:\n" + "\n".join(mismatches[:10])
    assert not log.problems(), log.problems()


def test_every_question_right_wrong_and_close(questions_page):
    """The three verdicts of the issue, on every question: pass, each misconception, and "close"."""
    page, _ = questions_page
    for name in QUESTIONS:
        q = ENTRIES[name]
        right = q.answer if q.kind == "choice" else repr(q.answer)
        wrong = [w if q.kind == "choice" else repr(w) for w in q.wrong]
        results = js_check(page, [(name, right)] + [(name, w) for w in wrong])
        assert results[0]["status"] == "pass", f"{name}: the right answer {right} does not pass: {results[0]}"
        for w, hint, js in zip(wrong, q.wrong.values(), results[1:], strict=True):
            assert js["status"] == "fail" and js["hint"] == hint, f"{name}: wrong answer {w} gives {js}"
            assert js["message"] == verdict(name, w)["message"]
        if q.kind == "numeric":
            close = [t for t in answers_to_try(name) if verdict(name, t)["summary"].startswith("Close: give more digits.")]
            assert close, f"{name}: no close answer among the ones tried"
            for js, text in zip(js_check(page, [(name, t) for t in close]), close, strict=True):
                assert js["message"] == verdict(name, text)["message"], text


def test_numbers_are_formatted_and_read_as_python_does(questions_page):
    page, _ = questions_page
    rng = np.random.default_rng(16)
    values = [0.0, -0.0, 1.0, -1.5, 0.5, 2.5, 12345.25, 1234565.0, 123456.5, 9999995.0, 999999.5, 0.1, 1 / 3,
              2 / 3, 1e-4, 9.99999e-5, 0.000123456789, 1e16, 1e22, 123456789.0, 5e-324, 1.7976931348623157e308,
              2.2250738585072014e-308, 0.30000000000000004, 100000.0, 1000000.0, 999999.4, 0.00001]
    values += [float(v) for v in rng.normal(size=30) * 10.0 ** rng.integers(-12, 12, size=30)]
    got = page.evaluate("vs => vs.map(v => [ndQuestions.formatG(v, 6), ndQuestions.formatG(v, 3)])", values)
    for v, (six, three) in zip(values, got, strict=True):
        assert (six, three) == (f"{v:.6g}", f"{v:.3g}"), repr(v)

    texts = ["1", "-2", "+3", "0.25", ".5", "5.", "1e3", "1E-3", "2.5e+2", "1_000", "1_0.5", "1e1_0", "1/4",
             "-1/3", " 3 / 4 ", "1/-2", "0", "00", "0_0", "007.5", "00e1", "12345678901234567", "1e400",
             # what Python refuses, and so does the page
             "007", "1__0", "1_", "_1", "1._5", "1e", "e3", "1/0", "1/0.0", "abc", "1,5", "1.2.3", "--1",
             "1/2/3", "", "   "]
    got = page.evaluate("ts => ts.map(t => ndQuestions.parseNumber(t))", texts)
    for text, js in zip(texts, got, strict=True):
        value = python_value(text) if text.strip() else None
        if value is None:
            assert "error" in js, f"{text!r}: Python refuses it, the page reads {js}"
        else:
            assert "error" not in js and js["value"] == float(value), f"{text!r}: Python {value!r}, page {js}"
    # Hexadecimal, octal, binary and complex literals, and parentheses, are Python but not read by the page
    assert all("error" in js for js in page.evaluate("ts => ts.map(t => ndQuestions.parseNumber(t))",
                                                    ["0x10", "0o7", "0b1", "1j", "(1)"]))


def test_what_only_the_page_can_get_is_answered_plainly(questions_page):
    """An empty answer, and text that is no number: verdicts Python never sees, in plain words."""
    page, _ = questions_page
    numeric = next(n for n in QUESTIONS if ENTRIES[n].kind == "numeric")
    choice = next(n for n in QUESTIONS if ENTRIES[n].kind == "choice")
    empty, text, division, blank = js_check(page, [(numeric, ""), (numeric, "two"), (numeric, "1/0"), (choice, " ")])
    assert empty["status"] == blank["status"] == "todo"
    assert "Type your answer" in empty["message"] and "Choose an answer" in blank["message"]
    assert text["status"] == "fail" and "'two' is not a number" in text["message"]
    assert ENTRIES[numeric].expected in text["message"]
    assert division["status"] == "fail" and "division by zero" in division["message"]
    code = js_check(page, [(CODE[0], "anything")])[0]
    assert code["status"] == "todo" and "needs a notebook" in code["message"]


# --------------------------------------------------------------------------------------------
# The form itself: mouse, keyboard, screen readers, reload
# --------------------------------------------------------------------------------------------
def expected_text(name, text):
    result = check(name, text if ENTRIES[name].kind == "choice" else python_value(text))
    symbol, words = {"pass": ("\u2714", "passed"), "fail": ("\u2718", "not passed")}[result.status]
    parts = [symbol, words, plain(result.summary)]
    if result.hint:
        parts += [MISCONCEPTION, plain(result.hint)]
    return " ".join(" ".join(parts).split())


def shown(form):
    return " ".join(form.locator(".nd-q-result").inner_text().split())


def form_of(page, name):
    return page.locator(f'form.nd-q[data-exercise="{name}"]')


def fresh(page, url):
    page.goto(url)
    page.wait_for_function(READY)
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_function(READY)


def test_answering_with_mouse_and_keyboard_and_a_reload(browser, server):
    numeric = next(n for n in QUESTIONS if ENTRIES[n].kind == "numeric" and ENTRIES[n].wrong and ENTRIES[n].rtol)
    choice = next(n for n in QUESTIONS if ENTRIES[n].kind == "choice" and ENTRIES[n].wrong)
    page = new_page(browser, DESKTOP)
    log = PageLog(page)
    done = {}
    for name in (numeric, choice):
        q = ENTRIES[name]
        fresh(page, urljoin(server, PAGE_OF[name] + ".html"))
        form = form_of(page, name)
        region = form.locator(".nd-q-result")
        assert region.get_attribute("aria-live") == "polite" and region.get_attribute("role") == "status"
        if q.kind == "numeric":
            field = form.get_by_label(re.compile(r"^Your answer to Exercise \d+$"))
            assert field.count() == 1, "the answer field has no label"
            close = f"{q.answer * (1 + 3 * q.rtol):.{q.digits + 1}g}"
            wrong = repr(next(iter(q.wrong)))
            for text, how in ((repr(q.answer), "click"), (wrong, "enter"), (close, "click")):
                field.fill(text)
                if how == "enter":
                    field.press("Enter")
                else:
                    form.get_by_role("button", name="Check").click()
                assert shown(form) == expected_text(name, text), text
            assert shown(form).startswith("\u2718 not passed Close: give more digits.")
            done[name] = (close, shown(form))
        else:
            letters = sorted(q.choices)
            wrong = next(iter(q.wrong))
            radio = form.get_by_role("radio", name=re.compile(rf"^\({wrong}\)"))
            radio.focus()
            page.keyboard.press("Space")  # a radio button is chosen with the keyboard
            assert radio.is_checked()
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "Check"
            page.keyboard.press("Enter")
            assert shown(form) == expected_text(name, wrong)
            assert MISCONCEPTION in shown(form)
            form.get_by_role("radio", name=re.compile(rf"^\({q.answer}\)")).click()
            form.get_by_role("button", name="Check").click()
            assert shown(form) == expected_text(name, q.answer)
            form.get_by_role("radio", name=re.compile(rf"^\({wrong}\)")).click()  # chosen, not checked yet
            assert len(letters) == form.get_by_role("radio").count()
            done[name] = (wrong, None)
        page.reload()
        page.wait_for_function(READY)
        form = form_of(page, name)
        answer, text = done[name]
        if q.kind == "numeric":
            assert form.locator("input.nd-q-input").input_value() == answer, "the answer was not kept"
            assert shown(form) == text, "the verdict was not shown again after a reload"
        else:
            assert form.locator(f'input[value="{answer}"]').is_checked(), "the choice was not kept"
    page.close()
    assert not log.problems(), log.problems()


def test_code_exercises_say_they_need_a_notebook(browser, server):
    page = new_page(browser, DESKTOP)
    log = PageLog(page)
    page.goto(urljoin(server, PAGE_OF[CODE[0]] + ".html"))
    page.wait_for_function(READY)
    note = page.locator(f"#ex-{CODE[0]} + .nd-q-code")
    assert "A code exercise needs a notebook." in note.inner_text()
    link = note.get_by_role("link", name="this chapter's notebook")
    response = page.request.get(urljoin(page.url, link.get_attribute("href")))
    assert response.status == 200
    notebook = json.loads(response.text())
    assert notebook["cells"], "the notebook link serves no notebook"
    page.close()
    assert not log.problems(), log.problems()


CONTRAST = """() => {
    const lum = c => {
        const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
            .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const opaque = c => { const m = c.match(/[\\d.]+/g); return m && (m.length < 4 || Number(m[3]) === 1); };
    const background = el => {
        for (; el; el = el.parentElement) {
            const bg = getComputedStyle(el).backgroundColor;
            if (opaque(bg)) { return bg; }
        }
        return "rgb(255, 255, 255)";
    };
    const out = [];
    for (const form of document.querySelectorAll(".nd-q")) {
        out.push({form: true, bg: lum(background(form))});
        for (const el of form.querySelectorAll("*")) {
            const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            if (!own || !el.getClientRects().length) { continue; }
            const fg = lum(getComputedStyle(el).color), bg = lum(background(el));
            const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
            out.push({text: el.textContent.trim().slice(0, 40), ratio: ratio, bg: bg});
        }
    }
    return out;
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_forms_are_readable_in_light_and_dark_mode_and_on_a_phone(browser, server, theme):
    numeric = next(n for n in QUESTIONS if ENTRIES[n].kind == "numeric" and ENTRIES[n].wrong)
    q = ENTRIES[numeric]
    page = new_page(browser, DESKTOP)
    log = PageLog(page)
    fresh(page, urljoin(server, PAGE_OF[numeric] + ".html"))
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    form = form_of(page, numeric)
    measured = []
    for text, status in ((repr(q.answer), "pass"), (repr(next(iter(q.wrong))), "fail"), ("", "todo")):
        form.locator("input.nd-q-input").fill(text)
        form.get_by_role("button", name="Check").click()
        assert form.locator(".nd-q-result").get_attribute("data-status") == status
        measured += page.evaluate(CONTRAST)
    texts = [m for m in measured if not m.get("form")]
    assert len(texts) > 10
    low = [m for m in texts if m["ratio"] < 4.5]
    assert not low, f"{theme}: text with a contrast under 4.5: {low[:5]}"
    backgrounds = {round(m["bg"], 3) for m in measured if m.get("form")}
    assert all(bg < 0.05 for bg in backgrounds) if theme == "dark" else all(bg > 0.8 for bg in backgrounds), (
        f"{theme} mode: unexpected background luminances {backgrounds}")
    page.set_viewport_size(PHONE)
    wide = page.evaluate("[...document.querySelectorAll('.nd-q')].filter(f => f.scrollWidth > f.clientWidth + 1).length")
    assert wide == 0, "an answer form is wider than a phone's screen"
    page.close()
    assert not log.problems(), log.problems()


def test_data_is_loaded_only_by_pages_with_exercises(html_dir):
    for doc in PAGES:
        text = (html_dir / f"{doc}.html").read_text(encoding="utf8")
        assert ("nd_questions.js" in text) == bool(exercise_names(doc)), doc
    data = json.loads((html_dir / "_static" / "nd_questions.json").read_text(encoding="utf8"))
    assert sorted(data["exercises"]) == sorted(ENTRIES)


def test_an_exercise_label_that_names_no_registered_exercise_fails_the_build(tmp_path):
    """A form that could check nothing is a build error; a registered question gets its form's assets."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text(f"import sys\nsys.path[:0] = [{str(REPO)!r}, {str(REPO / 'book' / '_ext')!r}]\n"
                                 "extensions = ['myst_parser', 'sphinx_exercise', 'nd_questions']\n")
    (src / "index.md").write_text(f"# Page\n\n```{{exercise}}\n:label: ex-{QUESTIONS[0]}\n\nA question.\n```\n\n"
                                  "```{exercise}\n:label: ex-no_such_question\n\nAnother.\n```\n")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", str(src), str(out)],
                          capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "'ex-no_such_question' names no registered exercise" in log, log
    assert "nd_questions.js" in (out / "index.html").read_text(encoding="utf8")
    data = (out / "_static" / "nd_questions_data.js").read_text(encoding="utf8")
    assert f'"{QUESTIONS[0]}"' in data and "window.ndQuestionsData = {" in data
