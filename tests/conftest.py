"""Shared fixtures. Integration and browser tests use the real model, the real FAISS index and
real servers; a missing part fails the run loudly (a skipped test is not a passed test)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ARTIFACTS = ROOT / "build" / "test-artifacts"


def pytest_sessionfinish(session, exitstatus):
    """Skips count as failures: every test here must really run on CI."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"error: {skipped} test(s) were skipped; a skipped test is not a passed test", red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory) -> Path:
    """A freshly built index of the bundled documents with the real model (no reuse of build/)."""
    from index.embedder import SentenceEncoder
    from index.store import ensure_index
    from kb import build_passages, load_documents

    folder = tmp_path_factory.mktemp("index") / "index"
    ensure_index(folder, build_passages(load_documents()), SentenceEncoder())
    return folder


@pytest.fixture(scope="session")
def settings(real_index_dir):
    from app.settings import load_settings

    return load_settings(environ={"KETA_INDEX_DIR": str(real_index_dir)})


@pytest.fixture(scope="session")
def engine(settings):
    from app.engine import Engine

    return Engine.load(settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str], args: list[str] = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ARTIFACTS / f"server-{self.port}.log"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(self.port), *args], cwd=ROOT,
                                     env={**os.environ, **env}, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"server not healthy after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# Test traffic all comes from 127.0.0.1, so the per-client limit is raised except where a test checks it.
TEST_LIMIT = {"KETA_SERVER__RATE_LIMIT": "100000/minute"}


@pytest.fixture(scope="session")
def clinic_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def server(real_index_dir, clinic_port):
    srv = Server({"KETA_INDEX_DIR": str(real_index_dir), **TEST_LIMIT,
                  "KETA_SERVER__ALLOWED_ORIGINS": f"http://127.0.0.1:{clinic_port}"})
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian chromium is not installed; 'make test' installs it (apt-get install chromium)")
    return path
