"""WIB (Waktu Indonesia Barat, Asia/Jakarta): the one time zone of the service.

Every day D, every "Diperbarui", schedule time and stored timestamp is read in it. Defined here
once; Asia/Jakarta has no daylight saving time, so WIB wall time never repeats or skips an hour.
"""

from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
