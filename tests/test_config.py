from datetime import date
from pathlib import Path

import pytest

from kkmp_sheets import config
from kkmp_sheets.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

SMALLEST = """
[city]
name = "Kota Administrasi Jakarta Barat"
kode_wilayah = "31.73"

[source]
kind = "local"
registry = "registry.csv"

[output]
kind = "local"
path = "out/status-kota.xlsx"

[mail]
kind = "outbox"
dir = "out/outbox"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_smallest_config_resolves_paths_relative_to_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    cfg = config.load(write(tmp_path, SMALLEST))
    assert cfg.registry == str(tmp_path / "registry.csv")
    assert cfg.output_path == tmp_path / "out" / "status-kota.xlsx"
    assert cfg.outbox_dir == tmp_path / "out" / "outbox"
    assert cfg.zones == config.ZoneRules(100, 30, 30, 14)
    assert cfg.reporting_window_days == 7


def test_example_config_loads():
    cfg = config.load(ROOT / "config" / "example-city.toml")
    assert cfg.target_date == date(2026, 12, 31)
    assert cfg.mail.kecamatan["Kebon Jeruk"] == ("camat.kebonjeruk@jakbar.example",)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('kind = "local"\nregistry', 'kind = "lokal"\nregistry'),
            "[source] kind = 'lokal': expected 'local' or 'google'",
        ),
        (
            ('kode_wilayah = "31.73"', 'kode_wilayah = "99.99"'),
            "[city] kode_wilayah = '99.99' is not a Kemendagri",
        ),
        (("[output]", "[outptu]"), "unknown section [outptu] (did you mean 'output'?)"),
        (
            ('dir = "out/outbox"', 'dri = "out/outbox"'),
            "[mail] unknown key 'dri' (did you mean 'dir'?)",
        ),
        (
            ('name = "Kota Administrasi Jakarta Barat"', "name = 31"),
            "[city] name = 31: expected text in quotes",
        ),
        (('registry = "registry.csv"', ""), "[source] registry is required"),
        (
            ("[mail]", "[zones]\nmin_active_members = true\n[mail]"),
            "[zones] min_active_members = True: expected a whole number",
        ),
    ],
)
def test_each_mistake_names_its_key(tmp_path, edit, message):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, SMALLEST.replace(*edit)))
    assert message in str(err.value)


@pytest.mark.parametrize("day", [1, 10, 28])
def test_simpanan_due_day_is_read(tmp_path, day):
    cfg = config.load(write(tmp_path, SMALLEST + f"\n[simpanan]\ndue_day = {day}\n"))
    assert cfg.wajib_due_day == day


def test_simpanan_due_day_defaults_to_the_10th(tmp_path):
    assert config.load(write(tmp_path, SMALLEST)).wajib_due_day == 10


@pytest.mark.parametrize("day", [0, 29, 31, -1])
def test_simpanan_due_day_outside_1_to_28_is_refused(tmp_path, day):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, SMALLEST + f"\n[simpanan]\ndue_day = {day}\n"))
    assert f"[simpanan] due_day = {day}: expected a day of the month from 1 to 28" in str(err.value)


def test_all_mistakes_are_reported_at_once(tmp_path):
    text = SMALLEST.replace('kind = "local"\nregistry', 'kind = "x"\nregistry').replace(
        'kind = "outbox"', "kind = 1"
    )
    with pytest.raises(ConfigError, match="2 problem"):
        config.load(write(tmp_path, text))


def test_missing_and_broken_files_say_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "[city\nname="))


def test_reference_doc_is_in_step_with_the_keys():
    assert (ROOT / "docs" / "configuration.md").read_text(
        encoding="utf-8"
    ) == config.reference_markdown()
