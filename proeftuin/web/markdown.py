"""Markdown that residents write (a plan's description) as HTML that is safe to show.

Two layers, so one mistake is not enough: markdown-it escapes any raw HTML in the text and refuses
``javascript:``-like links, and nh3 (the Ammonia sanitiser) then keeps only the few tags and the
one attribute listed here. Images are switched off: a picture from elsewhere would tell another
server who reads the plan (and our CSP would block it anyway). Headings are moved down two
levels, so a ``# Heading`` in a description sits below the page's own h1 and h2 (one level on
the gemeente's own pages, which have only an h1 above the text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

HEADING_SHIFT = 2
PAGE_HEADING_SHIFT = 1
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "code", "pre", "blockquote", "hr",
        "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer ugc"


def _shifted_heading(shift: int) -> Callable[..., str]:
    def render(
        renderer: RendererHTML,
        tokens: Sequence[Token],
        idx: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        token = tokens[idx]
        level = min(6, int(token.tag[1]) + shift)
        token.tag = f"h{level}"
        return f"<{token.tag}>" if token.nesting == 1 else f"</{token.tag}>\n"

    return render


def _parser(shift: int) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_block", "html_inline"])
    md.add_render_rule("heading_open", _shifted_heading(shift))
    md.add_render_rule("heading_close", _shifted_heading(shift))
    return md


_MARKDOWN = _parser(HEADING_SHIFT)
# The gemeente's own pages (the statements): the page's h1 is the only heading above the text.
_PAGE_MARKDOWN = _parser(PAGE_HEADING_SHIFT)


def render_markdown(text: str) -> Markup:
    """``text`` (Markdown) as sanitised HTML, ready to put in a template."""
    return _clean(_MARKDOWN.render(text or ""), ALLOWED_TAGS)


def render_page_markdown(text: str) -> Markup:
    """An admin's page (``# Heading`` becomes an h2), sanitised as residents' text is."""
    return _clean(_PAGE_MARKDOWN.render(text or ""), ALLOWED_TAGS | {"h2"})


def _clean(html: str, tags: frozenset[str]) -> Markup:
    clean = nh3.clean(
        html,
        tags=set(tags),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
