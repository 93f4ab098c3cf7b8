"""A real Streamlit server and headless Chromium (Debian's package, driven by Playwright)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("UNSUP_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}: `apt-get install chromium` "
                    "(or run `python -m pytest -m 'not e2e'` to leave them out)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on a free port with its own run store."""

    def __init__(self, home: Path, log_path: Path, env: dict | None = None, secrets: Path | None = None) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "ab")
        env = {**os.environ, "UNSUP_LAB_HOME": str(home), "UNSUP_LAB_WARM_WORKERS": "1", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             *(["--secrets.files", str(secrets)] if secrets else [])],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(log_path.read_text())
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


@pytest.fixture
def start_app(tmp_path):
    """Start servers on demand (several may share a run store); all are stopped afterwards."""
    servers = []

    def start(home: Path | None = None, env: dict | None = None, secrets: Path | None = None) -> AppServer:
        server = AppServer(home or tmp_path / "lab", tmp_path / f"streamlit-{len(servers)}.log", env, secrets)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def app_server(start_app):
    """The URL of a fresh server with an empty run store."""
    return start_app().url


def wait_until_rendered(page, timeout: float = 30_000) -> None:
    """Healthy is not rendered: wait for the websocket, then for the script run to finish."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
