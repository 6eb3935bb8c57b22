"""Google file IDs in what people paste: a bare ID, or any Sheets or Drive address holding one.

One rule for every ID the service reads (a registry's Spreadsheet cell, `[source] registry`,
`[output] spreadsheet`, `[provision] google_folder` and `google_template`):

- an ID is 19 or more of `A-Z a-z 0-9 _ -`: a spreadsheet's is 44, a folder's 33, a Shared
  Drive's 19; anything shorter is a typo or a local name, never an ID;
- in an address, the ID follows `/d/` (Sheets and Drive files), `/folders/` (Drive folders) or
  `id=` (older Drive links); anything else around it (`/edit#gid=0`, `?usp=sharing`) is ignored.
"""

from __future__ import annotations

import re

_ID = r"[A-Za-z0-9_-]{19,}"
_BARE = re.compile(_ID)
_IN_ADDRESS = re.compile(rf"(?:/d/|/folders/|[?&]id=)({_ID})")


def file_id(text: str) -> str | None:
    """The Google file (or folder) ID in `text`, or None when it holds none."""
    text = (text or "").strip()
    if _BARE.fullmatch(text):
        return text
    match = _IN_ADDRESS.search(text)
    return match[1] if match else None
