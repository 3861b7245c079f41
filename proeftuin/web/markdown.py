"""Markdown that residents write (a plan's description) as HTML that is safe to show.

Two layers, so one mistake is not enough: markdown-it escapes any raw HTML in the text and refuses
``javascript:``-like links, and nh3 (the Ammonia sanitiser) then keeps only the few tags and the
one attribute listed here. Images are switched off: a picture from elsewhere would tell another
server who reads the plan (and our CSP would block it anyway). Headings are moved down two
levels, so a ``# Heading`` in a description sits below the page's own h1 and h2.
"""

from __future__ import annotations

from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

HEADING_SHIFT = 2
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "code", "pre", "blockquote", "hr",
        "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer ugc"


def _shifted_heading(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    level = min(6, int(token.tag[1]) + HEADING_SHIFT)
    token.tag = f"h{level}"
    return f"<{token.tag}>" if token.nesting == 1 else f"</{token.tag}>\n"


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_block", "html_inline"])
    md.add_render_rule("heading_open", _shifted_heading)
    md.add_render_rule("heading_close", _shifted_heading)
    return md


_MARKDOWN = _parser()


def render_markdown(text: str) -> Markup:
    """``text`` (Markdown) as sanitised HTML, ready to put in a template."""
    html = _MARKDOWN.render(text or "")
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
