"""Titik Lokasi: the forms people type or paste, and the city's area (core/lokasi.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kkmp_sheets import config
from kkmp_sheets.core.formats import FormatError, format_latlong, read_latlong
from kkmp_sheets.core.formats.identifiers import INDONESIA_LAT, INDONESIA_LON
from kkmp_sheets.core.issue import CATALOG, Severity
from kkmp_sheets.core.lokasi import MIN_POINTS, Area, area_issues, distance_km, outside
from kkmp_sheets.demo.catalogues import dms

# Points in Indonesia, with five decimals as Google Maps gives them.
LAT = st.floats(INDONESIA_LAT[0], INDONESIA_LAT[1]).map(lambda x: round(x, 5))
LON = st.floats(INDONESIA_LON[0], INDONESIA_LON[1]).map(lambda x: round(x, 5))


def close(a: tuple[float, float], b: tuple[float, float], tol: float = 1e-4) -> bool:
    return math.isclose(a[0], b[0], abs_tol=tol) and math.isclose(a[1], b[1], abs_tol=tol)


@given(LAT, LON, st.sampled_from([", ", ",", "; ", " "]))
def test_dot_decimals_read_back_the_point(lat, lon, sep):
    reading = read_latlong(f"{lat:.5f}{sep}{lon:.5f}")
    assert reading is not None and close(reading.point, (lat, lon)) and not reading.swapped


@given(LAT, LON, st.sampled_from(["; ", ", ", " "]))
def test_comma_decimals_read_back_the_point(lat, lon, sep):
    text = f"{lat:.5f}".replace(".", ",") + sep + f"{lon:.5f}".replace(".", ",")
    reading = read_latlong(text)
    assert reading is not None and close(reading.point, (lat, lon))


@given(LAT, LON)
def test_longitude_first_is_swapped_back_and_flagged(lat, lon):
    reading = read_latlong(f"{lon:.5f}, {lat:.5f}")
    assert reading is not None and reading.point == (lat, lon) and reading.swapped


@given(LAT, LON, st.booleans())
def test_degrees_minutes_seconds_with_letters(lat, lon, indonesian):
    south, north, east = ("LS", "LU", "BT") if indonesian else ("S", "N", "E")
    text = f"{dms(lat, south if lat < 0 else north)} {dms(lon, east)}"
    reading = read_latlong(text)
    assert reading is not None and close(reading.point, (lat, lon), tol=1e-4), text
    assert not reading.swapped


@given(
    LAT,
    LON,
    st.sampled_from(["https://maps.google.com/?q={}", "https://www.google.com/maps/@{},17z"]),
)
def test_google_maps_links(lat, lon, form):
    reading = read_latlong(form.format(f"{lat:.6f},{lon:.6f}"))
    assert reading is not None and close(reading.point, (lat, lon), tol=1e-6)


@given(LAT, LON)
def test_format_latlong_reads_back(lat, lon):
    reading = read_latlong(format_latlong((lat, lon)))
    assert reading is not None and close(reading.point, (lat, lon), tol=1e-5)


@given(st.text(max_size=30))
def test_any_text_is_a_point_none_or_a_clear_problem(text):
    try:
        reading = read_latlong(text)
    except FormatError as err:
        assert err.code in ("latlong-format", "latlong-short-link")
        assert CATALOG[err.code].severity is Severity.PERINGATAN
        return
    if reading is not None:
        lat, lon = reading.point
        assert -90 <= lat <= 90 and -180 <= lon <= 180


def test_the_new_problems_speak_indonesian_with_a_fix():
    for code in ("latlong-short-link", "latlong-swapped", "latlong-outside-area"):
        entry = CATALOG[code]
        assert entry.severity is Severity.PERINGATAN
        assert "Titik Lokasi" in entry.message and entry.fix
    assert "salin" in CATALOG["latlong-short-link"].fix.lower()


# --- the city's area


def _city(n: int = 12) -> dict[str, tuple[float, float]]:
    return {f"K{i}": (-6.165 + 0.004 * (i % 5), 106.76 + 0.005 * (i % 4)) for i in range(n)}


def test_a_point_far_from_the_citys_cooperatives_is_outside():
    points = _city()
    points["lost-minus"] = (6.165, 106.76)  # the minus sign forgotten: ~1 370 km north
    points["next-door"] = (-6.30, 106.80)  # ~15 km away: still inside 30 km
    found = outside(points, Area(radius_km=30))
    assert set(found) == {"lost-minus"}
    assert "km dari pusat titik koperasi kota" in found["lost-minus"]
    assert set(outside(points, Area(radius_km=10))) == {"lost-minus", "next-door"}


def test_half_the_points_wrong_cannot_move_the_centre_much():
    points = _city(11)
    points.update({f"bad{i}": (3.5 + i, 98.6) for i in range(5)})  # 5 of 16 far away
    assert set(outside(points, Area())) == {f"bad{i}" for i in range(5)}


def test_too_few_points_flag_nothing():
    points = dict(list(_city().items())[: MIN_POINTS - 2])  # with "far": one too few
    points["far"] = (3.5, 98.6)
    assert outside(points, Area()) == {}


def test_a_configured_box_decides_alone():
    points = {"in": (-6.16, 106.75), "out": (-6.40, 106.75)}
    box = Area(box=(-6.23, 106.68, -6.09, 106.81))
    assert set(outside(points, box)) == {"out"}
    [issue] = area_issues(points, box).values()
    assert issue.code == "latlong-outside-area" and issue.column == "Titik Lokasi"


def test_distance_is_great_circle():
    assert distance_km((0.0, 0.0), (0.0, 1.0)) == pytest.approx(111.19, abs=0.01)


def _config(tmp_path, city_extra: str):
    path = tmp_path / "city.toml"
    path.write_text(
        f'[city]\nname = "Kota X"\nkode_wilayah = "31.73"\n{city_extra}\n'
        '[source]\nkind = "local"\nregistry = "r.csv"\n[output]\nkind = "local"\n',
        encoding="utf-8",
    )
    return path


def test_config_area_box_and_radius(tmp_path):
    cfg = config.load(
        _config(tmp_path, "area = [-6.23, 106.68, -6.09, 106.81]\narea_radius_km = 12")
    )
    assert cfg.area == Area((-6.23, 106.68, -6.09, 106.81), 12.0)
    assert config.load(_config(tmp_path, "")).area == Area(None, 30.0)


@pytest.mark.parametrize(
    "line", ["area = [-6.09, 106.68, -6.23, 106.81]", "area = [1, 2, 3]", "area_radius_km = 0"]
)
def test_config_area_mistakes_are_named(tmp_path, line):
    with pytest.raises(config.ConfigError, match=r"\[city\] area"):
        config.load(_config(tmp_path, line))
