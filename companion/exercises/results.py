"""The verdict of a check: a :class:`Result`, rendered as compact HTML in Jupyter and as text elsewhere.

Rendering is deterministic (no timings, addresses or random ids), so that notebooks can store the
"not attempted yet" and "passed" outputs and nbval can compare them.

The HTML carries stable hooks for browser tests: the outer element has the class ``nd-check`` plus
one of ``nd-check-pass`` / ``nd-check-fail`` / ``nd-check-todo``, and ``data-exercise="<name>"``.
The verdict is spelled out in text (not colour alone); there are no scripts and no external resources.
"""
import html
import re

__all__ = ["FAIL", "MISCONCEPTION", "PASS", "TODO", "Result", "plain", "to_html"]

PASS, FAIL, TODO = "pass", "fail", "todo"

_HEADLINE = {PASS: ("\u2714", "passed"), FAIL: ("\u2718", "not passed"), TODO: ("\u2026", "not attempted yet")}
_COLOUR = {PASS: "#1a7f37", FAIL: "#b42318", TODO: "#6b7280"}
_OUTPUT_LINES = 20
#: The words that introduce a recognised misconception's hint in a verdict.
MISCONCEPTION = "Likely misconception:"
_CODE = re.compile(r"`([^`\n]+)`")


def plain(text):
    """A verdict's text for a terminal, a CSV or JSON: the backticks around code removed."""
    return _CODE.sub(r"\1", text or "")


def to_html(text):
    """A verdict's text as HTML: escaped, code between backticks in ``<code>``, line breaks kept."""
    escaped = html.escape(text or "")
    return _CODE.sub(r"<code>\1</code>", escaped).replace("\n", "<br>")


class Result:
    """The outcome of ``check(name, submission)``.

    Parameters
    ----------
    name : str
        The exercise's name.
    status : {"pass", "fail", "todo"}
    summary : str
        The verdict in words, without the hint.
    hint : str, optional
        The hint of the recognised misconception.
    misconception : str, optional
        The name of the recognised misconception (the :class:`~companion.exercises.registry.Mutant`'s name).
    trace : list of tuple, optional
        Frames of the reader's own code, ``(file, line, function, source line)``, for a raised exception.
    output : str, optional
        What the submission printed (already limited in length), ``output_total`` characters in all.
    output_total : int

    Attributes
    ----------
    passed : bool
        True when the submission passed.
    message : str
        ``summary``, followed by ``"Likely misconception: <hint>"`` when a misconception was recognised.
    """

    def __init__(self, name, status, summary, hint=None, misconception=None, trace=(), output="", output_total=0):
        if status not in _HEADLINE:
            raise ValueError(f"status must be one of {sorted(_HEADLINE)}, got {status!r}")
        self.name = str(name)
        self.status = status
        self.summary = summary or ""
        self.hint = hint
        self.misconception = misconception
        self.trace = list(trace)
        self.output = output or ""
        self.output_total = int(output_total)

    @property
    def passed(self):
        """True when the submission passed."""
        return self.status == PASS

    @property
    def message(self):
        """The verdict in plain words (no markup), with the misconception hint when there is one."""
        if self.hint:
            return plain(f"{self.summary}\n{MISCONCEPTION} {self.hint}".strip())
        return plain(self.summary)

    @property
    def headline(self):
        """One line: the verdict symbol, the exercise name and the verdict in words."""
        symbol, words = _HEADLINE[self.status]
        return f"{symbol} {self.name}: {words}"

    def _trace_lines(self):
        lines = []
        for filename, lineno, function, source in self.trace:
            lines.append(f"  {filename}, line {lineno}, in {function}")
            if source:
                lines.append(f"    {source}")
        return lines

    def _output_text(self):
        """The printed output limited to a few lines, and a note on what was cut."""
        lines = self.output.splitlines()
        shown = "\n".join(lines[:_OUTPUT_LINES])
        cut = len(lines) > _OUTPUT_LINES or self.output_total > len(self.output)
        note = f"printed output ({self.output_total} characters"
        note += ", truncated)" if cut else ")"
        return note, shown

    def to_dict(self):
        """``{"passed": bool, "message": str}`` (what the grading CLI writes to JSON)."""
        return {"passed": self.passed, "message": self.message}

    def __repr__(self):
        lines = [self.headline]
        if self.message:
            lines.append(self.message)
        if self.trace:
            lines.append("Where (your code only):")
            lines += self._trace_lines()
        if self.output_total:
            note, shown = self._output_text()
            lines.append(note[0].upper() + note[1:] + ":")
            lines += ["  " + line for line in shown.splitlines()]
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self):
        esc = html.escape
        symbol, words = _HEADLINE[self.status]
        colour = _COLOUR[self.status]
        parts = [
            f'<div class="nd-check nd-check-{self.status}" data-exercise="{esc(self.name)}" role="status" '
            f'style="border-left:4px solid {colour};padding:0.3em 0.7em;margin:0.3em 0;">',
            f'<div class="nd-check-verdict"><span aria-hidden="true" style="color:{colour};">{symbol}</span> '
            f"<strong>{esc(self.name)}</strong>: <strong>{esc(words)}</strong></div>",
        ]
        if self.summary:
            parts.append(f'<div class="nd-check-message">{to_html(self.summary)}</div>')
        if self.hint:
            parts.append(f'<div class="nd-check-hint"><strong>{MISCONCEPTION}</strong> {to_html(self.hint)}</div>')
        if self.trace:
            parts.append('<div class="nd-check-trace">Where (your code only):'
                         f'<pre style="margin:0.2em 0;">{esc(chr(10).join(self._trace_lines()))}</pre></div>')
        if self.output_total:
            note, shown = self._output_text()
            parts.append(f'<details class="nd-check-output"><summary>{esc(note[0].upper() + note[1:])}</summary>'
                         f'<pre style="margin:0.2em 0;">{esc(shown)}</pre></details>')
        parts.append("</div>")
        return "".join(parts)
