"""Rewrite the book's MyST Markdown into plain Markdown that JupyterLab (or Colab) renders as the site does.

JupyterLab renders CommonMark with math; it shows MyST directives and roles as raw text. The learner
and instructor editions (:mod:`companion.tools.editions`) pass every Markdown cell through
:func:`rewrite`, which turns:

* ``:::{admonition} Title`` blocks (with ``:class:``) into block quotes headed by the title in bold;
* ``{cite:p}`key1,key2``` into "(Ioffe & Szegedy, 2015; Santurkar et al., 2018)" and ``{cite:t}`key``` into
  "Ioffe & Szegedy (2015)", from ``book/references.bib`` (:class:`Bibliography`);
* ``{glue:text}`key``` into the value the chapter glued (read from the stored outputs);
* ``{doc}`chapter``` and ``{ref}`text <label>``` into links to the chapter's notebook or plain text;
* the sphinx-exercise markers into "**Exercise 39.**" with the number the site gives (solutions into
  "**Solution to Exercise 39.**"), and ``(label)=`` targets into nothing.

Anything else between braces and backticks keeps its text, so a new role degrades to readable text.
"""
import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Bibliography", "Context", "glued_values", "rewrite"]

_ENTRY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")
_FIELD = re.compile(r"(\w+)\s*=\s*")
_ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
_TARGET = re.compile(r"^\([\w:-]+\)=\s*$\n?", re.M)
_FENCE = re.compile(r"^(?P<fence>```+|:::+)[ \t]*\{(?P<name>[\w:-]+)\}(?P<arg>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                    re.M | re.S)
_OPTION = re.compile(r"^:(\w[\w-]*):[^\n]*\n?", re.M)
_LABEL_TEXT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)


def _braced(text, start):
    """The content of the ``{...}`` (or ``"..."``) value that starts at ``text[start]``, and the end index."""
    opening = text[start]
    if opening == '"':
        end = text.index('"', start + 1)
        return text[start + 1:end], end + 1
    depth, i = 0, start
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
        i += 1
    raise ValueError("unbalanced braces in the bibliography")


class Bibliography:
    """Authors and years of the entries of a BibTeX file, for author-year citations.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.bib`` file (``book/references.bib``).
    """

    def __init__(self, path):
        text = Path(path).read_text(encoding="utf-8")
        self.entries = {}
        for match in _ENTRY.finditer(text):
            fields, i = {}, match.end()
            end = text.find("\n@", i)
            body = text[i:] if end < 0 else text[i:end]
            for f in _FIELD.finditer(body):
                if f.end() < len(body) and body[f.end()] in '{"':
                    value, _ = _braced(body, f.end())
                    fields.setdefault(f.group(1).lower(), re.sub(r"[{}]", "", " ".join(value.split())))
            self.entries[match.group(1)] = fields

    def authors(self, key):
        """``"Ioffe & Szegedy"``, ``"Santurkar et al."`` or ``"Wu"`` for the entry ``key``."""
        raw = self.entries[key].get("author") or self.entries[key].get("editor") or self.entries[key].get(
            "organization") or key
        names = [a.strip() for a in re.split(r"\s+and\s+", raw) if a.strip()]
        last = [n.split(",")[0].strip() if "," in n else n.split()[-1] for n in names]
        if len(last) >= 3 or (len(last) == 2 and last[1] == "others"):
            return f"{last[0]} et al."
        return " & ".join(last)

    def year(self, key):
        """The entry's year (``"n.d."`` when it has none)."""
        return self.entries[key].get("year", "n.d.")

    def cite(self, keys, textual=False):
        """``(Ioffe & Szegedy, 2015; Wu & He, 2018)``, or ``Ioffe & Szegedy (2015)`` when ``textual``."""
        parts = []
        for key in (k.strip() for k in keys.split(",") if k.strip()):
            if key not in self.entries:
                raise KeyError(f"citation {key!r} is not in the bibliography")
            parts.append(f"{self.authors(key)} ({self.year(key)})" if textual
                         else f"{self.authors(key)}, {self.year(key)}")
        return "; ".join(parts) if textual else f"({'; '.join(parts)})"


@dataclass
class Context:
    """What the rewriting needs to know beyond the cell.

    Attributes
    ----------
    bibliography : Bibliography
    glue : dict
        ``{key: text}`` of the values the chapter glued.
    numbers : dict
        ``{exercise label (without "ex-"): number on the site}``.
    titles : dict
        ``{chapter name: title}`` for ``{doc}`` links.
    notebooks : set
        The chapters that are notebooks (a ``{doc}`` link to one points to its edition; to a Markdown
        page of the site, it becomes the page's title).
    """

    bibliography: Bibliography
    glue: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    titles: dict = field(default_factory=dict)
    notebooks: set = field(default_factory=set)


def _role(name, text, ctx):
    if name == "cite:p" or name == "cite":
        return ctx.bibliography.cite(text)
    if name == "cite:t":
        return ctx.bibliography.cite(text, textual=True)
    if name.startswith("glue"):
        key = text.split(":")[0].strip()
        if key not in ctx.glue:
            raise KeyError(f"no cell of the chapter glues {key!r}")
        return ctx.glue[key]
    label = _LABEL_TEXT.match(text)
    shown, target = (label.group(1), label.group(2)) if label else (None, text)
    if name == "doc":
        target = target.split("/")[-1]
        text = shown or ctx.titles.get(target, target)
        return f"[{text}]({target}.ipynb)" if target in ctx.notebooks else text
    if name == "math":
        return f"${text}$"
    return shown or target


def _indent_quote(text):
    return "\n".join("> " + line if line.strip() else ">" for line in text.strip("\n").splitlines())


def _directive(match, ctx):
    name, arg, body = match.group("name"), match.group("arg").strip(), match.group("body")
    options = dict(re.findall(r"^:(\w[\w-]*):\s*([^\n]*)$", body, re.M))
    content = _OPTION.sub("", body, count=len(options)) if options else body
    if name == "exercise-start":
        label = options.get("label", "").removeprefix("ex-")
        number = ctx.numbers.get(label, "")
        title = f" ({arg})" if arg else ""
        return f'<a id="ex-{label}"></a>\n**Exercise {number}{title}.**'.replace("Exercise .", "Exercise.")
    if name == "exercise-end" or name == "solution-end":
        return ""
    if name == "solution-start":
        label = arg.removeprefix("ex-")
        return f"**Solution to Exercise {ctx.numbers.get(label, '')}.**".replace(" .", ".")
    if name in ("math",):
        return f"$$\n{content.strip()}\n$$"
    title = arg if name == "admonition" else name.capitalize() + (f": {arg}" if arg else "")
    inner = _FENCE.sub(lambda m: _directive(m, ctx), content)  # nested directives
    return _indent_quote(f"**{title}**\n\n{inner.strip()}") + "\n"  # a blank line ends the quote


def rewrite(markdown, ctx):
    """The Markdown of one cell with every MyST construct the book uses rewritten (see the module).

    Parameters
    ----------
    markdown : str
    ctx : Context

    Returns
    -------
    str
    """
    text = _TARGET.sub("", markdown)
    text = _FENCE.sub(lambda m: _directive(m, ctx), text)
    text = _ROLE.sub(lambda m: _role(m.group(1), m.group(2), ctx), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def glued_values(cells):
    """``{key: text}`` of the values glued in the stored outputs of a notebook's code cells."""
    values = {}
    for cell in cells:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            text = out.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                text = "".join(text) if isinstance(text, list) else text
                try:
                    value = ast.literal_eval(text)
                    values[name] = value if isinstance(value, str) else text
                except (ValueError, SyntaxError):
                    values[name] = text
    return values
