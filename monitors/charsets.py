"""Decide how fetched bytes are decoded: the declared charset as a strong prior, charset-normalizer
where none is declared or the declaration is wrong. Never parses the document.

"Declared" is the HTTP header's charset, else the document's own (XML prolog or HTML meta).
A declaration is kept when the bytes decode cleanly with it and charset-normalizer does not
strongly prefer another reading; so a KOI8-R feed served with no charset is read as KOI8-R,
not re-read as windows-1251 mojibake, while a Latin-1 feed labelled Latin-1 stays Latin-1.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

from charset_normalizer import CharsetMatch, from_bytes

_IN_DOCUMENT = re.compile(
    rb"""<\?xml[^>]*?encoding\s*=\s*["']?([\w.:-]+)|<meta[^>]*?charset\s*=\s*["']?([\w.:-]+)""",
    re.IGNORECASE,
)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# Readings about as little chaotic as charset-normalizer's best are ranked by how many of their
# words look broken, then by what riftwatch's sources use.
PREFERRED = ("utf-8", "cp1251", "koi8-r", "cp1252", "iso8859-1", "iso8859-5", "cp866")
NEVER_GUESSED = ("mac-",)  # legacy Mac code pages: used when declared, never guessed
CLOSE_CHAOS = 0.05  # chaos this near the best reading counts as a tie
MESS_STEP = 0.05  # broken-word shares this near each other count as a tie
STRONG_CHAOS = 0.1  # a declared reading this much more chaotic than the guess is overruled
STRONG_MESS = 0.1  # ... and one with this larger a share of broken words
SNIFF_BYTES = 2048  # where an in-document declaration is looked for
MESS_SAMPLE = 20_000  # characters of a reading whose words are checked
_WORD = re.compile(r"[^\W\d_]+")
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
UTF8_GOOD_PER_BAD = 2  # UTF-8 with a stray bad byte per this many good characters is UTF-8


def codec_name(label: str | None) -> str | None:
    """Python's canonical codec name for a charset label, or None when it is not one."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, lower-case, if any."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip().strip('"').lower()
    return None


def declared_in_document(body: bytes) -> str | None:
    """The charset the document names itself (XML prolog ``encoding=`` or HTML ``<meta>``)."""
    match = _IN_DOCUMENT.search(body[:SNIFF_BYTES])
    if match is None:
        return None
    return (match.group(1) or match.group(2)).decode("ascii")


def _self_described(body: bytes) -> str | None:
    """The Unicode form the bytes show themselves: a byte-order mark, or XML's ``<`` in UTF-16."""
    bom = next((name for bom, name in _BOMS if body.startswith(bom)), None)
    if bom is not None:
        return bom
    if body.startswith(b"\x00<\x00"):
        return "utf-16-be"
    return "utf-16-le" if body.startswith(b"<\x00") else None


def _decodes_cleanly(body: bytes, name: str) -> bool:
    try:
        body.decode(name)
    except UnicodeDecodeError:
        return False
    return True


def _script(char: str) -> str:
    if "\u0400" <= char <= "\u04ff":
        return "cyrillic"
    return "latin" if char < "\u0250" else "other"


def _broken(word: str) -> bool:
    """Upper case past the first letter, or two scripts in one word ("кАК", "РЕТЕЦЙФШ", "Cafй")."""
    return any(char.isupper() for char in word[1:]) or len({_script(c) for c in word}) > 1


def word_mess(text: str) -> float:
    """Share of words that look broken: what text read with the wrong code page looks like
    (KOI8-R read as windows-1251 inverts the case of every letter; Latin-1 read as 1251 puts
    Cyrillic letters inside Latin words). Correct text scores near 0 (abbreviations only)."""
    words = _WORD.findall(text[:MESS_SAMPLE])
    return sum(map(_broken, words)) / len(words) if words else 0.0


def _preference(match: CharsetMatch) -> int:
    name = codec_name(match.encoding)
    return PREFERRED.index(name) if name in PREFERRED else len(PREFERRED)


def _reads_as_utf8(body: bytes) -> bool:
    """True for UTF-8, also with a few broken bytes among more good characters; a legacy code
    page read as UTF-8 breaks at nearly every non-ASCII byte (its letters are seldom followed by
    the symbols at 0x80-0xBF that would make a valid pair)."""
    if _decodes_cleanly(body, "utf-8"):
        return True
    text = body.decode("utf-8", errors="replace")
    return len(_NON_ASCII.findall(text)) >= UTF8_GOOD_PER_BAD * text.count("\ufffd")


def _detected(body: bytes) -> CharsetMatch | None:
    """charset-normalizer's reading: of those as little chaotic as its best, the one with the
    fewest broken words, then the one riftwatch's sources use most. The preferred code pages
    are always tried (on a short text charset-normalizer may stop at a lucky Shift-JIS one)."""
    found = [*from_bytes(body), *from_bytes(body, cp_isolation=list(PREFERRED))]
    matches = sorted((match for match in found
                      if not str(codec_name(match.encoding)).startswith(NEVER_GUESSED)),
                     key=lambda match: match.chaos)
    if not matches:
        return None
    close = [match for match in matches if match.chaos <= matches[0].chaos + CLOSE_CHAOS]
    return min(close, key=lambda match: (round(word_mess(str(match)) / MESS_STEP),
                                         _preference(match)))


def _strongly_disagrees(body: bytes, name: str, guess: CharsetMatch | None) -> bool:
    """True when the detected reading is clearly better than the declared ``name``'s."""
    if guess is None or codec_name(guess.encoding) == name:
        return False
    text = body.decode(name)
    if str(guess) == text:
        return False
    own = from_bytes(body, cp_isolation=[name]).best()
    if own is None:  # too chaotic for charset-normalizer even to offer
        return True
    return (own.chaos - guess.chaos >= STRONG_CHAOS
            or word_mess(text) - word_mess(str(guess)) >= STRONG_MESS)


def decide_charset(body: bytes, declared: Iterable[str | None] = ()) -> str:
    """The codec to read ``body`` with; ``declared`` lists the declarations, strongest first.

    A byte-order mark (or UTF-16's own shape) wins; ASCII-only bytes keep the first
    declaration (or UTF-8); what reads as UTF-8 (perhaps with a stray bad byte) is UTF-8 unless
    something else is declared; else the first declaration that decodes cleanly and that
    charset-normalizer does not strongly disagree with; else charset-normalizer's reading.
    """
    unicode_form = _self_described(body)
    if unicode_form is not None:
        return unicode_form
    names = [name for name in map(codec_name, declared) if name is not None]
    if body.isascii():
        return names[0] if names else "utf-8"
    if (not names or names[0] == "utf-8") and _reads_as_utf8(body):
        return "utf-8"
    guess = _detected(body)
    for name in names:
        if _decodes_cleanly(body, name) and not _strongly_disagrees(body, name, guess):
            return name
    if guess is not None:
        return str(codec_name(guess.encoding) or "utf-8")
    return names[0] if names else "utf-8"


def decode_document(body: bytes, header_charset: str | None = None) -> str:
    """``body`` as text, read with ``decide_charset`` over the header's and the document's
    declarations (bytes that still do not fit become U+FFFD)."""
    charset = decide_charset(body, [header_charset, declared_in_document(body)])
    return body.decode(charset, errors="replace")
