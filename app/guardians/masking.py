"""How a child's name appears in a guardian message, as the school chooses (``name_mask``):
``middle`` 张*明 (the delivery's own masking), ``given`` *明 (the given name's last character
only), ``surname_only`` 张同学. Never a diagnosis: messages name the day and the check only."""

from __future__ import annotations

from typing import Literal

from app.delivery.templates import mask_name

NameMask = Literal["middle", "given", "surname_only"]
MASKS: tuple[str, ...] = ("middle", "given", "surname_only")


def masked(name: str, how: str) -> str:
    name = "".join(name.split())
    if not name:
        return ""
    if how == "surname_only":
        return name[0] + "同学"
    if how == "given":
        return "*" + name[-1] if len(name) > 1 else "*"
    return mask_name(name)
