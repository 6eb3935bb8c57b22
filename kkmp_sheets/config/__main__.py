"""`python -m kkmp_sheets.config`: print the configuration reference (docs/configuration.md)."""

from kkmp_sheets.config.keys import reference_markdown

print(reference_markdown(), end="")
