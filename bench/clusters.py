"""Private servers for harnesses and tests: a PostgreSQL cluster and a Redis server of their own.

Neither touches the machine's shared servers: each lives in a temporary folder, listens on a free
loopback port and is removed by `stop()` / `remove()` (or the context manager), even after a
failure. Used by `bench/faults.py` (`make faults`) and `sofinance/tests/test_read_replica.py`.

PostgreSQL's server programs refuse to run as root: as root they run as the `postgres` OS user,
in a folder that user owns (`private_folder`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench.http_load import free_port


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian's layout), None without one."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def as_postgres(*command: str) -> list[str]:
    """Server programs refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def private_folder(prefix: str) -> Path:
    """A temporary folder the server programs may write (owned by postgres when we are root; not
    pytest's tmp_path, whose folders are private to this user)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    return base


class PostgresCluster:
    """One cluster in `folder / name`: `init()` (or `basebackup_of()`), `start()`, `restart()`,
    `stop()`. `url(user, database)` is how clients reach it (trust authentication on loopback)."""

    def __init__(self, folder: Path, name: str = "primary", *, port: int | None = None) -> None:
        binaries = pg_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = binaries
        self.folder = folder
        self.data = folder / name
        self.log = folder / f"{name}.log"
        self.port = port or free_port()

    def _run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            as_postgres(str(self.bin / program), *args),
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _configure(self, settings: str) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n")
            conf.write(f"unix_socket_directories = '{self.folder}'\n{settings}")

    def init(self, settings: str = "") -> PostgresCluster:
        """initdb (trust authentication, superuser `postgres`) and the extra `settings` lines."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._configure(settings)
        return self

    def allow_replication(self) -> None:
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")

    def basebackup_of(self, primary: PostgresCluster, settings: str = "") -> PostgresCluster:
        """This cluster as a streaming replica of `primary` (which must allow replication)."""
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(self.data), "-R", "-X", "stream",
        )  # fmt: skip
        self._configure(settings)
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start")

    def restart(self, mode: str = "fast") -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "-m", mode, "restart"
        )

    def stop_command(self, mode: str = "fast") -> list[str]:
        """The command that stops the cluster (for a process that must stop it by itself)."""
        return as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop")

    def stop(self, mode: str = "immediate") -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(self.stop_command(mode), capture_output=True, timeout=120)

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        return f"postgres://{user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run `statement` as the superuser through psql; its output (unaligned, tuples only)."""
        psql = shutil.which("psql") or str(self.bin / "psql")
        return subprocess.run(
            [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", database, "-c", statement],
            check=True, capture_output=True, text=True, timeout=120,
        ).stdout.strip()  # fmt: skip


class RedisServer:
    """redis-server on a free loopback port, its append-only file in `folder` (as the compose
    file runs it: a stop and start keeps what was queued)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("a")
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--appendonly", "yes", "--save", "", "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SHUTDOWN (the append-only file is written out), then wait for the process to end."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(b"SHUTDOWN\r\n")
                sock.recv(16)
        except OSError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"
