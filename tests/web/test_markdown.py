from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from proeftuin.web.markdown import render_markdown


def test_formatting_residents_use_is_kept() -> None:
    html = render_markdown(
        "Een **groen** plein met *bankjes*.\n\n- bomen\n- bankjes\n\n1. eerst\n2. dan\n\n"
        "> Een citaat\n\n`code`"
    )
    assert isinstance(html, Markup)
    for part in (
        "<strong>groen</strong>",
        "<em>bankjes</em>",
        "<ul>",
        "<li>bomen</li>",
        "<ol>",
        "<blockquote>",
        "<code>code</code>",
    ):
        assert part in html


def test_headings_sit_below_the_page_headings() -> None:
    html = render_markdown("# Eén\n\n## Twee\n\n###### Zes")
    assert "<h3>Eén</h3>" in html
    assert "<h4>Twee</h4>" in html
    assert "<h6>Zes</h6>" in html
    assert "<h1" not in html and "<h2" not in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "Hallo <script src=//evil.example/x.js></script>",
        '<img src="x" onerror="alert(1)">',
        "<svg onload=alert(1)>",
        '<a href="javascript:alert(1)">klik</a>',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        '<div style="position:fixed">x</div>',
        "<!-- verborgen --><b>vet</b>",
    ],
)
def test_raw_html_is_shown_as_text_never_as_markup(text: str) -> None:
    html = str(render_markdown(text))
    assert not re.search(r"<(script|img|svg|iframe|style|div|b|a)\b", html)
    assert "onerror=" not in html or "&lt;" in html  # only as escaped text
    assert not re.search(r"<[^>]+\son\w+=", html)
    assert not re.search(r"<[^>]+\sstyle=", html)


@pytest.mark.parametrize(
    "text",
    [
        "[klik](javascript:alert(1))",
        "[klik](JaVaScRiPt:alert(1))",
        "[klik](  javascript:alert(1))",
        "[klik](javascript&#58;alert(1))",
        "[klik](&#106;avascript:alert(1))",
        "[klik](vbscript:msgbox(1))",
        "[klik](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<javascript:alert(1)>",
        "[klik][1]\n\n[1]: javascript:alert(1)",
    ],
)
def test_dangerous_links_are_neutralised(text: str) -> None:
    html = str(render_markdown(text)).lower()
    assert "href" not in html or not re.search(r'href="\s*(javascript|vbscript|data):', html)
    assert "<a " not in html


def test_safe_links_work_and_carry_rel() -> None:
    html = str(
        render_markdown("[site](https://example.nl/a?b=1) en [mail](mailto:wijk@example.nl)")
    )
    assert 'href="https://example.nl/a?b=1"' in html
    assert 'href="mailto:wijk@example.nl"' in html
    assert html.count('rel="nofollow noopener noreferrer ugc"') == 2


def test_no_images_from_elsewhere() -> None:
    html = str(render_markdown("![foto](https://tracker.example/pixel.gif)"))
    assert "<img" not in html


def test_empty_text() -> None:
    assert render_markdown("") == ""
