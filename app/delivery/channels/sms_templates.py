"""SMS templates as a school configures them: the approved template, and which message param
fills each of its variables — checked against the provider's published template rules.

A school copies from the provider's console the template id and the approved text, e.g.

* Tencent Cloud: ``"{1}同学今日未到校({2}),请于{3}前核查。"`` — variables ``{1}``, ``{2}`` …
  numbered from 1 without gaps; the values go as the ordered ``TemplateParamSet``;
* Alibaba Cloud: ``"${student}同学今日未到校(${level}),请于${due}前核查。"`` — named
  variables, each at most once; the values go as the ``TemplateParam`` JSON object;

and maps every variable to a message param (``params``: ``{"1": "student", "2": "level", …}``
or ``{"student": "student", …}``), choosing from ``MESSAGE_PARAMS``. Refused (422, nothing
stored): a variable without a param, a param for no variable, an unknown message param, two
adjacent variables or a template of variables only (both providers refuse to approve them),
a text over 500 characters.

Values (``values``): an empty one becomes ``EMPTY_VALUE`` (both providers refuse empty
variables: a topic without a level still sends a readable "无"); each is cut to the
provider's limit — Tencent: 6 digits for a verification-code variable, otherwise
``max_chars`` (default 12, the cap for personally-verified accounts; enterprise accounts set
what their console shows); Alibaba: 1–35 characters per variable, fewer for some variable
properties (``kinds``: ``numberCaptcha``/``characterWithNumber2`` 4–6, ``phone_number2`` 15).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.channel_settings import MESSAGE_PARAMS
from app.core.text import line_text, multiline_text

Provider = Literal["tencent", "aliyun"]
TEMPLATE_MAX_CHARS = 500
EMPTY_VALUE = "无"
TENCENT_DEFAULT_MAX = 12
TENCENT_CODE_MAX = 6
ALIYUN_MAX = 35
# Alibaba variable properties (TemplateRule names) with a tighter limit than 35.
ALIYUN_KIND_MAX = {"numberCaptcha": 6, "characterWithNumber2": 6, "phone_number2": 15}
ALIYUN_KINDS = frozenset(
    {
        "numberCaptcha",
        "characterWithNumber2",
        "phone_number2",
        "time",
        "money",
        "name",
        "other_number2",
        "user_nick",
        "link_param",
        "others",
    }
)
TENCENT_KINDS = frozenset({"code", "other"})
_TENCENT_VAR = re.compile(r"\{(\d+)\}")
_ALIYUN_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
Problem = tuple[tuple[str | int, ...], str]
# Configured text: no control or XML-illegal characters (422 naming the field).
_Line = Annotated[str, line_text()]
_Text = Annotated[str, multiline_text()]


class SmsTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    template_id: _Line = Field(min_length=1, max_length=64, description="模板 ID / 模板 CODE")
    content: _Text = Field(min_length=1, max_length=1000, description="审核通过的模板正文")
    params: dict[_Line, _Line] = Field(
        description="模板变量 → 消息参数 (template variable → message param)",
        examples=[{"1": "student", "2": "level", "3": "due"}],
    )
    kinds: dict[_Line, _Line] = Field(
        default_factory=dict,
        description="变量属性: Tencent code|other; Alibaba TemplateRule names (numberCaptcha…)",
    )
    max_chars: int | None = Field(default=None, ge=1, le=ALIYUN_MAX)

    def variables(self, provider: Provider) -> list[str]:
        """The template's variables in the order the provider wants their values."""
        if provider == "tencent":
            return sorted({m for m in _TENCENT_VAR.findall(self.content)}, key=int)
        return list(dict.fromkeys(_ALIYUN_VAR.findall(self.content)))

    def problems(self, provider: Provider) -> list[Problem]:
        """What the provider's rules refuse, as (location under the template, message)."""
        out: list[Problem] = []
        pattern = _TENCENT_VAR if provider == "tencent" else _ALIYUN_VAR
        found = pattern.findall(self.content)
        names = self.variables(provider)
        if len(self.content) > TEMPLATE_MAX_CHARS:
            out.append((("content",), f"模板正文超过 {TEMPLATE_MAX_CHARS} 字 (too long)"))
        if provider == "tencent":
            if names and names != [str(i) for i in range(1, len(names) + 1)]:
                out.append(
                    (("content",), "变量须从 {1} 起连续编号 (variables must be {1}, {2}, …)")
                )
        elif len(found) != len(names):
            out.append((("content",), "同一变量只能出现一次 (a variable may appear only once)"))
        if re.search(r"\}\s*\$?\{", self.content):
            out.append((("content",), "变量不能相邻 (two variables may not be adjacent)"))
        if names and not pattern.sub("", self.content).strip():
            out.append((("content",), "不支持全变量模板 (a template of variables only)"))
        for name in names:
            if name not in self.params:
                out.append(
                    (("params",), f"模板变量 {name} 未配置参数 (variable {name} has no param)")
                )
        for key, param in self.params.items():
            if key not in names:
                out.append(
                    (("params", key), f"模板中没有变量 {key} (no such variable in the template)")
                )
            elif param not in MESSAGE_PARAMS:
                known = ", ".join(sorted(MESSAGE_PARAMS))
                out.append((("params", key), f"未知的消息参数 {param!r} (one of {known})"))
        allowed = TENCENT_KINDS if provider == "tencent" else ALIYUN_KINDS
        for key, kind in self.kinds.items():
            if key not in names:
                out.append((("kinds", key), f"模板中没有变量 {key} (no such variable)"))
            elif kind not in allowed:
                out.append((("kinds", key), f"未知的变量属性 {kind!r} (one of {sorted(allowed)})"))
        return out

    def limit(self, provider: Provider, name: str) -> int:
        kind = self.kinds.get(name, "")
        if provider == "tencent":
            return TENCENT_CODE_MAX if kind == "code" else self.max_chars or TENCENT_DEFAULT_MAX
        return min(ALIYUN_KIND_MAX.get(kind, ALIYUN_MAX), self.max_chars or ALIYUN_MAX)

    def values(self, provider: Provider, params: Mapping[str, str]) -> list[tuple[str, str]]:
        """(variable, value) in the provider's order: never empty, within the limits."""
        out: list[tuple[str, str]] = []
        for name in self.variables(provider):
            raw = " ".join(str(params.get(self.params.get(name, ""), "")).split())
            out.append((name, clip(raw or EMPTY_VALUE, self.limit(provider, name))))
        return out


def clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def template_for(templates: Mapping[str, SmsTemplate], kind: str) -> SmsTemplate | None:
    """The template for a message kind (its topic, or ``digest``), ``default`` as fallback."""
    return templates.get(kind) or templates.get("default")
