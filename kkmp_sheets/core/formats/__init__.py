"""Reading and writing Indonesian values as cooperative staff type them by hand, on phones.

Every `parse_*` function takes a cell value as a spreadsheet reader hands it over (None, str,
int, float, bool, date, datetime, time), returns None for a blank cell, returns the value read,
or raises `FormatError` carrying an `issue.CATALOG` code. It never raises anything else and never
returns NaN or infinity. Bad data is data: the caller turns a `FormatError` into an `Issue`.

Blank
    None, "", whitespace only (non-breaking and zero-width spaces included), and a lone dash
    "-", "–", "—" (people write a dash for "nothing"). A float NaN (how pandas marks an empty
    cell) and pandas' NaT are blank too.

Numbers and Rupiah (`parse_number`, `parse_money`): Indonesian reading is the rule, `.` groups
thousands and `,` is the decimal mark.
    - Real int/float pass through; bool is not a number (a ticked checkbox is unreadable).
    - "1250000", "1.250.000", "1.250.000,00", "1.250,5": dots group exactly three digits and
      the first group does not start with 0; a comma is the decimal mark. So "1.250" = 1250 and
      "1,250" = 1.25.
    - Dot-decimal exceptions, because people type decimals with a dot on phones: a single dot
      followed by exactly 1 or 2 digits, with no other separator, is a decimal ("12.5" = 12.5,
      "1.5 juta" = 1 500 000, "1250000.0" = 1250000); so is a dot after a lone 0 ("0.125").
      Anything else mixing separators ("1,250,000", "1,250.50", "1250.000", "1.2.3,4,5") is
      unreadable rather than guessed.
    - Currency around the amount: "Rp", "Rp.", "IDR" in front, "rupiah"/"IDR"/"Rp" behind,
      ",-" or ".-" after the amount ("Rp1.250.000,-", "50.000,-" mean "no cents").
    - A multiplier word after the amount: rb/ribu/rebu/k = 10³, jt/juta = 10⁶,
      M/miliar/milyar/miliyar = 10⁹ (Indonesian "M" is miliar, not million), T/triliun/trilyun =
      10¹². "50rb", "1,5 juta", "1,5jt", "2 jt", "3 M". Only one multiplier: "12 ribu 5" and
      "1 juta 500 ribu" are unreadable.
    - Negative: a leading "-" (or the "−" minus sign, or "–"), or parentheses "(50.000)"; the
      caller decides whether a negative is allowed (issue "negative-value"). Accounting zero
      "Rp -" is 0.
    - Spaces inside the digits ("1 250 000") and scientific notation are unreadable.

Dates (`parse_date`): always day first, never the US month-first order.
    - date and datetime objects (a datetime gives its date); a time alone is unreadable.
    - Spreadsheet serial numbers (day 0 = 1899-12-30; a fraction is the time and is ignored),
      as numbers or 5-digit text, accepted between 18264 (1950-01-01) and 80000 (2119-01-11):
      any other number ("2025", "17082025") is unreadable, not a date in 1905.
    - "17/08/2025", "17-08-2025", "17.08.2025", "17/8/25": a 2-digit year 00-69 is 20xx and
      70-99 is 19xx. A time after the date ("17/08/2025 10:00") is ignored.
    - Year first: ISO "2025-08-17", "2025-08-17T10:00:00", and "2025/08/17".
    - Month names, Indonesian or English, full or abbreviated, with common spellings ("Agu",
      "Ags", "Agt", "Pebruari", "Nopember"); see `MONTHS`: "17 Agustus 2025", "17-Agu-2025",
      "17 Agu. 25". A day name in front is allowed and not checked against the date
      ("Senin, 17 Agustus 2025"; 17 August 2025 is in fact a Sunday).
    - An impossible date ("31/02/2025") is unreadable.

Identifiers
    - `parse_int_like_id`: No Anggota, Kode Barang, No Nota, RT: text is kept as typed (stripped,
      a leading apostrophe removed); a number loses its ".0" (a spreadsheet turned "12" into
      12.0). A date or bool in an identifier column is unreadable (the spreadsheet converted what
      was typed and the original cannot be recovered).
    - `check_nik`: NIK of 16 digits, spaces/dots/dashes and a leading apostrophe tolerated;
      returns the problems found rather than raising (see `NikCheck`). A NIK stored as a number
      (or as "3,17301E+15" text) is always flagged: its last digits may be gone. The 2-digit
      birth year is 20yy unless that date is still in the future, then 19yy.
    - NIB 13 digits; NPWP 16 digits, or 15 (the legacy format, flagged `legacy`): spaces, dots
      and dashes between the digits are tolerated, and so are numbers (an NIB stored as a number
      keeps its 13 digits; one that lost a leading 0 is reported, not padded).
    - Kode Wilayah: 10 digits, dotted 2.2.2.4 ("31.73.01.1001") or not dotted at all, spaces
      ignored; the result is always dotted. Whether the code exists is the caller's check.
    - SK AHU "AHU-0012345.AH.01.29.TAHUN 2025", case and spacing free, "TAHUN" optional, the
      year 2000-2099; normalised to that upper-case form with a 7-digit number.
    - Telephone: Indonesian numbers only, returned as E.164 "+62…": "0812-3456-7890",
      "+62 812 3456 7890", "62812…", "812…" (a number cell lost its leading 0), "(021) 5551234".
    - Titik Lokasi "lat, long" with dot decimals as Google Maps copies it ("-6.1680, 106.7589"),
      or comma decimals separated by ";", ", " or a space ("-6,1680; 106,7589"), degrees,
      minutes and seconds with hemisphere letters (6°10'12"S 106°45'30"E, also LS/BT), or a
      Google Maps link containing "@lat,long" or "?q=lat,long"; latitude within ±90,
      longitude within ±180. Longitude first is read the right way round (and flagged) only
      where that is unambiguous for Indonesia; a short maps.app.goo.gl link is its own problem.
    - Ya/Tidak: Ya, Y, Iya, Yes, True, 1 / Tidak, Tdk, T, No, N, False, 0, Gak; and bool.
      Anything else is a listed value not in the list: "choice-unknown", not "value-unreadable".

Writing (`format_*`) is the reverse, in the Indonesian style: "1.250.000", "1.250.000,50",
"Rp1.250.000", "17 Agustus 2025", "17 Agu 2025", "85,7%".

Performance: this runs on millions of cells. Real ints, floats, dates and plain digit strings
take a fast path; text goes through compiled regexes, and the text readers for amounts and dates
are memoised, because a workbook repeats the same prices and dates on many rows.
"""

from __future__ import annotations

from kkmp_sheets.core.formats.amounts import parse_money, parse_number
from kkmp_sheets.core.formats.dates import MONTHS, parse_date
from kkmp_sheets.core.formats.identifiers import (
    NikCheck,
    Npwp,
    check_nik,
    compose_nik,
    format_latlong,
    nik_reader,
    parse_email,
    parse_int_like_id,
    parse_kode_wilayah,
    parse_latlong,
    parse_nib,
    parse_npwp,
    parse_phone,
    parse_sk_ahu,
    parse_yes_no,
    read_latlong,
)
from kkmp_sheets.core.formats.text import FormatError, is_blank
from kkmp_sheets.core.formats.writing import (
    format_date,
    format_number,
    format_percent,
    format_rupiah,
)

__all__ = [
    "MONTHS",
    "FormatError",
    "NikCheck",
    "Npwp",
    "check_nik",
    "compose_nik",
    "format_date",
    "format_latlong",
    "format_number",
    "format_percent",
    "format_rupiah",
    "is_blank",
    "nik_reader",
    "parse_date",
    "parse_email",
    "parse_int_like_id",
    "parse_kode_wilayah",
    "parse_latlong",
    "parse_money",
    "parse_nib",
    "parse_npwp",
    "parse_number",
    "parse_phone",
    "parse_sk_ahu",
    "parse_yes_no",
    "read_latlong",
]
