"""Which instances there are: from a folder of instance configs, or from the region list.

An instance is one config file: `<folder>/<name>.toml`, or `<folder>/<name>/city.toml` (an
instance kept in its own folder with its registry and workbooks, as the demo makes them). It is
known by its region code, `[city] kode_wilayah`, which is unique in the folder. Its size, for
staggering and for sizing a container, is the number of desa/kelurahan the region list gives for
that code: the programme has one cooperative per desa/kelurahan, and the list is there whether
the registry is a local file or a Google spreadsheet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kkmp_sheets import config
from kkmp_sheets.core import wilayah
from kkmp_sheets.errors import ConfigError


@dataclass(frozen=True)
class Instance:
    kode: str  # dotted region code, e.g. "31.73"
    name: str
    config: Path | None  # None: an instance from the region list, not yet configured
    desa: int  # desa/kelurahan in the region list: the expected number of cooperatives

    @property
    def slug(self) -> str:
        """The code as a name Kubernetes and Celery accept: `31-73`."""
        return self.kode.replace(".", "-")


def config_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"the instances folder {folder} does not exist")
    files = sorted(folder.glob("*.toml")) + sorted(folder.glob("*/city.toml"))
    return [f.resolve() for f in files]


def from_folder(folder: Path) -> list[Instance]:
    """Every instance config in `folder`, in region-code order. Each config is loaded (so a
    broken one is reported here, by the operator's command, rather than by a worker at night)."""
    found: dict[str, Instance] = {}
    for path in config_files(folder):
        cfg = config.load(path)
        kode = wilayah.dotted(cfg.city_kode)
        if kode in found:
            raise ConfigError(
                f"{path} and {found[kode].config} both are region {kode}: one instance per "
                "region, each with its own data folder"
            )
        found[kode] = Instance(kode, cfg.city_name, path, len(wilayah.villages(kode)))
    if not found:
        raise ConfigError(f"no instance config (*.toml or */city.toml) in {folder}")
    return [found[k] for k in sorted(found, key=_code_order)]


def from_regions(under: str = "") -> list[Instance]:
    """Every kabupaten/kota in the region list (under a province code, if given): the national
    plan of one instance per kabupaten/kota, before their configs exist."""
    prefix = wilayah.dotted(under) if under else ""
    if prefix and wilayah.get(prefix) is None:
        raise ConfigError(f"{under!r} is not a region code in the region list (e.g. 31 or 31.73)")
    provinces = [prefix[:2]] if prefix else [p.kode for p in provinces_list()]
    out = []
    for province in provinces:
        desa = Counter(v.kode[:5] for v in wilayah.villages(province))  # one pass per province
        out += [
            Instance(r.kode, r.nama, None, desa[r.kode])
            for r in wilayah.children(province)
            if r.kode == prefix or r.kode.startswith(prefix)
        ]
    return out


def provinces_list() -> list[wilayah.Region]:
    """The provinces of the region list (two-digit codes 11 to 99)."""
    found = (wilayah.get(f"{n:02d}") for n in range(11, 100))
    return [r for r in found if r is not None]


def find(folder: Path, key: str) -> Instance:
    """The instance whose region code (or config path) is `key`."""
    path = Path(key)
    if path.suffix == ".toml" and path.is_file():
        cfg = config.load(path)
        kode = wilayah.dotted(cfg.city_kode)
        return Instance(kode, cfg.city_name, path.resolve(), len(wilayah.villages(kode)))
    kode = wilayah.dotted(key)
    for named in (Path(folder) / f"{kode}.toml", Path(folder) / kode / "city.toml"):
        if named.is_file():  # the usual layout: no need to read every config of the folder
            found = find(folder, str(named))
            if found.kode == kode:
                return found
    for instance in from_folder(folder):
        if instance.kode == kode:
            return instance
    raise ConfigError(f"no instance of region {key} in {folder}")


def _code_order(kode: str) -> tuple[int, ...]:
    return tuple(int(part) for part in kode.split("."))
