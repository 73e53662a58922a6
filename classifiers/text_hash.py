"""The short hash that ties an annotation to the text it was made on (no text is kept)."""

import hashlib


def text_hash(text: str) -> str:
    """The first 12 hex digits of the text's SHA-1."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
