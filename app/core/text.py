"""Text a client may send: what XML 1.0 can hold, and for one-line fields no control
characters at all.

Every name, note and label ends up in an XLSX or DOCX export (Office Open XML) and in
PostgreSQL; neither holds NUL, most C0 controls, lone surrogates or U+FFFE/U+FFFF. One such
character in a student's name used to break every export of the school, so they are refused
at the door (422 naming the field) and, for rows stored before, stripped on the way out
(``xml_safe``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AfterValidator

# Everything outside XML 1.0's Char production (#x9 | #xA | #xD | [#x20-#xD7FF] |
# [#xE000-#xFFFD] | [#x10000-#x10FFFF]).
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# One-line text: also no tab or line breaks, no DEL or C1 controls, no line/paragraph
# separators (they split a cell or a log line as a newline would).
LINE_ILLEGAL = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def check_text(value: str) -> str:
    bad = XML_ILLEGAL.search(value)
    if bad:
        raise ValueError(
            f"含有不可用的字符 {_describe(bad.group())} (control or non-XML character)"
        )
    return value


def check_line(value: str) -> str:
    bad = LINE_ILLEGAL.search(value)
    if bad:
        raise ValueError(
            f"含有控制字符或换行 {_describe(bad.group())} (control character or line break)"
        )
    return value


def line_text() -> Any:
    return AfterValidator(check_line)


def multiline_text() -> Any:
    return AfterValidator(check_text)


def first_illegal(value: str, *, line: bool = True) -> str | None:
    """The first refused character of ``value`` as U+XXXX, or None."""
    bad = (LINE_ILLEGAL if line else XML_ILLEGAL).search(value)
    return _describe(bad.group()) if bad else None


def xml_safe(value: str) -> str:
    """``value`` without the characters an XML document cannot hold (for stored text)."""
    return XML_ILLEGAL.sub("", value)
