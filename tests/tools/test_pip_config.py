"""pip with two indexes, a PyPI-like one (anonymous) and the feed, configured the three usual ways."""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.conftest import PACKAGE, Sandbox

from keyrings.azure_artifacts.testing import build_wheel, wheel_filename

pytestmark = pytest.mark.e2e

PUBLIC = "public-pkg"


class _Recording(http.server.SimpleHTTPRequestHandler):
    """Serves files and remembers every Authorization header it was sent."""

    authorizations: list[str]

    def do_GET(self) -> None:
        self.authorizations.append(self.headers.get("Authorization", ""))
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def public_index(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A PEP 503 index over plain http on 127.0.0.1 holding `public-pkg` (pip trusts loopback)."""
    root = tmp_path / "public"
    (root / "files").mkdir(parents=True)
    (root / "simple" / PUBLIC).mkdir(parents=True)
    filename = wheel_filename(PUBLIC, "1.0.0")
    (root / "files" / filename).write_bytes(build_wheel(PUBLIC, "1.0.0"))
    (root / "simple" / PUBLIC / "index.html").write_text(
        f'<html><body><a href="../../files/{filename}">{filename}</a></body></html>', encoding="utf-8"
    )
    (root / "simple" / "index.html").write_text(
        f'<html><body><a href="{PUBLIC}/">{PUBLIC}</a></body></html>', encoding="utf-8"
    )
    seen: list[str] = []
    handler = type("Handler", (_Recording,), {"authorizations": seen})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("how", ["pip.conf", "user pip.conf", "PIP_INDEX_URL", "--extra-index-url"])
def test_pip_two_indexes(tool_box: Sandbox, public_index: tuple[str, list[str]], how: str) -> None:
    """Both packages install; the feed gets a session token, the public index never sees one."""
    box = tool_box
    public_url, authorizations = public_index
    env = dict(box.env)
    args: list[str] = []
    if how == "pip.conf":
        conf = box.root / "pip.conf"
        conf.write_text(
            f"[global]\nindex-url = {public_url}\nextra-index-url = {box.index_url}\n", encoding="utf-8"
        )
        env["PIP_CONFIG_FILE"] = str(conf)
    elif how == "user pip.conf":  # where pip finds it by itself: $XDG_CONFIG_HOME/pip/pip.conf
        conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(
            f"[global]\nindex-url = {public_url}\nextra-index-url = {box.index_url}\n", encoding="utf-8"
        )
        del env["PIP_CONFIG_FILE"]
    elif how == "PIP_INDEX_URL":
        env.update(PIP_INDEX_URL=box.index_url, PIP_EXTRA_INDEX_URL=public_url)
    else:
        args = ["--index-url", public_url, "--extra-index-url", box.index_url]
    target = box.root / "target"

    result = box.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--target",
            str(target),
            *args,
            PACKAGE,
            PUBLIC,
        ],
        env=env,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "demo_pkg" / "__init__.py").is_file()
    assert (target / "public_pkg" / "__init__.py").is_file()
    fake = box.fake
    assert fake.count("download", status=200, auth_kind="session", scopes=("vso.packaging",)) == 1
    assert fake.count("session_token", status=200) == 1
    assert authorizations and not any(authorizations)
