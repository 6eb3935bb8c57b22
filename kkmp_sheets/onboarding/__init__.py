"""Bringing a city on: provisioning workbooks, the pre-flight check, the cooperative workbook
template and the staff guide."""
