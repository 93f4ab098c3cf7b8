"""Text on a page: users' data (column names, cells) made safe to show as Markdown, and counted nouns."""

from __future__ import annotations

import re

# Every character Markdown, Streamlit's directives (:red[...], :material/icon:) or its LaTeX ($) give a meaning.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def markdown_text(value: object, max_chars: int = 200) -> str:
    """``value`` as literal Markdown text: special characters backslash-escaped, one line, at most ``max_chars``.

    A column named ``![x](http://host/pixel)`` then shows as those characters, never as an image or a link.
    """
    text = " ".join(str(value)[:max_chars].split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def counted(count: int, noun: str) -> str:
    """'1 row', '2 rows', '1,000 samples': a count with its noun in the right number (nouns ending in s take none)."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
