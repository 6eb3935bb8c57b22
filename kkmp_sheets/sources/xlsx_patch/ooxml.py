"""The vocabulary the other modules share: this package's one exception and OOXML's names.

Namespaces, relationship and content types, the regular expression for a start tag's attributes
and A1 column letters: kept apart so that every module can use them without importing another.
"""

from __future__ import annotations


class PatchError(Exception):
    """The workbook could not be read or written; the message says why, in plain English.

    `reason` says what the cooperative's staff can do about it: "read-only" (allow writing),
    "open" (close it in the program that holds it), "changed" (they saved while it was being
    updated: nothing to do, the next cycle writes again), or "failed" (anything else)."""

    def __init__(self, message: str, reason: str = "failed"):
        super().__init__(message)
        self.reason = reason


# --------------------------------------------------------------------------------------------
# OOXML names

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
RT_OFFICE_DOCUMENT = NS_REL + "/officeDocument"
RT_WORKSHEET = NS_REL + "/worksheet"
RT_STYLES = NS_REL + "/styles"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"


# The attributes of a start tag. Attribute values may contain ">" (XML allows it).
_ATTRS = r"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*"""
