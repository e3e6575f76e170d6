"""Jinja2 environments, template lookup and escaping filters: one ``render(document, fmt)`` for every format.

LaTeX templates use ``((* *))``/``((( )))`` delimiters (as nbconvert does) so that TeX
braces survive; text from a spec (titles, names) is escaped for the format it lands
in, mathematics never.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from derive.documents.printing import plain_number
from derive.errors import DeriveError
from derive.formats import breaks, escape


def template_dir() -> Path:
    """The templates: shipped inside the package, or templates/ beside the source tree (editable install)."""
    package = Path(__file__).parent.parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "md").is_dir():
            return candidate
    raise DeriveError("templates", "derive's templates folder is missing from this installation")


# the escaping of each language lives in derive.escape; these names are kept for the modules that import them
escape_latex = escape.latex
escape_markdown = escape.markdown
escape_xml = escape.xml


def md_math(latex: str) -> str:
    """Inline LaTeX for Markdown renderers (GitHub, Jupyter): no spaces just inside the dollars."""
    return "$" + latex.strip() + "$"


def md_cell(latex: str) -> str:
    """A table cell of mathematics in Markdown: a number as text with a true minus (U+2212), which reads
    right in the source and in any renderer, and lines up with its column; anything else inline LaTeX."""
    text = plain_number(latex)
    return text if text is not None else md_math(latex)


@lru_cache(maxsize=None)
def environment(kind: str) -> jinja2.Environment:
    """The Jinja2 environment of one family of templates: 'md' (and html/xml) or 'tex'."""
    loader = jinja2.FileSystemLoader(str(template_dir()))
    if kind == "tex":
        env = jinja2.Environment(
            loader=loader,
            block_start_string="((*", block_end_string="*))",
            variable_start_string="(((", variable_end_string=")))",
            comment_start_string="((=", comment_end_string="=))",
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined, autoescape=False,
        )
        env.filters["e"] = escape_latex
        env.filters["escape_text"] = escape_latex
        env.filters["heading"] = escape.latex_heading
        # a number's sign as a minus, not a hyphen: picture labels are text
        env.filters["minus"] = lambda text: text.replace("-", r"\textminus{}")
        env.globals["keep"] = breaks.keep  # the lines a heading or a lead-in keeps with what follows
        env.globals["leads_in"] = breaks.leads_in
    else:
        env = jinja2.Environment(loader=loader, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                 undefined=jinja2.StrictUndefined, autoescape=False)
        env.filters["escape_text"] = escape_markdown
        env.filters["xml"] = escape_xml
        env.filters["filename"] = escape.filename
        env.filters["minus"] = lambda text: text.replace("-", "\u2212")
    env.filters["md_math"] = md_math
    env.filters["md_cell"] = md_cell
    env.globals["blocktype"] = lambda block: type(block).__name__
    return env


def render(template: str, **context) -> str:
    """Render a template by its path under templates/ (the folder picks the family)."""
    kind = "tex" if template.startswith(("tex/", "beamer/")) else "md"
    return environment(kind).get_template(template).render(**context)
