"""A real single-node Apache Kafka broker (KRaft, combined broker + controller) on 127.0.0.1.

Runs the Kafka jars that ``make setup`` fetched into ``.cache/jars/kafka`` (no Docker): the storage is
formatted once with ``kafka.tools.StorageTool``, then ``java -cp '<jars>/*' kafka.Kafka server.properties``.
Everything (config, data, ``broker.log``, ``broker.pid``) lives in one folder, so a restart keeps the
ports and the data.

Example (a test fixture)::

    broker = KafkaBroker(tmp_path / "kafka")
    broker.start()            # free ports, waits until the broker answers metadata
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    broker.kill()             # SIGKILL; broker.restart() brings it back on the same port with its data
    broker.stop()

Command line (what ``make kafka-up`` / ``make kafka-down`` run)::

    python -m feedguard_dev.kafka_broker up --dir .cache/kafka-local --port 9092
    python -m feedguard_dev.kafka_broker down --dir .cache/kafka-local
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

HOST = "127.0.0.1"
DEFAULT_JVM_OPTS = ("-Xmx512m", "-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true")
STARTED_MARKER = "Kafka Server started"

# Settings for a one-node dev/test broker: replication factor 1, and housekeeping that runs every
# second (so a topic with a tiny retention.ms really drops its old segments within seconds), and a short
# broker session, so that a restart after SIGKILL does not wait 9 s for the dead incarnation to expire.
BASE_CONFIG: Mapping[str, str] = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "num.partitions": "1",
    "auto.create.topics.enable": "true",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "log.retention.check.interval.ms": "1000",
    "log.initial.task.delay.ms": "1000",
    "broker.heartbeat.interval.ms": "500",
    "broker.session.timeout.ms": "2500",
    "num.network.threads": "2",
    "num.io.threads": "2",
}

LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""


class KafkaJarsMissingError(FileNotFoundError):
    """The Kafka jars are not in the cache: run ``make setup``."""


class BrokerStartError(RuntimeError):
    """The broker process exited or did not answer in time; the message ends with its log tail."""


def default_jars_dir() -> Path:
    """``<repo>/.cache/jars/kafka``, filled by ``make setup``."""
    return Path(__file__).resolve().parents[2] / ".cache" / "jars" / "kafka"


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct TCP ports that are free right now on ``host``."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port(host: str = HOST) -> int:
    """A TCP port that is free right now on ``host``."""
    return free_ports(1, host)[0]


def new_cluster_id() -> str:
    """A random KRaft cluster id (a UUID in URL-safe base64, 22 characters).

    Never one that starts with ``-``: ``kafka-storage format -t <id>`` would read it as an option
    (1 id in 64; Kafka's own ``Uuid.randomUuid`` draws again for the same reason).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGKILL the broker if the process that started it dies (no orphans after a crash)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


class KafkaBroker:
    """One KRaft broker+controller process whose config, data and log live in ``base_dir``.

    Ports are free ones chosen by the first :meth:`start` (or given), and read back from
    ``server.properties`` when ``base_dir`` already holds a broker, so ``KafkaBroker(dir).stop()`` from
    another process stops it (via ``broker.pid``). With ``die_with_parent`` (default) Linux kills the
    broker when the *thread* that started it exits: start it from the main thread (as fixtures do).
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        jars_dir: Path | None = None,
        config: Mapping[str, str] | None = None,
        jvm_opts: Sequence[str] = DEFAULT_JVM_OPTS,
        java: str = "java",
        die_with_parent: bool = True,
    ) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.jars_dir = (jars_dir or default_jars_dir()).resolve()
        saved = _read_properties(self.properties_path)
        self.port = port or _listener_port(saved, "PLAINTEXT")
        self.controller_port = controller_port or _listener_port(saved, "CONTROLLER")
        self.config = dict(config or {})
        self.jvm_opts = tuple(jvm_opts)
        self.java = java
        self.die_with_parent = die_with_parent
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def properties_path(self) -> Path:
        return self.base_dir / "server.properties"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "broker.log"

    @property
    def pid_path(self) -> Path:
        return self.base_dir / "broker.pid"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:<port>`` (the port is chosen by the first :meth:`start` unless given)."""
        if not self.port:
            raise RuntimeError("the broker has no port yet: call start() first")
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Start the broker (formatting its storage the first time) and wait until it answers metadata.

        Ports chosen here are retried (twice) with new ones if another process grabs one meanwhile.
        """
        if self.is_running():
            return
        self._check_jars()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        given = (self.port, self.controller_port)
        if given[0] and given[1]:
            self._start_once(timeout)
            return
        for tries_left in reversed(range(3)):
            fresh = [p for p in free_ports(3) if p not in given]
            self.port, self.controller_port = given[0] or fresh[0], given[1] or fresh[1]
            try:
                self._start_once(timeout)
                return
            except BrokerStartError as exc:
                if not tries_left or "Address already in use" not in str(exc):
                    self.port, self.controller_port = given
                    raise

    def _start_once(self, timeout: float) -> None:
        self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            self._run_java(
                "kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", str(self.properties_path)
            )
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._proc = subprocess.Popen(
                self._java_command("kafka.Kafka", str(self.properties_path)),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.base_dir,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent and sys.platform == "linux" else None,
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        self._wait_ready(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop gracefully (SIGTERM: controlled shutdown, logs flushed); SIGKILL after ``timeout``."""
        self._signal_and_wait(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would (no controlled shutdown)."""
        self._signal_and_wait(signal.SIGKILL, 10.0)

    def restart(self, timeout: float = 60.0) -> None:
        """Stop (if running) and start again on the same ports with the same data."""
        self.stop()
        self.start(timeout)

    def is_running(self) -> bool:
        return self.pid() is not None

    def pid(self) -> int | None:
        """The broker's process id, if it is alive (also for a broker started by another process)."""
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        try:
            pid = int(self.pid_path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(self.properties_path).encode() in cmdline else None

    def create_topic(self, topic: str, partitions: int = 1, config: Mapping[str, str] | None = None) -> None:
        """Create ``topic`` on this broker (see :func:`create_topic`)."""
        create_topic(self.bootstrap, topic, partitions, config)

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of ``broker.log``."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _start_report(self) -> str:
        """The ERROR/FATAL lines and exception messages logged since the last start, then the log tail."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            since = log.read().decode(errors="replace").splitlines()
        problems = [line for line in since if " ERROR " in line or " FATAL " in line or "Exception: " in line]
        return "\n".join([*problems[:12], "...", *since[-10:]]) + f"\n(full log: {self.log_path})"

    def _check_jars(self) -> None:
        if not any(self.jars_dir.glob("kafka_2.13-*.jar")):
            raise KafkaJarsMissingError(
                f"no Kafka broker jars in {self.jars_dir}: run `make setup` (fetches kafka_2.13 3.9.1)"
            )

    def _write_config(self) -> None:
        props = {
            **BASE_CONFIG,
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "controller.quorum.voters": f"1@{HOST}:{self.controller_port}",
            "log.dirs": str(self.data_dir),
            **self.config,
        }
        self.properties_path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.base_dir / "log4j.properties").write_text(LOG4J_PROPERTIES)

    def _java_command(self, main_class: str, *args: str) -> list[str]:
        log4j = f"-Dlog4j.configuration=file:{self.base_dir / 'log4j.properties'}"
        return [self.java, *self.jvm_opts, log4j, "-cp", f"{self.jars_dir}/*", main_class, *args]

    def _run_java(self, main_class: str, *args: str) -> None:
        done = subprocess.run(
            self._java_command(main_class, *args),
            capture_output=True,
            text=True,
            cwd=self.base_dir,
            check=False,
        )
        with self.log_path.open("a") as log:
            log.write(done.stdout + done.stderr)
        if done.returncode != 0:
            raise BrokerStartError(f"{main_class} failed ({done.returncode}):\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                raise BrokerStartError(f"the Kafka broker exited during start:\n{self._start_report()}")
            if _answers_metadata(self.bootstrap):
                return
            time.sleep(0.2)
        self.kill()
        raise BrokerStartError(f"the Kafka broker did not answer within {timeout} s:\n{self._start_report()}")

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.pid() is not None:
                os.kill(pid, signal.SIGKILL)
                while self.pid() is not None:
                    time.sleep(0.05)
        if self._proc is not None:
            self._proc.wait()
            self._proc = None
        self.pid_path.unlink(missing_ok=True)


def create_topic(
    bootstrap: str, topic: str, partitions: int = 1, config: Mapping[str, str] | None = None
) -> bool:
    """Create a topic (replication factor 1); False if it already existed."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="feedguard-admin")
    try:
        admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=dict(config or {}))])
        return True
    except TopicAlreadyExistsError:
        return False
    finally:
        admin.close()


def _answers_metadata(bootstrap: str) -> bool:
    """True when the port accepts and the cluster metadata lists at least one (unfenced) broker."""
    host, port = bootstrap.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=3000, client_id="feedguard-ready"
        )
    except Exception:
        return False
    try:
        return bool(admin.describe_cluster().get("brokers"))
    except Exception:
        return False
    finally:
        admin.close()


def _read_properties(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _listener_port(props: Mapping[str, str], name: str) -> int | None:
    for listener in props.get("listeners", "").split(","):
        if listener.startswith(f"{name}://"):
            return int(listener.rsplit(":", 1)[1])
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """``up`` starts a detached broker (it outlives this command), ``down`` stops it, ``status`` reports."""
    parser = argparse.ArgumentParser(prog="python -m feedguard_dev.kafka_broker", description=main.__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--dir", type=Path, default=Path(".cache/kafka-local"))
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--controller-port", type=int, default=9093)
    parser.add_argument("--jars", type=Path, default=None, help="default: <repo>/.cache/jars/kafka")
    args = parser.parse_args(argv)
    broker = KafkaBroker(
        args.dir,
        port=args.port,
        controller_port=args.controller_port,
        jars_dir=args.jars,
        die_with_parent=False,
    )
    try:
        if args.command == "up":
            broker.start()
            print(f"Kafka broker up on {broker.bootstrap} (pid {broker.pid()}, log {broker.log_path})")
        elif args.command == "down":
            running = broker.is_running()
            broker.stop()
            print("Kafka broker stopped" if running else "Kafka broker was not running")
        else:
            pid = broker.pid()
            print(f"Kafka broker running on {broker.bootstrap} (pid {pid})" if pid else "Kafka broker down")
            return 0 if pid else 3
    except (KafkaJarsMissingError, BrokerStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
