"""Identifiers and listed values: IDs, NIK, NIB, NPWP, SK AHU, telephone, email, Kode Wilayah,
Titik Lokasi, Ya/Tidak (see the package docstring)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.formats import phone_plan
from kkmp_sheets.core.formats.text import (
    _BLANK_TEXT,
    FormatError,
    _clean,
    _Err,
    _integral_text,
    _is_digits,
    _is_nan,
    _is_real,
    _text_or_none,
    is_blank,
)
from kkmp_sheets.core.template import normalize

_ID_ERR = _Err("value-unreadable", "nomor atau kode", "A-001")
_YES_NO_ERR = _Err("choice-unknown", "Ya, Tidak", "Ya")
_NIB_ERR = _Err("nib-format", "NIB 13 digit", "9120001234567")
_NPWP_ERR = _Err("npwp-format", "NPWP 16 digit", "0123456789012345")
_SK_AHU_ERR = _Err("sk-ahu-format", "nomor SK AHU", "AHU-0012345.AH.01.29.TAHUN 2025")
_PHONE_ERR = _Err("phone-format", "nomor telepon", "0812-3456-7890")
_EMAIL_ERR = _Err("email-format", "alamat email", "nama@contoh.id")
_KODE_WILAYAH_ERR = _Err("kode-wilayah-format", "kode wilayah 10 digit", "31.73.01.1001")
_LATLONG_ERR = _Err("latlong-format", "titik lokasi (lintang, bujur)", "-6.1680, 106.7589")


def parse_int_like_id(value: object) -> str | None:
    """An identifier (No Anggota, Kode Barang, No Nota, RT) as text; 12.0 -> "12"; None if blank."""
    if isinstance(value, str):
        text = _text_or_none(value)
        # A leading apostrophe is how people force a spreadsheet to keep text ("'001").
        if text is not None and text[0] == "'":
            text = text[1:].strip() or None
        return text
    if value is None or _is_nan(value):
        return None
    if _is_real(value):
        whole = _integral_text(abs(value))  # type: ignore[arg-type]
        if whole is not None:
            return ("-" if value < 0 else "") + whole  # type: ignore[operator]
        try:
            number = float(value)  # type: ignore[arg-type]
        except (OverflowError, ValueError):
            raise _ID_ERR() from None
        if math.isfinite(number):
            return repr(number)  # a non-whole number: "12.5", as Python writes it
    raise _ID_ERR()


class NikCheck(NamedTuple):
    """What a NIK says, and what is wrong with it.

    `problems` are `issue.CATALOG` codes, in this order: "nik-as-number", "nik-length",
    "nik-birthdate", "nik-region-unknown". `digits` is the 16-digit NIK whenever there are 16
    digits (even with other problems). `birth_date` and `sex` ("L"/"P") are set only when the
    birth date in digits 7-12 is possible, `kecamatan` (6 digits) only when it is a known code.
    """

    # A named tuple, immutable and compared by value like a frozen dataclass, but made in C: a
    # province has a NIK per member, and a frozen dataclass's __init__ (one object.__setattr__
    # per field) cost more than the rest of the check.

    digits: str | None
    problems: tuple[str, ...]
    birth_date: date | None
    sex: str | None
    kecamatan: str | None


# Spaces, dots and dashes people put in a NIK to read it ("3173 0117 0890 0001").
_NIK_PUNCTUATION = re.compile(r"[\s.-]+")
# A number that became text in scientific notation ("3,17301E+15"): its last digits are gone.
_SCIENTIFIC_TEXT = re.compile(r"[0-9](?:[.,][0-9]+)?e\+?[0-9]{1,3}", re.IGNORECASE)


def _nik_digits(value: object, problems: list[str]) -> str | None:
    """The digits of a NIK cell (None when it has other characters); adds "nik-as-number"."""
    if isinstance(value, str):
        text = _clean(value).removeprefix("'").strip()
        if len(text) == 16 and _is_digits(text):  # fast path: a NIK typed as it should be
            return text
        if _SCIENTIFIC_TEXT.fullmatch(text):
            problems.append("nik-as-number")
            mantissa, exponent = text.lower().split("e")
            if len(mantissa) - 1 < int(exponent) + 1:
                return None  # "3,17301E+15": only 6 of the 16 digits are left
            return _integral_text(round(float(text.replace(",", "."))))
        digits = _NIK_PUNCTUATION.sub("", text)
        return digits if _is_digits(digits) else None
    if _is_real(value):
        # A NIK stored as a number: a float holds only ~15.9 significant digits, so the last
        # digit may have changed even when we get 16 digits back.
        problems.append("nik-as-number")
        try:
            return _integral_text(round(value))  # type: ignore[call-overload]
        except (ValueError, OverflowError, TypeError):
            return None
    return None  # bool, a date: not a NIK


@lru_cache(maxsize=1)
def _today_in_hour(_hour: int) -> date:
    return date.today()


def _today() -> date:
    """date.today(), asked once an hour: it costs more than the rest of a NIK check. Local
    midnight falls on an hour boundary in every Indonesian time zone (WIB, WITA, WIT)."""
    return _today_in_hour(int(time.time() // 3600))


@lru_cache(maxsize=65_536)
def _nik_birth(six: str, today: date) -> tuple[date | None, str | None]:
    """(birth date, sex) of a NIK's digits 7-12 as read on `today`; (None, None) when impossible.

    Remembered: members share birth days, and this is most of a NIK check's work."""
    day, month, yy = int(six[:2]), int(six[2:4]), int(six[4:])
    born = _nik_birth_date(day - 40 if day > 40 else day, month, yy, today)
    return born, (("P" if day > 40 else "L") if born is not None else None)


def _nik_birth_date(day: int, month: int, yy: int, today: date) -> date | None:
    """The birth date in a NIK: 20yy unless that is still in the future, then 19yy."""
    year = 2000 + yy
    if year > today.year or (year == today.year and (month, day) > (today.month, today.day)):
        year -= 100
    try:
        return date(year, month, day)
    except ValueError:  # day 0 or 32-40, month 0 or 13+, 30 February
        return None


def compose_nik(kecamatan: str, born: date, *, female: bool, serial: int) -> str:
    """The NIK those parts make (the reverse of `check_nik`): kecamatan code, DDMMYY with 40
    added to the day for women, a 4-digit serial. For examples and synthetic data only."""
    day = born.day + 40 if female else born.day
    return f"{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def check_nik(
    value: object, kecamatan_exists: Callable[[str], bool] = wilayah.kecamatan_exists
) -> NikCheck | None:
    """Read a NIK and list its problems; None when blank. Never raises for a bad NIK.

    Digits 1-6 are the kecamatan code, 7-8 the day of birth (+40 for women), 9-10 the month,
    11-12 the year, 13-16 a serial number.
    """
    problems: list[str] = []
    digits: str | None
    if type(value) is str and len(value) == 16 and value.isdigit() and value.isascii():
        digits = value  # a NIK typed as it should be (most of them): nothing to clean
    else:
        if value is None or is_blank(value):
            return None
        digits = _nik_digits(value, problems)
        if digits is None and problems:  # a number whose digits are lost: only that is certain
            return NikCheck(None, tuple(problems), None, None, None)
        if digits is None or len(digits) != 16:
            problems.append("nik-length")
            return NikCheck(None, tuple(problems), None, None, None)
    birth_date, sex = _nik_birth(digits[6:12], _today())
    if birth_date is None:
        problems.append("nik-birthdate")
    kecamatan: str | None = digits[:6]
    if not kecamatan_exists(digits[:6]):
        problems.append("nik-region-unknown")
        kecamatan = None
    # A serial of 0000 is never issued, but issue.CATALOG has no code for it, and the product
    # contract's malformed NIK is length, birth date and kecamatan only: not reported.
    return NikCheck(digits, tuple(problems), birth_date, sex, kecamatan)


def nik_reader() -> Callable[[object], NikCheck | None]:
    """`check_nik` for a column of cells: today and the kecamatan codes are looked up once, and a
    NIK typed as it should be, with a possible birth date and a known kecamatan (nearly every
    one), is read without further calls. Any other cell goes to `check_nik`."""
    today = _today()
    known = wilayah.kecamatan_codes()
    birth = _nik_birth
    make = tuple.__new__  # NikCheck's own __new__ is a Python function; this is its C part

    def read(value: object) -> NikCheck | None:
        if type(value) is str and len(value) == 16 and value.isdigit() and value.isascii():
            born, sex = birth(value[6:12], today)
            kecamatan = value[:6]
            if born is not None and kecamatan in known:
                return make(NikCheck, (value, (), born, sex, kecamatan))
        return check_nik(value)

    return read


def _id_text(value: object, err: _Err) -> str | None:
    """The text of an identity number cell; a whole number as its digits; None when blank."""
    if isinstance(value, str):
        text = _text_or_none(value)
        # A leading apostrophe is how people force a spreadsheet to keep text.
        return None if text is None else text.removeprefix("'").strip() or None
    if value is None or _is_nan(value):
        return None
    if _is_real(value):
        digits = _integral_text(value)
        if digits is not None:
            return digits
    raise err()


# Punctuation people type inside identity numbers: spaces, dots, dashes.
_ID_PUNCTUATION = re.compile(r"[\s.-]+")


def _id_digits(value: object, err: _Err) -> str | None:
    text = _id_text(value, err)
    if text is None:
        return None
    digits = _ID_PUNCTUATION.sub("", text)
    if not _is_digits(digits):
        raise err()
    return digits


def parse_nib(value: object) -> str | None:
    """Nomor Induk Berusaha: 13 digits ("9120001234567"); None when blank."""
    digits = _id_digits(value, _NIB_ERR)
    if digits is not None and len(digits) != 13:
        raise _NIB_ERR(str(len(digits)))
    return digits


@dataclass(frozen=True)
class Npwp:
    digits: str  # 16 digits, or 15 for the legacy format
    legacy: bool  # the 15-digit format (99.999.999.9-999.999), replaced by 16 digits


def parse_npwp(value: object) -> Npwp | None:
    """NPWP: 16 digits, or 15 in the legacy "01.234.567.8-901.000" format; None when blank."""
    digits = _id_digits(value, _NPWP_ERR)
    if digits is None:
        return None
    if len(digits) not in (15, 16):
        raise _NPWP_ERR(str(len(digits)))
    return Npwp(digits, legacy=len(digits) == 15)


_SK_SEP = r"(?:\s*[./]\s*|\s+)"
_SK_AHU = re.compile(
    rf"AHU\s*[-.]?\s*([0-9]{{1,7}}){_SK_SEP}AH{_SK_SEP}([0-9]{{2}}){_SK_SEP}([0-9]{{2}})"
    rf"{_SK_SEP}?(?:TAHUN\s*)?(20[0-9]{{2}})"
)


def parse_sk_ahu(value: object) -> str | None:
    """Nomor SK AHU, normalised to "AHU-0012345.AH.01.29.TAHUN 2025"; None when blank."""
    if value is None or _is_nan(value):
        return None
    if not isinstance(value, str):
        raise _SK_AHU_ERR()
    text = _text_or_none(value)
    if text is None:
        return None
    match = _SK_AHU.fullmatch(text.upper())
    if match is None:
        raise _SK_AHU_ERR()
    number, part1, part2, year = match.groups()
    return f"AHU-{number.zfill(7)}.AH.{part1}.{part2}.TAHUN {year}"


# Punctuation inside a phone number: spaces, dashes, dots, parentheses around the area code.
_PHONE_PUNCTUATION = re.compile(r"[\s().-]+")


def parse_phone(value: object) -> str | None:
    """An Indonesian phone number as E.164 ("+6281234567890"); None when blank.

    Which numbers exist (operator prefixes, area codes, lengths) is the `phonenumbers` library's
    metadata, kept up to date with the numbering plans; this function only decides what people
    type: punctuation, "0062…" for "+62…", "62812…" without the "+", "812…" from a number cell
    that dropped the leading 0. Letters, two numbers in a cell, a note such as "(WA)" and
    foreign numbers are refused: the service writes to Indonesian numbers only.
    """
    if type(value) is str and value.isascii() and "'" not in value:
        # The common cell, "0812-3456-7890" or "+62 812…": what `_id_text` and the punctuation
        # pattern make of it, without their calls when dashes and spaces are its only marks.
        text = value.strip()
        if text in _BLANK_TEXT:
            return None
        plain = text.replace("-", "").replace(" ", "")
        text = plain if plain[plain[:1] == "+" :].isdigit() else _PHONE_PUNCTUATION.sub("", text)
    else:
        found = _id_text(value, _PHONE_ERR)
        if found is None:
            return None
        text = _PHONE_PUNCTUATION.sub("", found)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not _is_digits(digits):
        raise _PHONE_ERR()
    if not plus and digits.startswith("00"):  # the international call prefix: 0062…
        digits, plus = digits[2:], True
    # "62812…" is the country code without its "+": numbers typed at home start with 0 (or 8,
    # from a number cell), so 62 cannot be the start of a national number here, although the
    # library would read "62810000000" as an Aceh landline (0628…).
    plus = plus or digits.startswith("62")
    # The shapes people type are judged against the library's own patterns, without its
    # generic parser (see `phone_plan`); any other shape is read by the library.
    nsn = phone_plan.national_number(digits, plus)
    if nsn is not None:
        if phone_plan.is_valid(nsn):
            return "+62" + nsn
        raise _PHONE_ERR()
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, "ID")
    except phonenumbers.NumberParseException:
        raise _PHONE_ERR() from None
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        raise _PHONE_ERR()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL_LOCAL_CHARS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(
    rf"({_EMAIL_LOCAL_CHARS}(?:\.{_EMAIL_LOCAL_CHARS})*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)


def parse_email(value: object) -> str | None:
    """An email address ("nama@contoh.id"), the domain lower-cased; None when blank."""
    if value is None or _is_nan(value):
        return None
    if not isinstance(value, str):
        raise _EMAIL_ERR()
    text = _text_or_none(value)
    if text is None:
        return None
    if text[:7].lower() == "mailto:":  # pasted from a link
        text = text[7:]
    match = _EMAIL.fullmatch(text)
    if match is None or len(text) > 254:
        raise _EMAIL_ERR()
    return f"{match[1]}@{match[2].lower()}"


# 10 digits, dotted 2.2.2.4 or not dotted at all (the separator must be the same each time).
_KODE_WILAYAH = re.compile(r"([0-9]{2})(\.?)([0-9]{2})\2([0-9]{2})\2([0-9]{4})")


def parse_kode_wilayah(value: object) -> str | None:
    """A desa/kelurahan code, dotted: "31.73.01.1001". Existence is not checked here."""
    text = _id_text(value, _KODE_WILAYAH_ERR)
    if text is None:
        return None
    match = _KODE_WILAYAH.fullmatch("".join(text.split()))
    if match is None:
        raise _KODE_WILAYAH_ERR()
    return f"{match[1]}.{match[3]}.{match[4]}.{match[5]}"


_COORD_DOT = r"[-+]?[0-9]{1,3}(?:\.[0-9]+)?"
_COORD_COMMA = r"[-+]?[0-9]{1,3}(?:,[0-9]+)?"
# "-6.1680, 106.7589" as Google Maps copies it (also ";" or a space between).
_LATLONG_DOT = re.compile(rf"({_COORD_DOT})\s*(?:[,;]\s*|\s+)({_COORD_DOT})")
# "-6,1680; 106,7589": comma decimals need another separator (";", ", " or a space).
_LATLONG_COMMA = re.compile(rf"({_COORD_COMMA})(?:\s*;\s*|,\s+|\s+)({_COORD_COMMA})")
# A Google Maps link: ".../@-6.1680,106.7589,17z", "...?q=-6.1680,106.7589" (also "ll=",
# "query=", "destination=", and "%2C" for the comma).
_LATLONG_IN_LINK = re.compile(
    r"[@=/](-?[0-9]{1,3}\.[0-9]+)(?:,|%2C)\s*(-?[0-9]{1,3}\.[0-9]+)", re.IGNORECASE
)
# Short links (maps.app.goo.gl/…, goo.gl/maps/…) name no place until a server is asked.
_SHORT_LINK = re.compile(r"(?:maps\.app\.goo\.gl|goo\.gl/maps)/", re.IGNORECASE)
# One coordinate in degrees (minutes, seconds) with its hemisphere letter(s), before or after:
# 6°10'12"S, 6° 10′ 12,5″ LS, S 6°10'12", 6.17°S, 106 45 30 BT. The letters: S/LS (south),
# N/U/LU (north), E/T/BT (east), W/B/BB (west) — English and Indonesian (Lintang Selatan, …).
_HEMI = r"(LS|LU|BT|BB|[NSEWUTB])"
_DMS_BODY = (
    r"([0-9]{1,3}(?:[.,][0-9]+)?)\s*(?:°|º|˚|d|deg)?\s*"
    r"(?:([0-9]{1,2}(?:[.,][0-9]+)?)\s*(?:'|′|’|m)\s*"
    r"(?:([0-9]{1,2}(?:[.,][0-9]+)?)\s*(?:\"|″|”|''|s)?\s*)?)?"
)
_DMS_ONE = re.compile(rf"(?:{_HEMI}\s*{_DMS_BODY}|{_DMS_BODY}{_HEMI})", re.IGNORECASE)
_DMS_PAIR = re.compile(
    rf"\s*(?P<a>{_DMS_ONE.pattern})\s*[,;]?\s*(?P<b>{_DMS_ONE.pattern})\s*", re.IGNORECASE
)
_SOUTH_WEST = frozenset({"S", "LS", "W", "B", "BB"})
_LATITUDE = frozenset({"S", "N", "U", "LS", "LU"})
# Indonesia's extent, with a margin: a pair that fits only the other way round was swapped.
INDONESIA_LAT = (-11.0, 6.5)
INDONESIA_LON = (94.0, 142.0)


def _short_link_err() -> FormatError:
    return FormatError("latlong-short-link", "titik lokasi (lintang, bujur)", "-6.1680, 106.7589")


@dataclass(frozen=True, slots=True)
class LatLongReading:
    """A Titik Lokasi as read: (latitude, longitude), and whether the cell had them swapped."""

    point: tuple[float, float]
    swapped: bool = False


def parse_latlong(value: object) -> tuple[float, float] | None:
    """Titik Lokasi as (latitude, longitude); None when blank (see `read_latlong`)."""
    reading = read_latlong(value)
    return None if reading is None else reading.point


def read_latlong(value: object) -> LatLongReading | None:
    """Titik Lokasi as typed or pasted; None when blank.

    Decimal degrees with dot or comma decimals, degrees-minutes-seconds with hemisphere letters,
    or a Google Maps link that carries the coordinates. Longitude first (106.76, -6.17) is read
    the right way round, and `swapped` says so, only where that is unambiguous for Indonesia: the
    first number is a longitude there and not a latitude, the second a latitude there. A short
    link (maps.app.goo.gl) cannot be followed offline: "latlong-short-link"; anything else that
    is not one point: "latlong-format".
    """
    if value is None or _is_nan(value):
        return None
    if not isinstance(value, str):
        raise _LATLONG_ERR()
    text = _text_or_none(value)
    if text is None:
        return None
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if _SHORT_LINK.search(text):
        raise _short_link_err()
    if text.lower().startswith(("http", "www.", "maps.", "google.")):
        match = _LATLONG_IN_LINK.search(text)
        if match is None:
            raise _LATLONG_ERR()
        return _oriented(float(match[1]), float(match[2]))
    match = _LATLONG_DOT.fullmatch(text) or _LATLONG_COMMA.fullmatch(text)
    if match is not None:
        return _oriented(float(match[1].replace(",", ".")), float(match[2].replace(",", ".")))
    return _read_dms(text)


def format_latlong(point: tuple[float, float]) -> str:
    """`-6.16800, 106.75890`: lintang, bujur as Google Maps reads it back."""
    return f"{point[0]:.5f}, {point[1]:.5f}"


def _oriented(first: float, second: float) -> LatLongReading:
    """(latitude, longitude) from two numbers in the order typed."""
    if -90 <= first <= 90 and -180 <= second <= 180:
        return LatLongReading((first, second))
    lon_lo, lon_hi = INDONESIA_LON
    lat_lo, lat_hi = INDONESIA_LAT
    if lon_lo <= first <= lon_hi and lat_lo <= second <= lat_hi:
        return LatLongReading((second, first), swapped=True)
    raise _LATLONG_ERR()


def _read_dms(text: str) -> LatLongReading:
    match = _DMS_PAIR.fullmatch(text)
    if match is None:
        raise _LATLONG_ERR()
    a, b = _dms_value(match["a"]), _dms_value(match["b"])
    if a is None or b is None:
        raise _LATLONG_ERR()
    (a_value, a_is_lat), (b_value, b_is_lat) = a, b
    if a_is_lat == b_is_lat:  # two latitudes (or two longitudes): not one point
        raise _LATLONG_ERR()
    lat, lon = (a_value, b_value) if a_is_lat else (b_value, a_value)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _LATLONG_ERR()
    return LatLongReading((lat, lon))


def _dms_value(text: str) -> tuple[float, bool] | None:
    """(signed degrees, is a latitude) of one coordinate with its hemisphere letters."""
    m = _DMS_ONE.fullmatch(text.strip())
    if m is None:
        return None
    groups = m.groups()
    if groups[0] is not None:  # letters first
        hemi, deg, minutes, seconds = groups[0], groups[1], groups[2], groups[3]
    else:
        deg, minutes, seconds, hemi = groups[4], groups[5], groups[6], groups[7]
    number = [float(x.replace(",", ".")) if x else 0.0 for x in (deg, minutes, seconds)]
    if number[1] >= 60 or number[2] >= 60 or ((minutes or seconds) and number[0] % 1):
        return None  # 6.5°30' or 61 minutes: not a coordinate
    degrees = number[0] + number[1] / 60 + number[2] / 3600
    hemi = hemi.upper()
    return (-degrees if hemi in _SOUTH_WEST else degrees), hemi in _LATITUDE


_YES = frozenset({"ya", "iya", "y", "yes", "true", "1", "benar"})
_NO = frozenset({"tidak", "tdk", "t", "no", "n", "false", "0", "gak", "ga", "nggak", "enggak"})


def parse_yes_no(value: object) -> bool | None:
    """Ya/Tidak as typed (Ya, Y, Yes, True, 1 / Tidak, T, No, False, 0); None when blank."""
    if isinstance(value, bool):
        return value
    if value is None or _is_nan(value):
        return None
    if isinstance(value, str):
        if is_blank(value):
            return None
        key = normalize(value)  # case, spaces and punctuation ignored, as for listed values
        if key in _YES:
            return True
        if key in _NO:
            return False
    elif _is_real(value) and value in (0, 1):
        return value == 1
    raise _YES_NO_ERR()
