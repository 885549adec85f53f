"""deploy/batch: job definitions (shape, retries, sizing), Dockerfile lint, the entrypoint run here."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pyspark
import pytest
from botocore.validate import validate_parameters
from deploy_helpers import DEPLOY, ROOT, accepted_flags, batch_decision, flag_name, load_rendered

from feedguard.errors import EXIT_TRANSIENT, NOT_RETRIED_EXIT_CODES

BATCH = DEPLOY / "batch"
ENTRYPOINT = BATCH / "entrypoint.sh"
DOCKERFILE = BATCH / "Dockerfile"
JOB_DEFINITIONS = sorted((BATCH / "job-definitions").glob("*.json"))
TOOLS = ROOT / ".cache" / "deploy-tools" / "bin"
# The retry rule of every exit code comes from feedguard.errors (test_exit_code_policy.py checks them all).
DATA_OR_CONFIG_ERRORS = tuple(sorted(NOT_RETRIED_EXIT_CODES))
TRANSIENT = EXIT_TRANSIENT


# --- job definitions -----------------------------------------------------------------------------------


def command_flags(command: list[str]) -> set[str]:
    return {flag_name(item) for item in command[1:] if item.startswith("--")}


@pytest.fixture(scope="module")
def register_shape() -> Any:
    model = botocore.session.get_session().get_service_model("batch")
    return model.operation_model("RegisterJobDefinition").input_shape


def test_one_definition_per_feed() -> None:
    feeds = {"quickbite-orders", "mealdash-orders", "foodnow-order-events"}
    assert {p.stem for p in JOB_DEFINITIONS} == feeds


@pytest.mark.parametrize("path", JOB_DEFINITIONS, ids=lambda p: p.stem)
def test_definition_matches_the_register_job_definition_shape(path: Path, register_shape: Any) -> None:
    validate_parameters(load_rendered(path), register_shape)


@pytest.mark.parametrize("path", JOB_DEFINITIONS, ids=lambda p: p.stem)
def test_retry_rules_follow_the_exit_codes(path: Path) -> None:
    strategy = load_rendered(path)["retryStrategy"]
    rules = strategy["evaluateOnExit"]
    assert strategy["attempts"] >= 2
    assert len(rules) <= 5, "Batch accepts at most 5 evaluateOnExit rules"
    assert batch_decision(rules, exit_code=TRANSIENT) == "RETRY"
    for code in DATA_OR_CONFIG_ERRORS:
        assert batch_decision(rules, exit_code=code) == "EXIT", code
    assert batch_decision(rules, exit_code=137) == "EXIT"  # out of memory: a bigger box, not a retry
    assert batch_decision(rules, status_reason="Host EC2 (instance i-0abc) terminated.") == "RETRY"
    assert batch_decision(rules, reason="CannotPullContainerError: pull access denied") == "RETRY"


@pytest.mark.parametrize("path", JOB_DEFINITIONS, ids=lambda p: p.stem)
def test_resources_timeout_and_sizing_environment_agree(path: Path) -> None:
    definition = load_rendered(path)
    container = definition["containerProperties"]
    resources = {r["type"]: r["value"] for r in container["resourceRequirements"]}
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["FEEDGUARD_VCPUS"] == resources["VCPU"]
    assert env["FEEDGUARD_MEMORY_MIB"] == resources["MEMORY"]
    assert int(resources["MEMORY"]) >= 4096
    assert 600 <= definition["timeout"]["attemptDurationSeconds"] <= 4 * 3600
    assert container["logConfiguration"]["logDriver"] == "awslogs"


@pytest.mark.parametrize("path", JOB_DEFINITIONS, ids=lambda p: p.stem)
def test_command_runs_a_job_with_flags_it_accepts(path: Path) -> None:
    definition = load_rendered(path)
    command = definition["containerProperties"]["command"]
    job = command[0]
    assert job in {"ingest_files", "ingest_kafka"}
    assert command_flags(command) - accepted_flags(job) == set()
    # The metrics' Job dimension is the same name on Glue and on Batch.
    assert command[command.index("--JOB_NAME") + 1] == definition["jobDefinitionName"]
    # Batch parameters fill Ref:: placeholders; each one has a default.
    refs = {item.removeprefix("Ref::") for item in command if item.startswith("Ref::")}
    assert refs <= set(definition["parameters"])


def test_no_secret_in_the_definitions() -> None:
    for path in JOB_DEFINITIONS:
        text = path.read_text().lower()
        assert "hooks.slack.com" not in text and "password" not in text and "secret_access_key" not in text


# --- Dockerfile and entrypoint lint ---------------------------------------------------------------------


def tool(name: str) -> str:
    found = shutil.which(name) or (str(TOOLS / name) if (TOOLS / name).exists() else None)
    if found is None:
        pytest.skip(f"{name} is not installed: `make test-deploy` installs it into .cache/deploy-tools")
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_entrypoint_passes_shellcheck() -> None:
    result = subprocess.run(
        [tool("shellcheck"), str(ENTRYPOINT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_bakes_everything_in() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11\.\d+-slim-bookworm", text, re.M)
    assert "openjdk-17-jre-headless" in text
    assert "COPY dist/ " in text and "feedguard-jobs.zip" in text and "dist/jars/" in text
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "/opt/feedguard/bin/entrypoint.sh"]' in text
    assert not re.search(r"\b(curl|wget)\b", text), "nothing is fetched outside pip and apt at build time"


# --- entrypoint behaviour -------------------------------------------------------------------------------


def dockerfile_env() -> dict[str, str]:
    """The ENV the final image sets (every ENV instruction; later ones win), ``$PATH`` left as is."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


@pytest.fixture
def image_home(tmp_path: Path) -> Path:
    """A stand-in for /opt/feedguard: job scripts and the jars the image copies from dist/jars."""
    home = tmp_path / "opt-feedguard"
    (home / "jobs").mkdir(parents=True)
    for job in ("ingest_files", "ingest_kafka"):
        (home / "jobs" / f"{job}.py").write_text("")
    (home / "jars").mkdir()
    for jar in (
        "feedguard-jvm-0.1.0",
        "delta-spark_2.12-3.3.2",
        "delta-storage-3.3.2",
        "spark-sql-kafka-0-10_2.12-3.5.7",
        "spark-token-provider-kafka-0-10_2.12-3.5.7",
        "kafka-clients-3.4.1",
        "commons-pool2-2.11.1",
    ):
        (home / "jars" / f"{jar}.jar").write_text("")
    return home


def run_entrypoint(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    image = dockerfile_env()
    environ = {
        "PATH": os.environ["PATH"],
        **{k: v for k, v in image.items() if k != "PATH"},
        "FEEDGUARD_HOME": str(home),
        "FEEDGUARD_JARS_DIR": str(home / "jars"),
        "FEEDGUARD_CGROUP_ROOT": str(home / "no-cgroup"),
        **(env or {}),
    }
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dry_run(home: Path, *args: str, **env: str) -> list[str]:
    result = run_entrypoint(home, "--dry-run", *args, env=env)
    assert result.returncode == 0, result.stderr
    return shlex.split(result.stdout)


def option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def confs(cmd: list[str]) -> dict[str, str]:
    return dict(cmd[i + 1].split("=", 1) for i, item in enumerate(cmd) if item == "--conf")


def test_dry_run_sizes_local_mode_from_the_batch_resources(image_home: Path) -> None:
    cmd = dry_run(
        image_home, "ingest_files", "--source", "quickbite", FEEDGUARD_VCPUS="4", FEEDGUARD_MEMORY_MIB="16384"
    )
    assert cmd[0] == "/opt/venv/bin/spark-submit"  # SPARK_SUBMIT from the image
    assert option(cmd, "--master") == "local[4]"
    assert option(cmd, "--driver-memory") == f"{16384 * 70 // 100}m"  # FEEDGUARD_HEAP_PERCENT=70
    assert confs(cmd)["spark.sql.shuffle.partitions"] == "16"
    assert confs(cmd)["spark.local.dir"] == "/tmp/spark-local"
    assert cmd[-3:] == [str(image_home / "jobs" / "ingest_files.py"), "--source", "quickbite"]


def test_fractional_vcpus_round_up_and_small_memory_keeps_a_floor(image_home: Path) -> None:
    cmd = dry_run(image_home, "ingest_files", FEEDGUARD_VCPUS="0.5", FEEDGUARD_MEMORY_MIB="512")
    assert option(cmd, "--master") == "local[1]"
    assert option(cmd, "--driver-memory") == "512m"


def test_file_jobs_get_delta_jars_and_the_kafka_job_also_the_kafka_source(image_home: Path) -> None:
    files = option(
        dry_run(image_home, "ingest_files", FEEDGUARD_VCPUS="2", FEEDGUARD_MEMORY_MIB="4096"), "--jars"
    ).split(",")
    kafka = option(
        dry_run(image_home, "ingest_kafka", FEEDGUARD_VCPUS="2", FEEDGUARD_MEMORY_MIB="4096"), "--jars"
    ).split(",")
    assert [Path(j).name for j in files] == [
        "feedguard-jvm-0.1.0.jar",
        "delta-spark_2.12-3.3.2.jar",
        "delta-storage-3.3.2.jar",
    ]
    assert len(kafka) == 7 and any("spark-sql-kafka" in j for j in kafka)


def test_sizing_falls_back_to_cgroup_v2_limits(image_home: Path) -> None:
    cgroup = image_home / "cgroup"
    cgroup.mkdir()
    (cgroup / "cpu.max").write_text("300000 100000\n")
    (cgroup / "memory.max").write_text(f"{8192 * 1048576}\n")
    cmd = dry_run(image_home, "ingest_files", FEEDGUARD_CGROUP_ROOT=str(cgroup))
    assert option(cmd, "--master") == "local[3]"
    assert option(cmd, "--driver-memory") == f"{8192 * 70 // 100}m"


def test_a_smaller_cgroup_memory_limit_wins_over_the_environment(image_home: Path) -> None:
    cgroup = image_home / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text(f"{2048 * 1048576}\n")
    cmd = dry_run(
        image_home,
        "ingest_files",
        FEEDGUARD_CGROUP_ROOT=str(cgroup),
        FEEDGUARD_VCPUS="2",
        FEEDGUARD_MEMORY_MIB="16384",
    )
    assert option(cmd, "--driver-memory") == f"{2048 * 70 // 100}m"


def test_empty_batch_parameters_are_dropped(image_home: Path) -> None:
    cmd = dry_run(
        image_home,
        "ingest_files",
        "--source",
        "quickbite",
        "--run_id",
        "",
        "--reprocess",
        FEEDGUARD_VCPUS="1",
        FEEDGUARD_MEMORY_MIB="2048",
    )
    assert cmd[-4:] == [str(image_home / "jobs" / "ingest_files.py"), "--source", "quickbite", "--reprocess"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "jobs available: ingest_files ingest_kafka"),
        (("nope",), {}, "no job 'nope'"),
        (("ingest_files",), {"FEEDGUARD_VCPUS": "many"}, "FEEDGUARD_VCPUS must be a positive number"),
        (("ingest_files",), {"FEEDGUARD_MEMORY_MIB": "16g"}, "FEEDGUARD_MEMORY_MIB must be a positive"),
    ],
)
def test_wrong_calls_exit_2(
    image_home: Path, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    result = run_entrypoint(image_home, *args, env=env)
    assert result.returncode == 2
    assert message in result.stdout + result.stderr


def host_java_home() -> str:
    """This machine's Java (the image's /usr/lib/jvm/java-17 link exists only in the image)."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        pytest.skip("no java on this machine")
    return str(Path(java).resolve().parents[1])


SMOKE_JOB = """
import json, os, sys
from feedguard.runtime.session import build_session
spark = build_session("smoke")
conf = spark.sparkContext.getConf()
spark.range(3).write.format("delta").save(sys.argv[sys.argv.index("--out") + 1])
seen = {"master": spark.sparkContext.master, "driver_memory": conf.get("spark.driver.memory"),
        "rows": spark.read.format("delta").load(sys.argv[-1]).count(), "argv": sys.argv[1:]}
print("SMOKE " + json.dumps(seen))
spark.stop()
sys.exit(75)
"""


def test_real_spark_submit_runs_the_job_and_keeps_its_exit_code(image_home: Path, tmp_path: Path) -> None:
    """The command the entrypoint builds really runs: local[N], the heap, Delta jars, exit 75 kept."""
    jar_cache = ROOT / ".cache" / "jars" / "spark"
    if not jar_cache.is_dir():
        pytest.skip("the jar cache is missing: run `make setup`")
    for jar in (image_home / "jars").iterdir():
        jar.unlink()
        jar.symlink_to(next(jar_cache.glob(jar.name)))
    (image_home / "jobs" / "ingest_files.py").write_text(SMOKE_JOB)
    venv_bin = Path(sys.executable).parent
    result = run_entrypoint(
        image_home,
        "ingest_files",
        "--run_id",
        "",
        "--out",
        str(tmp_path / "delta"),
        env={
            "SPARK_SUBMIT": str(venv_bin / "spark-submit"),
            "SPARK_HOME": str(Path(pyspark.__file__).parent),
            "JAVA_HOME": host_java_home(),
            "PYSPARK_PYTHON": sys.executable,
            "PATH": f"{venv_bin}:{os.environ['PATH']}",
            "FEEDGUARD_VCPUS": "2",
            "FEEDGUARD_MEMORY_MIB": "1600",
            "FEEDGUARD_SPARK_LOCAL_DIR": str(tmp_path / "spark-local"),
        },
    )
    assert result.returncode == TRANSIENT, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("SMOKE "))
    seen = json.loads(line.removeprefix("SMOKE "))
    assert seen == {
        "master": "local[2]",
        "driver_memory": f"{1600 * 70 // 100}m",
        "rows": 3,
        "argv": ["--out", str(tmp_path / "delta")],
    }
