"""The fleet's plans, without running it: the staggered schedule from the region list, and the
Kubernetes manifests per instance, validated against the official Kubernetes JSON schemas
(bundled by kubernetes-validate: offline)."""

from __future__ import annotations

import io
import sys
from collections import Counter
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kkmp_sheets.cli import main
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.fleet import instances, k8s, schedule

yaml = pytest.importorskip("yaml", reason="the fleet extra (pyyaml) is not installed")
kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
celery_schedules = pytest.importorskip("celery.schedules", reason="celery is not installed")

# The oldest Kubernetes with CronJob `timeZone` as a stable field, and the newest bundled.
K8S_VERSIONS = ("1.27.0", kv.latest_version())
AS_OF = date(2026, 1, 29)

GOOGLE_CONFIG = """\
[city]
name = "Kabupaten Aceh Utara"
kode_wilayah = "11.08"

[source]
kind = "google"
registry = "1RegistryOfAcehUtara0000000000000000000000"

[output]
kind = "google"
spreadsheet = "1StatusOfAcehUtara00000000000000000000000"

[mail]
kind = "smtp"
host = "smtp.dinas.example"
username = "kkmp"
"""


def run_cli(*argv: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_the_national_schedule_staggers_514_instances() -> None:
    fleet = instances.from_regions()
    rows = schedule.entries(fleet, every_minutes=60)
    assert len(fleet) == 514 and sum(i.desa for i in fleet) == 83_762
    assert len({e.kode for e in rows}) == 514
    starts = Counter(e.minute for e in rows)
    assert set(starts) == {str(m) for m in range(60)}  # every minute of the hour is used
    assert max(starts.values()) - min(starts.values()) <= 1  # 8 or 9 a minute, never 514
    for e in rows[::50]:
        celery_schedules.crontab(minute=e.minute, hour=e.hour)  # a field beat accepts


@pytest.mark.parametrize("every", [15, 30, 120, 360])
def test_every_instance_runs_once_per_period(every: int) -> None:
    rows = schedule.entries(instances.from_regions("32"), every_minutes=every)
    per_day = [
        len(celery_schedules.crontab(minute=e.minute, hour=e.hour).minute)
        * len(celery_schedules.crontab(minute=e.minute, hour=e.hour).hour)
        for e in rows
    ]
    assert set(per_day) == {24 * 60 // every}


def test_a_period_that_does_not_divide_the_day_is_refused() -> None:
    with pytest.raises(ConfigError, match="divide"):
        schedule.entries(instances.from_regions("31"), every_minutes=45)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("instances")
    city = build_demo_city(root / "31.73", kode="31.73", size=2, as_of=AS_OF)
    with city.config_path.open("a", encoding="utf-8") as fh:
        fh.write("\n[performance]\nworkers = 2\n")
    (root / "11.08.toml").write_text(GOOGLE_CONFIG, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def manifests(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    out = tmp_path_factory.mktemp("k8s")
    run_cli("fleet", "k8s", "--instances", str(folder), "--out", str(out), "--image", "reg/kkmp:1")
    return {p.stem: list(yaml.safe_load_all(p.read_text())) for p in sorted(out.glob("*.yaml"))}


def test_one_file_per_instance_with_a_claim_and_a_cronjob(manifests: dict[str, list[Any]]) -> None:
    assert sorted(manifests) == ["11-08", "31-73"]
    for docs in manifests.values():
        assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "CronJob"]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_is_valid_kubernetes(manifests: dict[str, list[Any]], version: str) -> None:
    for docs in manifests.values():
        for doc in docs:
            kv.validate(doc, version, strict=True)  # raises on any schema violation


def test_the_schema_check_would_catch_a_mistake(manifests: dict[str, list[Any]]) -> None:
    cron = manifests["31-73"][1]
    broken = {**cron, "spec": {**cron["spec"], "startingDeadlineSeconds": "half an hour"}}
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, K8S_VERSIONS[-1], strict=True)


def pod_of(docs: list[Any]) -> dict[str, Any]:
    return docs[1]["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_cronjob_never_overlaps_and_runs_in_wib(manifests: dict[str, list[Any]]) -> None:
    for docs in manifests.values():
        spec = docs[1]["spec"]
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["timeZone"] == "Asia/Jakarta"
        assert spec["startingDeadlineSeconds"] == 1800  # half of the hourly period
        assert spec["successfulJobsHistoryLimit"] >= 1
    # the two instances start at different minutes of the hour (the fleet's stagger)
    assert len({d[1]["spec"]["schedule"] for d in manifests.values()}) == 2


def test_secrets_are_files_never_values(
    manifests: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, docs in manifests.items():
        pod = pod_of(docs)
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["GOOGLE_APPLICATION_CREDENTIALS"]["value"].startswith(k8s.SECRETS + "/")
        assert env["KKMP_SMTP_PASSWORD_FILE"]["value"].startswith(k8s.SECRETS + "/")
        assert "KKMP_SMTP_PASSWORD" not in env
        secret = next(v for v in pod["volumes"] if "secret" in v)
        assert secret["secret"]["secretName"] == f"kkmp-{name}-secrets"
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        assert mounts[k8s.SECRETS]["readOnly"] is True


def test_the_data_folder_is_a_volume_and_the_root_is_read_only(
    manifests: dict[str, list[Any]],
) -> None:
    for name, docs in manifests.items():
        claim, pod = docs[0], pod_of(docs)
        (container,) = pod["containers"]
        volume = next(v for v in pod["volumes"] if "persistentVolumeClaim" in v)
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        assert container["args"][-1].startswith(k8s.MOUNT + "/")
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert name in claim["metadata"]["name"]


def test_resources_follow_the_benchmark(manifests: dict[str, list[Any]]) -> None:
    # bench/results/after-cycle.txt: peak 287 MB for 6,000 cooperatives, readers ~66 MB each
    big = k8s.sizing(6000, 2)
    assert big.memory_mb >= 287 + 2 * 66
    assert k8s.sizing(56, 2).memory_mb >= 68 + 2 * 66
    assert k8s.sizing(900, 0).memory_mb < big.memory_mb / 2  # a Google-mode city is far less

    def memory(docs: list[Any]) -> tuple[int, int]:
        res = pod_of(docs)["containers"][0]["resources"]
        return int(res["requests"]["memory"][:-2]), int(res["limits"]["memory"][:-2])

    local, google = memory(manifests["31-73"]), memory(manifests["11-08"])
    assert local == (k8s.sizing(56, 2).memory_mb, 2 * k8s.sizing(56, 2).memory_mb)
    assert google == (k8s.sizing(852, 0).memory_mb, 2 * k8s.sizing(852, 0).memory_mb)


def test_a_local_instance_without_a_reader_count_is_refused(tmp_path: Path) -> None:
    city = build_demo_city(tmp_path / "in" / "36.74", kode="36.74", size=1, as_of=AS_OF)
    with pytest.raises(ConfigError, match=r"\[performance\] workers"):
        k8s.readers_of(city.config_path)


def test_schedule_command_prints_the_plan_for_a_province() -> None:
    text = run_cli("fleet", "schedule", "--regions", "36")
    assert "36.74" in text and "Kota Tangerang Selatan" in text
    assert "8 instances" in text


# --- the container: what can be checked without building it --------------------------------------

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy"


def test_the_entrypoint_turns_secret_files_into_variables(tmp_path: Path) -> None:
    import os
    import subprocess

    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret with spaces\n", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "KKMP_SMTP_PASSWORD_FILE": str(secret),
        "KKMP_MISSING_FILE": str(tmp_path / "absent"),
    }
    done = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "env"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert "KKMP_SMTP_PASSWORD=s3cret with spaces" in lines
    assert not any(line.startswith("KKMP_MISSING=") for line in lines)


def test_the_containerfile_runs_unprivileged_from_pinned_dependencies() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    steps = [line.split(None, 1) for line in text.splitlines() if line and line[0] not in "# "]
    final = text.rsplit("\nFROM ", 1)[1]  # the image that runs
    assert "USER 10001:10001" in final and "USER root" not in final
    assert "--require-hashes" in text and "requirements.lock" in text
    assert " -e " not in text and "--editable" not in text  # a regular install
    assert steps[-1][0] == "CMD" and any(s[0] == "ENTRYPOINT" for s in steps)
    for source in [s[1].split()[0] for s in steps if s[0] == "COPY" and "--from" not in s[1]]:
        assert (DEPLOY.parents[1] / source).exists(), source  # every file it copies is there


def test_the_lock_file_pins_every_dependency_with_hashes() -> None:
    import re
    import tomllib

    lock = (DEPLOY / "requirements.lock").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", lock, re.M))
    blocks = re.split(r"\n(?=[a-z0-9])", lock.split("\n\n", 1)[1])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)
    project = tomllib.loads((DEPLOY.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = (
        project["project"]["dependencies"] + project["project"]["optional-dependencies"]["fleet"]
    )
    for requirement in wanted:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pinned, (
            f"{name} is not in requirements.lock: make it again (many-instances.md)"
        )
    assert {"setuptools", "wheel"} <= set(pinned)  # the wheel is built from pinned tools too


def test_beat_takes_the_timetable_of_the_instances_folder(folder: Path) -> None:
    from celery.beat import Scheduler

    from kkmp_sheets.fleet.app import app, beat_schedule

    timetable = beat_schedule(instances.from_folder(folder))
    scheduler = Scheduler(app=app, lazy=True)
    scheduler.merge_inplace(timetable)
    entries = {name: e for name, e in scheduler.schedule.items() if name.startswith("cycle-")}
    assert sorted(entries) == ["cycle-11-08", "cycle-31-73"]
    assert entries["cycle-31-73"].args == ("31.73",)
    assert entries["cycle-31-73"].task == "kkmp_sheets.fleet.run_cycle"
    assert app.conf.timezone == "Asia/Jakarta"
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1


# --- the runner's child process --------------------------------------------------------------------

PARENT = """
import subprocess, sys, time
from kkmp_sheets.fleet.runner import _die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         preexec_fn=_die_with_parent)
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_cycle_dies_with_the_worker_that_started_it() -> None:
    """Only the worker process is killed (not its group, as an OOM kill would): its cycle must
    not run on without the lock that the worker no longer renews."""
    import os
    import signal
    import subprocess
    import time

    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, env=env
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    parent.stdout.close()
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return  # gone
        if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
            return  # dead, waiting to be reaped by init
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the cycle outlived its worker")


def test_every_command_of_the_guide_parses_and_the_offline_ones_run() -> None:
    import re
    import shlex

    from kkmp_sheets.cli import build_parser

    guide = (DEPLOY / "many-instances.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", guide, re.S | re.M)
    lines = [line.split("  #")[0].strip() for b in blocks for line in b.splitlines()]
    commands = [shlex.split(line)[1:] for line in lines if line.startswith("kkmp-sheets ")]
    assert {c[1] for c in commands} == {"schedule", "k8s", "status", "enqueue"}
    for argv in commands:
        build_parser().parse_args(argv)  # exits (and fails the test) on a wrong option
    for argv in commands:
        if "--regions" in argv:
            assert "instances;" in run_cli(*argv)
