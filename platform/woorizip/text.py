"""User-visible text fields: one rule for names, nicknames, answers and comments.

Every text field goes through the same steps:

1. **Normalization.** The text is put in Unicode NFC (so a decomposed Hangul syllable, as some
   keyboards and macOS produce, is stored as the one precomposed syllable), then surrounding
   whitespace is stripped: the space separators (U+0020, U+00A0, U+3000 and the other ``Zs``
   characters) and U+2800 BRAILLE PATTERN BLANK, plus line breaks and tabs in multi-line fields.
   The stored value is the normalized one.
2. **Characters.** Refused anywhere: control characters (C0 and C1, DEL, and in single-line
   fields line breaks and tabs too; multi-line fields allow ``\\n`` and ``\\t`` and nothing else),
   the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and
   paragraph separators U+2028/U+2029, invisible and formatting characters (every ``Cf`` character
   such as U+00AD, U+200B, U+2060 and U+FEFF, and the other default-ignorable ones such as the
   Hangul fillers U+115F, U+1160, U+3164 and U+FFA0), private-use code points, non-characters
   and unpaired surrogates. A few invisible characters are kept where emoji need them: U+200D
   ZERO WIDTH JOINER only between two emoji (the family and rainbow-flag ZWJ sequences), a
   variation selector only right after a visible character (the red heart U+2764 U+FE0F, keycaps),
   tag characters only in a flag tag sequence (the flags of England, Scotland and Wales).
3. **Something to see.** Text that is empty after normalization, or has nothing but whitespace,
   is refused.
4. **Length** in characters (Unicode code points, as JSON Schema counts them) of the normalized
   text, between ``min_length`` and ``max_length``.

Error messages say what is wrong and where (the code point and its position), never the text.

The JSON schema of such a field has ``minLength``, ``maxLength`` and a ``pattern`` refusing exactly
the characters and placements of steps 2 and 3: for any string, the pattern matches if and only if
the server accepts it given long enough length limits (lone surrogates, which cannot be written in
UTF-8 and which pydantic's regex engine cannot name, are the one exception: refused by the server,
absent from the pattern). The pattern is made of ``\\uXXXX`` escapes for the Basic Multilingual
Plane and literal characters above it, so it reads the same in ECMAScript in Unicode mode (the
``u`` or ``v`` flag, which JSON Schema 2020-12 asks for and ajv uses), in Python's ``re`` and in
pydantic's Rust engine. ``minLength``/``maxLength`` count the normalized text: a client sending NFC
text without surrounding whitespace, as it should, gets exactly the schema's verdict.

Use ``Annotated[str, SingleLine(1, 64)]`` or ``Annotated[str, MultiLine(1, 2000)]`` in models (mypy
accepts these as types); ``single_line(1, 64)`` and ``multi_line(1, 2000)`` build the same types at
run time, for ``TypeAdapter`` and the like.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, PydanticKnownError, core_schema

Ranges = tuple[tuple[int, int], ...]

# Allowed only in multi-line fields, where they are whitespace.
_LINE_BREAK_AND_TAB: Ranges = ((0x09, 0x0A),)
_CONTROLS: Ranges = ((0x00, 0x08), (0x0B, 0x1F), (0x7F, 0x9F))
_BIDI_CONTROLS: Ranges = ((0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069))
_SEPARATORS: Ranges = ((0x2028, 0x2029),)
# Every Cf character of Unicode 16 but U+200D (allowed between emoji), the bidi controls above and
# the tag characters (allowed in flags), plus the default-ignorable code points that are not Cf.
_INVISIBLE: Ranges = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x200B, 0x200C), (0x2060, 0x2065), (0x206A, 0x206F), (0x3164, 0x3164), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE001F), (0xE0080, 0xE00FF), (0xE01F0, 0xE0FFF),
)  # fmt: skip
_PRIVATE_USE: Ranges = (
    (0xE000, 0xF8FF), (0xFDD0, 0xFDEF), (0xFFFE, 0xFFFF),
    *((plane << 16 | 0xFFFE, plane << 16 | 0xFFFF) for plane in range(1, 15)),
    (0xF0000, 0x10FFFF),
)  # fmt: skip
_SURROGATES: Ranges = ((0xD800, 0xDFFF),)

_ZWJ = 0x200D
_TAGS: Ranges = ((0xE0020, 0xE007F),)
_TAG_SPECS: Ranges = ((0xE0020, 0xE007E),)
_CANCEL_TAG = 0xE007F
_BLACK_FLAG = 0x1F3F4
_VARIATION_SELECTORS: Ranges = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
_EMOJI_MODIFIERS: Ranges = ((0x1F3FB, 0x1F3FF),)
# What emoji ZWJ sequences are made of: Extended_Pictographic, written as blocks so that emoji
# added after Unicode 16 keep working. Left out: the skin-tone modifiers (so that a modifier after
# a sequence has one reading only) and the few characters that take part in a canonical
# decomposition (U+2194 LEFT RIGHT ARROW, U+2329/U+232A), so that NFC never changes the verdict.
_EMOJI: Ranges = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
    (0x2139, 0x2139), (0x2195, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328),
    (0x23CF, 0x23CF), (0x23E9, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x27BF), (0x2934, 0x2935),
    (0x2B05, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F000, 0x1F3FA), (0x1F400, 0x1FFFD),
)  # fmt: skip
# Whitespace: stripped at both ends, allowed inside, never enough on its own.
_SPACES: Ranges = (
    (0x0020, 0x0020), (0x00A0, 0x00A0), (0x1680, 0x1680), (0x2000, 0x200A), (0x202F, 0x202F),
    (0x205F, 0x205F), (0x2800, 0x2800), (0x3000, 0x3000),
)  # fmt: skip


def _chars(ranges: Ranges) -> str:
    return "".join(chr(code) for start, end in ranges for code in range(start, end + 1))


def _escape(code: int) -> str:
    # Astral characters go in literally: ECMAScript has no escape for them that Python's `re`
    # also reads (`\u{...}` needs the u flag and is unknown to Python, `\U...` unknown to JS).
    return f"\\u{code:04X}" if code <= 0xFFFF else chr(code)


def _class(ranges: Ranges, *, negate: bool = False) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    body = "".join(_escape(s) if s == e else f"{_escape(s)}-{_escape(e)}" for s, e in merged)
    return f"[{'^' if negate else ''}{body}]"


def _build_pattern(*, multiline: bool) -> str:
    spaces = _SPACES + _LINE_BREAK_AND_TAB if multiline else _SPACES
    not_visible = (
        _CONTROLS + _LINE_BREAK_AND_TAB + _BIDI_CONTROLS + _SEPARATORS + _INVISIBLE + _PRIVATE_USE
        + ((_ZWJ, _ZWJ),) + _TAGS + _VARIATION_SELECTORS + _SPACES
    )  # fmt: skip
    visible = _class(not_visible, negate=True)
    selector = _class(_VARIATION_SELECTORS)
    emoji = _class(_EMOJI)
    modifier = _class(_EMOJI_MODIFIERS)
    zwj = _escape(_ZWJ)
    # Emoji joined by ZWJ: every element but the last may carry a variation selector or a
    # skin-tone modifier before its joiner; the last may carry a selector (a modifier after it is
    # an ordinary visible character). Written so that each string has a single parse, which keeps
    # backtracking engines linear.
    zwj_sequence = f"(?:{emoji}(?:{selector}|{modifier})?{zwj})+{emoji}{selector}?"
    flag = f"{chr(_BLACK_FLAG)}{_class(_TAG_SPECS)}+{chr(_CANCEL_TAG)}"
    item = f"(?:{flag}|{zwj_sequence}|{visible}{selector}?)"
    space = _class(spaces)
    # At least one item; whitespace before, between and after items.
    return f"^(?:{space}*{item})+{space}*$"


SINGLE_LINE_PATTERN = _build_pattern(multiline=False)
MULTI_LINE_PATTERN = _build_pattern(multiline=True)
_SINGLE_LINE_RE = re.compile(SINGLE_LINE_PATTERN)
_MULTI_LINE_RE = re.compile(MULTI_LINE_PATTERN)
_STRIP_SINGLE_LINE = _chars(_SPACES)
_STRIP_MULTI_LINE = _chars(_SPACES + _LINE_BREAK_AND_TAB)
_FLAG_RE = re.compile(f"{chr(_BLACK_FLAG)}{_class(_TAG_SPECS)}+{chr(_CANCEL_TAG)}")


class TextError(ValueError):
    """Text refused by the rules; `code` is a short machine name, the message never quotes the text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalize_text(value: str, *, multiline: bool = False) -> str:
    """NFC, then surrounding whitespace (and, in multi-line text, line breaks and tabs) removed."""
    return unicodedata.normalize("NFC", value).strip(_STRIP_MULTI_LINE if multiline else _STRIP_SINGLE_LINE)


def check_text(value: str, *, min_length: int = 1, max_length: int, multiline: bool = False) -> str:
    """The normalized text, or TextError saying what is wrong with it."""
    text = normalize_text(value, multiline=multiline)
    if not text:
        raise TextError("text_blank", "Text must not be empty or only whitespace.")
    pattern = _MULTI_LINE_RE if multiline else _SINGLE_LINE_RE
    if pattern.fullmatch(text) is None or _has_surrogate(text):
        raise _diagnose(text, multiline=multiline)
    if len(text) < min_length:
        raise TextError("string_too_short", f"Text should have at least {min_length} characters.")
    if len(text) > max_length:
        raise TextError("string_too_long", f"Text should have at most {max_length} characters.")
    return text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _RangeSet:
    def __init__(self, ranges: Ranges) -> None:
        ordered = sorted(ranges)
        self._starts = [start for start, _ in ordered]
        self._ends = [end for _, end in ordered]

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, int):
            return False
        index = bisect.bisect_right(self._starts, code) - 1
        return index >= 0 and code <= self._ends[index]


_REFUSED: tuple[tuple[_RangeSet, str], ...] = (
    (_RangeSet(_CONTROLS), "control characters"),
    (_RangeSet(_BIDI_CONTROLS), "bidirectional text controls"),
    (_RangeSet(_SEPARATORS), "line or paragraph separators"),
    (_RangeSet(_INVISIBLE), "invisible or formatting characters"),
    (_RangeSet(_PRIVATE_USE), "private-use code points or non-characters"),
    (_RangeSet(_SURROGATES), "unpaired surrogates"),
)
_LINE_BREAKS = _RangeSet(_LINE_BREAK_AND_TAB)
_SELECTORS = _RangeSet(_VARIATION_SELECTORS)
_EMOJI_SET = _RangeSet(_EMOJI)
_MODIFIER_SET = _RangeSet(_EMOJI_MODIFIERS)
_SPACE_SET = _RangeSet(_SPACES + _LINE_BREAK_AND_TAB)
_TAG_SET = _RangeSet(_TAGS)


def _describe(code: int, index: int) -> str:
    name = unicodedata.name(chr(code), "") if not 0xD800 <= code <= 0xDFFF else ""
    return f"U+{code:04X}{' ' + name if name else ''} at character {index + 1}"


def _diagnose(text: str, *, multiline: bool) -> TextError:
    """Say why `text` (normalized, not empty) fails the pattern: the first offending character."""
    in_flags = {i for m in _FLAG_RE.finditer(text) for i in range(m.start(), m.end())}
    codes = [ord(ch) for ch in text]
    for i, code in enumerate(codes):
        if code in _LINE_BREAKS and not multiline:
            return TextError(
                "text_forbidden_character", f"Line breaks and tabs are not allowed here ({_describe(code, i)})."
            )
        if code == 0x0D:
            hint = "; use \\n alone for line breaks" if multiline else ""
            return TextError(
                "text_forbidden_character", f"Carriage returns are not allowed{hint} ({_describe(code, i)})."
            )
        for ranges, what in _REFUSED:
            if code in ranges:
                return TextError("text_forbidden_character", f"Text must not contain {what} ({_describe(code, i)}).")
        if code in _TAG_SET and i not in in_flags:
            return TextError(
                "text_forbidden_character",
                f"Tag characters are only allowed in emoji flags ({_describe(code, i)}).",
            )
        if code == _ZWJ:
            before = i - 2 if i >= 2 and (codes[i - 1] in _SELECTORS or codes[i - 1] in _MODIFIER_SET) else i - 1
            after = i + 1
            if (
                before < 0 or codes[before] not in _EMOJI_SET
                or after >= len(codes) or codes[after] not in _EMOJI_SET or after in in_flags
            ):  # fmt: skip
                return TextError(
                    "text_forbidden_character",
                    f"A zero width joiner is only allowed between two emoji ({_describe(code, i)}).",
                )
        if code in _SELECTORS:
            previous = codes[i - 1] if i else None
            if (
                previous is None or previous in _SELECTORS or previous in _SPACE_SET or previous == _ZWJ
                or (previous in _TAG_SET)
            ):  # fmt: skip
                return TextError(
                    "text_forbidden_character",
                    f"A variation selector must follow a visible character ({_describe(code, i)}).",
                )
    return TextError("text_invalid", "Text contains characters or sequences that are not allowed.")


@dataclass(frozen=True, slots=True)
class _Text:
    min_length: int = 1
    max_length: int = 100
    multiline: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("need 1 <= min_length <= max_length")

    @property
    def pattern(self) -> str:
        return MULTI_LINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN

    def validate(self, value: str) -> str:
        try:
            return check_text(value, min_length=self.min_length, max_length=self.max_length, multiline=self.multiline)
        except TextError as error:
            if error.code == "string_too_short":
                raise PydanticKnownError("string_too_short", {"min_length": self.min_length}) from None
            if error.code == "string_too_long":
                raise PydanticKnownError("string_too_long", {"max_length": self.max_length}) from None
            raise PydanticCustomError(error.code, error.message) from None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(minLength=self.min_length, maxLength=self.max_length, pattern=self.pattern)
        return json_schema


@dataclass(frozen=True, slots=True)
class SingleLine(_Text):
    """`Annotated[str, SingleLine(min_length, max_length)]`: names and other one-line text."""


@dataclass(frozen=True, slots=True)
class MultiLine(_Text):
    """`Annotated[str, MultiLine(min_length, max_length)]`: answers and comments; `\\n` and `\\t` allowed."""

    multiline: ClassVar[bool] = True


def single_line(min_length: int = 1, max_length: int = 100) -> Any:
    """The type `Annotated[str, SingleLine(min_length, max_length)]`, built at run time."""
    return Annotated[str, SingleLine(min_length, max_length)]


def multi_line(min_length: int = 1, max_length: int = 2000) -> Any:
    """The type `Annotated[str, MultiLine(min_length, max_length)]`, built at run time."""
    return Annotated[str, MultiLine(min_length, max_length)]


__all__ = [
    "MULTI_LINE_PATTERN",
    "SINGLE_LINE_PATTERN",
    "MultiLine",
    "SingleLine",
    "TextError",
    "check_text",
    "multi_line",
    "normalize_text",
    "single_line",
]
