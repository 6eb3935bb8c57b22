"""Indonesia's numbering plan, from the `phonenumbers` metadata, compiled once for a quick check.

`phonenumbers.parse` + `is_valid_number` cost about 30 µs a number (generic text scanning,
country-code guessing, a regex cache lookup per pattern), and a province's Anggota tabs hold a
telephone per member, nearly all distinct, so nothing can be remembered. The shapes people
actually type, once `parse_phone` has removed punctuation, are few: "08…", "8…" and "+62 8…".
For exactly those, `national_number` says which national significant number the library would
arrive at and `is_valid` judges it with the library's own patterns and lengths, the way
`phonenumbers`' `_number_type_helper` does (see its source), at the cost of two regex matches.
Every other shape (a zero after +62, "00…", other country codes, very long input) answers None
and is read by the library itself, so results are the library's in every case;
`tests/test_phone_plan.py` compares both on many numbers.

If the metadata ever has a shape this reading does not cover (a national prefix other than a
lone "0", a transform rule), `national_number` always answers None: slower, never different.
"""

from __future__ import annotations

import re

from phonenumbers import PhoneMetadata, PhoneNumberDesc
from phonenumbers import phonenumberutil as _util

_FOUND = PhoneMetadata.metadata_for_region("ID")
assert _FOUND is not None, "phonenumbers ships Indonesia's metadata"
_META: PhoneMetadata = _FOUND
_GENERAL = _META.general_desc
# The library's limits on a national significant number and on the text it is handed.
_MIN_NSN, _MAX_NSN = _util._MIN_LENGTH_FOR_NSN, _util._MAX_LENGTH_FOR_NSN
_MAX_INPUT = _util._MAX_INPUT_STRING_LENGTH
# A longer national number is refused by the library whatever its digits (TOO_LONG).
_LENGTHS = range(_MAX_NSN + 1)

# The descriptions `_number_type_helper` tries after the general one, in its order; any match
# means a valid number. Mobile is tried only when its pattern differs from fixed line's (when
# they are the same, a fixed-line match already answered).
_TYPES: list[PhoneNumberDesc | None] = [
    _META.premium_rate,
    _META.toll_free,
    _META.shared_cost,
    _META.voip,
    _META.personal_number,
    _META.pager,
    _META.uan,
    _META.voicemail,
    _META.fixed_line,
]
if not _META.same_mobile_and_fixed_line_pattern:
    _TYPES.append(_META.mobile)


def _fits(desc: PhoneNumberDesc, length: int) -> bool:
    """The length test of `_is_number_matching_desc`: no listed lengths means any length."""
    lengths = desc.possible_length
    return not lengths or length in lengths


def _pattern(desc: PhoneNumberDesc) -> str | None:
    return desc.national_number_pattern


def _by_length(descs: list[PhoneNumberDesc | None]) -> dict[int, re.Pattern[str]]:
    """Length → one compiled alternation of the descriptions that allow that length."""
    out: dict[int, re.Pattern[str]] = {}
    for length in _LENGTHS:
        parts = [
            f"(?:{_pattern(d)})"
            for d in descs
            if d is not None and _pattern(d) and _fits(d, length)
        ]
        if parts:
            out[length] = re.compile("|".join(parts))
    return out


_GENERAL_AT = _by_length([_GENERAL])
_ANY_TYPE_AT = _by_length(_TYPES)

# Whether parsing keeps a national number with its "0" stripped: `_test_number_length` (general
# description, any type) depends on the length alone, so it is asked once per length here.
_KEEPS_STRIPPED = {
    length: _util._test_number_length("1" * length, _META)
    not in (
        _util.ValidationResult.TOO_SHORT,
        _util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
        _util.ValidationResult.INVALID_LENGTH,
    )
    for length in range(_MAX_INPUT + 1)
}

# The shapes read here rest on this: the national prefix is a lone "0", with no transform rule.
_SIMPLE_PLAN = (
    _META.country_code == 62
    and _META.national_prefix_for_parsing == "0"
    and not _META.national_prefix_transform_rule
    and _util.region_code_for_country_code(62) == "ID"
)
_GENERAL_PATTERN = re.compile((_GENERAL and _GENERAL.national_number_pattern) or "")


def national_number(digits: str, plus: bool) -> str | None:
    """The national significant number `phonenumbers.parse` makes of `digits` (ASCII digits,
    after a "+" when `plus`) with region "ID", or None when this is not a shape read here."""
    if not _SIMPLE_PLAN or len(digits) + plus > _MAX_INPUT or len(digits) < 2:
        return None
    if plus:
        # "+62" then a national number that does not start with 0: nothing is stripped.
        if digits[:2] == "62" and digits[2:3] not in ("", "0"):
            return digits[2:]
        return None
    if digits[0] != "0":
        # A national number as typed ("812…"); never "62…" (`parse_phone` gives those a "+").
        return digits if digits[:2] != "62" else None
    if digits[1] == "0":
        return None
    # "0" then a digit 1-9: the national prefix. The library strips it unless the whole number
    # fits the general pattern and the rest does not, and keeps the stripped number only when
    # its length is possible.
    rest = digits[1:]
    if _GENERAL_PATTERN.fullmatch(digits) and not _GENERAL_PATTERN.fullmatch(rest):
        return None
    return rest if _KEEPS_STRIPPED[len(rest)] else None


# Length → one pattern that a valid number of that length matches: the general description's as
# a lookahead, then any type's. Lengths outside the library's limits have none (it refuses them
# before validating: TOO_SHORT_NSN / TOO_LONG), nor do lengths without both descriptions.
_VALID_AT = {
    length: re.compile(
        rf"(?=(?:{_GENERAL_AT[length].pattern})\Z)(?:{_ANY_TYPE_AT[length].pattern})"
    )
    for length in range(_MIN_NSN, _MAX_NSN + 1)
    if length in _GENERAL_AT and length in _ANY_TYPE_AT
}


def is_valid(nsn: str) -> bool:
    """`phonenumbers.is_valid_number` for +62 and this national significant number (its first
    digit 1-9): the general description and then any type's, lengths first, as the library does,
    in one match."""
    pattern = _VALID_AT.get(len(nsn))
    return pattern is not None and pattern.fullmatch(nsn) is not None
