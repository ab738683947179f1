"""A browser launched for sign-in never writes to our stdout or keeps it open (uv reads it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

BROWSER = """#!{python}
import html, os, re, ssl, sys, time, urllib.parse, urllib.request
print("Opening in existing browser session.", flush=True)
if os.fork() == 0:  # a browser lives on after its launcher, holding the fds it inherited
    context = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
    page = urllib.request.urlopen(sys.argv[1], context=context, timeout=10).read().decode()
    action = html.unescape(re.search(r'action="([^"]*)"', page).group(1))
    fields = {{html.unescape(k): html.unescape(v) for k, v in re.findall(r'name="([^"]*)" value="([^"]*)"', page)}}
    urllib.request.urlopen(action, urllib.parse.urlencode(fields).encode(), timeout=10).read()
    time.sleep(20)
    open(os.environ["BROWSER_EXITED"], "w").close()
    os._exit(0)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX browser launcher")
def test_a_browser_started_for_sign_in_never_writes_to_our_stdout(
    fake_azure: FakeAzure, tmp_path: Path, clean_env: CleanEnv
) -> None:
    """uv reads the password from `keyring get`'s stdout until EOF: a browser inheriting that
    pipe would add its chatter to the password and keep uv waiting for as long as it runs."""
    browser = tmp_path / "browser"
    browser.write_text(BROWSER.format(python=sys.executable))
    browser.chmod(0o755)
    env = clean_env.for_lookup(
        f'[artifacts host="{fake_azure.host}"]\nauthority_host = {fake_azure.base_url}\n'
        "credential = interactive_browser\ninteractive = always\nauth = bearer\ntimeout = 5\n",
        ca=fake_azure.ca_path,
        DISPLAY=":0",
        BROWSER=str(browser),
        NO_PROXY="*",
        BROWSER_EXITED=str(tmp_path / "browser-exited"),
    )
    probe = "import sys, keyring; sys.stdout.write(keyring.get_password(sys.argv[1], 'me') or 'NONE')"
    with (tmp_path / "stderr").open("w") as stderr:  # a terminal in real life: not a pipe we wait on
        result = subprocess.run(
            [sys.executable, "-c", probe, fake_azure.feed_url("contoso", "main")],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=60,  # a hang guard only
        )
    issued = fake_azure.lookup(result.stdout)
    assert issued is not None and issued.kind == "access", result.stdout
    assert "Opening in existing browser session." in (tmp_path / "stderr").read_text()
    # The lookup was over while the browser (20 s) still ran: it did not hold our stdout open.
    assert not (tmp_path / "browser-exited").exists()
