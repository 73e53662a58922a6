"""Turn an HTML fragment into plain text with its line and paragraph breaks kept.

Only reads markup; never fetches, never keeps tags, scripts or attributes.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

_BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "tr", "table", "section", "article", "header", "footer", "figure", "figcaption",
    "dl", "dt", "dd", "hr",
})
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "svg", "iframe"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_BR = "\x00br\x00"  # an explicit <br>: always its own line break
_BREAK = "\x00blk\x00"  # a block edge: adjacent edges make one break
_PARAGRAPH = "\x00p\x00"  # a paragraph edge: a blank line
_BLOCK_RUN = re.compile("(?:(?:\x00blk\x00|\x00p\x00) ?)+")
# C0 controls other than tab and line breaks (NUL above all): never part of a post's text,
# and they break the consumers of an export. Removed before the markers above are added.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _pieces(root: LexborNode) -> list[str]:
    """Text and break markers in document order (an explicit stack: deep markup is safe)."""
    out: list[str] = []
    stack: list[LexborNode | str] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        tag = node.tag
        if tag == "-text":
            out.append(_CONTROLS.sub("", node.text_content or ""))
            continue
        if tag in _SKIP_TAGS or tag == "-comment":
            continue
        if tag == "br":
            out.append(_BR)
            continue
        block = tag in _BLOCK_TAGS
        children = list(node.iter(include_text=True))
        if block:
            stack.append(_PARAGRAPH if tag == "p" else _BREAK)
        stack.extend(reversed(children))
        if block:
            stack.append(_PARAGRAPH if tag == "p" else _BREAK)
    return out


def _block_run_to_newlines(match: re.Match[str]) -> str:
    return "\n\n" if _PARAGRAPH in match.group(0) else "\n"


def _assemble(pieces: list[str]) -> str:
    text = "".join(pieces)
    text = _SPACES.sub(" ", text)
    text = _BLOCK_RUN.sub(_block_run_to_newlines, text)
    text = text.replace(_BR, "\n")
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def node_to_text(node: LexborNode) -> str:
    """Plain text of a parsed node: <br> is a line break, a <p> a blank line."""
    return _assemble(_pieces(node))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (entities decoded, tags dropped)."""
    if not html or ("<" not in html and "&" not in html):
        return _assemble([_CONTROLS.sub("", html or "")])
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    return node_to_text(root) if root is not None else ""
