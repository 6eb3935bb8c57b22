"""Cells: what a write stores and what a read renders.

* ``RAW`` input stores JSON values as given ("=1+1" stays text, "" clears the cell).
* ``USER_ENTERED`` parses text the way the Sheets UI does for the spreadsheet's locale: formulas,
  ``'``-forced text, TRUE/FALSE, numbers (``2,000,000.01``; ``1.234,56`` under ``id_ID``),
  percentages, ``$`` amounts and dates (``2020-01-01`` → serial 43831, shown as typed).
* Reads render ``FORMATTED_VALUE`` / ``UNFORMATTED_VALUE`` / ``FORMULA`` with
  ``SERIAL_NUMBER`` / ``FORMATTED_STRING`` dates, as recorded from the real API.

Formulas are kept as text and evaluated on read for the common arithmetic subset (numbers, cell
references on the same spreadsheet, ``+ - * / ^ &``, comparisons, SUM AVERAGE MIN MAX COUNT
COUNTA ABS ROUND IF); anything else evaluates to a Sheets error value such as ``#NAME?``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kkmp_sheets.core.a1 import column_index

Scalar = str | int | float | bool
EPOCH = dt.datetime(1899, 12, 30)
DATE_KINDS = ("DATE", "DATE_TIME", "TIME")
_COMMA_DECIMAL = {
    "id", "de", "fr", "es", "it", "pt", "nl", "ru", "tr", "pl", "da", "sv", "nb", "fi", "cs",
    "el", "hu", "ro", "vi", "uk", "sk", "sl", "hr", "bg", "lt", "lv", "et",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FormulaErr:
    """A Sheets error value (``#DIV/0!``) as the effective value of a formula."""

    code: str


@dataclass(frozen=True, slots=True)
class Content:
    """What a write puts into a cell (``Content()`` clears the value, keeping note and format)."""

    value: Scalar | None = None
    formula: str | None = None
    display: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    value: Scalar | None = None
    formula: str | None = None
    display: str | None = None  # text shown when it differs from the general number format
    kind: str | None = None  # number format type: DATE, DATE_TIME, TIME, PERCENT, CURRENCY...
    note: str | None = None
    fmt: Mapping[str, Any] | None = None  # userEnteredFormat (never mutated in place)
    validation: Mapping[str, Any] | None = None

    @property
    def has_content(self) -> bool:
        return self.value is not None or self.formula is not None

    @property
    def is_blank(self) -> bool:
        return not self.has_content and self.note is None and not self.fmt and not self.validation

    def with_content(self, content: Content) -> Cell:
        return Cell(
            content.value,
            content.formula,
            content.display,
            content.kind,
            self.note,
            self.fmt,
            self.validation,
        )


EMPTY = Cell()


# --------------------------------------------------------------------------- input


def decimal_comma(locale: str) -> bool:
    return locale.split("_")[0].lower() in _COMMA_DECIMAL


def parse_raw(value: Any) -> Content | None:
    """``RAW``: JSON null skips the cell, "" clears it, anything else is stored as is."""
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return Content(value)
    if isinstance(value, str):
        return Content(value) if value != "" else Content()
    raise TypeError(type(value).__name__)


def _number_pattern(comma: bool) -> re.Pattern[str]:
    group, dec = (r"\.", ",") if comma else (",", r"\.")
    return re.compile(
        rf"^(?P<sign>[+-])?(?P<cur>\$|Rp\s?)?(?P<int>\d{{1,3}}(?:{group}\d{{3}})+|\d+)?"
        rf"(?P<frac>{dec}\d+)?(?P<exp>[eE][+-]?\d+)?(?P<pct>%)?$"
    )


_NUMBER = {False: _number_pattern(False), True: _number_pattern(True)}
_ISO_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def serial_from_datetime(value: dt.datetime | dt.date) -> float:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    delta = value.replace(tzinfo=None) - EPOCH
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000


def datetime_from_serial(serial: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=serial)


def _parse_number(text: str, locale: str) -> Content | None:
    comma = decimal_comma(locale)
    compact = text.replace(" ", "") if not text.startswith("Rp") else text
    m = _NUMBER[comma].match(compact)
    if not m or (m.group("int") is None and m.group("frac") is None):
        return None
    digits = (m.group("int") or "0").replace("." if comma else ",", "")
    frac = (m.group("frac") or "").replace(",", ".")
    number = float(digits + frac + (m.group("exp") or ""))
    if m.group("sign") == "-":
        number = -number
    kind = None
    if m.group("pct"):
        number /= 100
        kind = "PERCENT"
    elif m.group("cur"):
        kind = "CURRENCY"
    grouped = m.group("int") is not None and (("." if comma else ",") in m.group("int"))
    display = text if (kind or grouped) else None
    return Content(
        number_json(number), display=display, kind=kind or ("NUMBER" if display else None)
    )


def _parse_date(text: str, locale: str) -> Content | None:
    m = _ISO_DATE.match(text)
    try:
        if m:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            m = _SLASH_DATE.match(text)
            if not m:
                t = _TIME.match(text)
                if not t:
                    return None
                h, mi, s = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
                if h > 23 or mi > 59 or s > 59:
                    return None
                return Content((h * 3600 + mi * 60 + s) / 86400, display=text, kind="TIME")
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            mo, d = (a, b) if locale.lower().startswith("en_us") else (b, a)
        h, mi, s = (int(g or 0) for g in m.groups()[3:6])
        moment = dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
    serial = serial_from_datetime(moment)
    has_time = m.group(4) is not None
    value: int | float = int(serial) if not has_time else serial
    return Content(value, display=text, kind="DATE_TIME" if has_time else "DATE")


def parse_user_entered(value: Any, locale: str = "en_US") -> Content | None:
    """``USER_ENTERED``: parse text as if typed into the Sheets UI."""
    if not isinstance(value, str):
        return parse_raw(value)
    if value == "":
        return Content()
    if value.startswith("=") and len(value) > 1:
        return Content(formula=value)
    if value.startswith("'"):
        return Content(value[1:]) if len(value) > 1 else Content()
    stripped = value.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return Content(stripped.upper() == "TRUE")
    return _parse_number(stripped, locale) or _parse_date(stripped, locale) or Content(value)


def content_from_python(value: Any, locale: str = "en_US") -> Content | None:
    """Values given to the fake from Python (``add_spreadsheet``, xlsx import)."""
    if isinstance(value, dt.datetime):
        kind = "DATE_TIME" if (value.hour, value.minute, value.second) != (0, 0, 0) else "DATE"
        serial = serial_from_datetime(value)
        shown = int(serial) if kind == "DATE" else serial
        return Content(shown, display=date_display(serial, kind, locale), kind=kind)
    if isinstance(value, dt.date):
        serial = serial_from_datetime(value)
        return Content(int(serial), display=date_display(serial, "DATE", locale), kind="DATE")
    if isinstance(value, dt.time):
        serial = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        return Content(serial, display=value.strftime("%H:%M:%S"), kind="TIME")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return Content(int(value)) if abs(value) < 2**53 else Content(value)
    return parse_raw(value)


# --------------------------------------------------------------------------- output


def number_json(value: int | float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def general_format(value: int | float) -> str:
    """Google's automatic number format: integers plain, up to 10 decimals, else scientific."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    if abs(value) >= 1e15 or text in ("0", "-0"):
        mantissa, exp = f"{value:.2E}".split("E")
        return f"{mantissa}E{exp[0]}{exp[1:].lstrip('0') or '0'}"
    return text


def date_display(serial: float, kind: str, locale: str) -> str:
    moment = datetime_from_serial(serial)
    if kind == "TIME":
        return moment.strftime("%H:%M:%S")
    if locale.lower().startswith("en_us"):
        day = f"{moment.month}/{moment.day}/{moment.year}"
    else:
        day = f"{moment.day:02d}/{moment.month:02d}/{moment.year}"
    return day if kind == "DATE" else f"{day} {moment.strftime('%H:%M:%S')}"


def render(
    cell: Cell,
    effective: Scalar | FormulaErr | None,
    value_option: str,
    datetime_option: str,
    locale: str,
) -> Any:
    """One cell in a ``values`` response; ``""`` means empty."""
    if value_option == "FORMULA" and cell.formula is not None:
        return cell.formula
    if effective is None:
        return ""
    if isinstance(effective, FormulaErr):
        return effective.code
    if isinstance(effective, bool):
        return (
            effective if value_option != "FORMATTED_VALUE" else ("TRUE" if effective else "FALSE")
        )
    if isinstance(effective, int | float):
        dated = cell.kind in DATE_KINDS
        if value_option == "FORMATTED_VALUE" or (dated and datetime_option == "FORMATTED_STRING"):
            if cell.display is not None and cell.formula is None:
                return cell.display
            if dated:
                return date_display(float(effective), cell.kind or "DATE", locale)
            return general_format(effective)
        return number_json(effective)
    return effective


def formatted(cell: Cell, effective: Scalar | FormulaErr | None, locale: str) -> str:
    return str(render(cell, effective, "FORMATTED_VALUE", "SERIAL_NUMBER", locale))


# --------------------------------------------------------------------------- formulas


class _Fail(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
   |(?P<str>"(?:[^"]|"")*")
   |(?P<func>[A-Za-z_][A-Za-z0-9_.]*)\s*\(
   |(?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_]*)!)?\$?[A-Za-z]{1,3}\$?\d+
       (?::\$?[A-Za-z]{1,3}\$?\d+)?)
   |(?P<name>[A-Za-z_][A-Za-z0-9_.]*)
   |(?P<op><>|<=|>=|[-+*/^&=<>(),;])
    )""",
    re.X,
)

#: ``lookup(sheet name or None, r0, r1, c0, c1)`` → effective values of that block, row-major.
Lookup = Callable[[str | None, int, int, int, int], list[Scalar | FormulaErr | None]]


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _Fail("#ERROR!")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, lookup: Lookup) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.lookup = lookup

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise _Fail("#ERROR!")
        self.i += 1
        return tok

    def run(self) -> Any:
        result = self.compare()
        if self.peek() is not None:
            raise _Fail("#ERROR!")
        if isinstance(result, list):
            result = result[0] if len(result) == 1 else _raise("#VALUE!")
        return result

    def compare(self) -> Any:
        left = self.concat()
        while (tok := self.peek()) and tok[1] in ("=", "<>", "<", ">", "<=", ">="):
            self.i += 1
            right = self.concat()
            a, b = _scalar(left), _scalar(right)
            if isinstance(a, str) or isinstance(b, str):
                a, b = (
                    str(a if a is not None else "").lower(),
                    str(b if b is not None else "").lower(),
                )
            else:
                a, b = _num(a), _num(b)
            left = {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[
                tok[1]
            ]
        return left

    def concat(self) -> Any:
        left = self.additive()
        while (tok := self.peek()) and tok[1] == "&":
            self.i += 1
            left = _text(_scalar(left)) + _text(_scalar(self.additive()))
        return left

    def additive(self) -> Any:
        left = self.term()
        while (tok := self.peek()) and tok[1] in ("+", "-"):
            self.i += 1
            right = _num(_scalar(self.term()))
            left = _num(_scalar(left)) + right if tok[1] == "+" else _num(_scalar(left)) - right
        return left

    def term(self) -> Any:
        left = self.power()
        while (tok := self.peek()) and tok[1] in ("*", "/"):
            self.i += 1
            right = _num(_scalar(self.power()))
            if tok[1] == "*":
                left = _num(_scalar(left)) * right
            elif right == 0:
                raise _Fail("#DIV/0!")
            else:
                left = _num(_scalar(left)) / right
        return left

    def power(self) -> Any:
        left = self.unary()
        while (tok := self.peek()) and tok[1] == "^":
            self.i += 1
            left = _num(_scalar(left)) ** _num(_scalar(self.unary()))
        return left

    def unary(self) -> Any:
        tok = self.peek()
        if tok and tok[1] in ("-", "+"):
            self.i += 1
            value = _num(_scalar(self.unary()))
            return -value if tok[1] == "-" else value
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "name":
            if text.upper() in ("TRUE", "FALSE"):
                return text.upper() == "TRUE"
            raise _Fail("#NAME?")
        if kind == "ref":
            return self.reference(text)
        if kind == "func":
            return self.call(text.upper())
        if text == "(":
            value = self.compare()
            self.take(")")
            return value
        raise _Fail("#ERROR!")

    def reference(self, text: str) -> list[Any]:
        sheet = None
        if "!" in text:
            sheet, text = text.rsplit("!", 1)
            if sheet.startswith("'"):
                sheet = sheet[1:-1].replace("''", "'")
        ends = [re.match(r"\$?([A-Za-z]+)\$?(\d+)", p) for p in text.split(":")]
        cols = [column_index(m.group(1)) for m in ends if m]
        rows = [int(m.group(2)) - 1 for m in ends if m]
        return self.lookup(sheet, min(rows), max(rows) + 1, min(cols), max(cols) + 1)

    def call(self, name: str) -> Any:
        args: list[Any] = []
        if self.peek() and self.peek() != ("op", ")"):
            args.append(self.compare())
            while self.peek() in (("op", ","), ("op", ";")):
                self.i += 1
                args.append(self.compare())
        self.take(")")
        return _call(name, args)


def _raise(code: str) -> Any:
    raise _Fail(code)


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) != 1:
            raise _Fail("#VALUE!")
        value = value[0]
    if isinstance(value, FormulaErr):
        raise _Fail(value.code)
    return value


def _num(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        raise _Fail("#VALUE!") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return general_format(value)
    return str(value)


def _flat(args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for arg in args:
        out.extend(arg if isinstance(arg, list) else [arg])
    for v in out:
        if isinstance(v, FormulaErr):
            raise _Fail(v.code)
    return out


def _call(name: str, args: list[Any]) -> Any:
    if name in ("SUM", "AVERAGE", "MIN", "MAX", "COUNT"):
        numbers = [
            float(v) for v in _flat(args) if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if name == "SUM":
            return sum(numbers)
        if name == "COUNT":
            return float(len(numbers))
        if not numbers:
            return 0.0 if name != "AVERAGE" else _raise("#DIV/0!")
        return {"AVERAGE": sum(numbers) / len(numbers), "MIN": min(numbers), "MAX": max(numbers)}[
            name
        ]
    if name == "COUNTA":
        return float(sum(1 for v in _flat(args) if v not in (None, "")))
    if name == "ABS" and len(args) == 1:
        return abs(_num(_scalar(args[0])))
    if name == "ROUND" and len(args) in (1, 2):
        digits = int(_num(_scalar(args[1]))) if len(args) == 2 else 0
        value = _num(_scalar(args[0]))
        return math.floor(value * 10**digits + 0.5) / 10**digits
    if name == "IF" and len(args) in (2, 3):
        cond = _scalar(args[0])
        truthy = cond if isinstance(cond, bool) else _num(cond) != 0
        chosen = args[1] if truthy else (args[2] if len(args) == 3 else False)
        return _scalar(chosen)
    raise _Fail("#NAME?")


def evaluate(formula: str, lookup: Lookup) -> Scalar | FormulaErr | None:
    """Evaluate ``=...`` text; returns the effective value or a Sheets error value."""
    try:
        result = _Parser(formula[1:], lookup).run()
    except _Fail as fail:
        return FormulaErr(fail.code)
    except (OverflowError, ValueError, ZeroDivisionError):
        return FormulaErr("#NUM!")
    if isinstance(result, float):
        if not math.isfinite(result):
            return FormulaErr("#NUM!")
        return number_json(result)
    return result
