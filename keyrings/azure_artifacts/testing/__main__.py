"""Run the fake standalone: ``python -m keyrings.azure_artifacts.testing``.

Prints where it listens, the CA to trust, feed URLs and a keyringrc.cfg section,
then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections import defaultdict
from typing import Optional

from .server import FakeAzure


def _parse(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m keyrings.azure_artifacts.testing",
        description="Fake Microsoft Entra ID + Azure DevOps server (HTTPS on 127.0.0.1).",
    )
    parser.add_argument("--org", action="append", default=[], help="organization (repeatable)")
    parser.add_argument("--feed", action="append", default=[], help="feed in the last --org (repeatable)")
    parser.add_argument(
        "--package", action="append", default=[], metavar="NAME==VERSION", help="package in every feed"
    )
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = _parse(argv)
    orgs = args.org or ["contoso"]
    feeds = args.feed or ["main"]
    packages: dict[str, list[str]] = defaultdict(list)
    for spec in args.package or ["demo-pkg==1.0.0"]:
        name, _, version = spec.partition("==")
        packages[name].append(version or "1.0.0")

    fake = FakeAzure().start()
    for org in orgs:
        fake.add_org(org)
        for feed in feeds:
            fake.add_feed(org, feed, packages=dict(packages))
    print(f"base URL:        {fake.base_url}")
    print(f"CA certificate:  {fake.ca_path}")
    print(f"tenant:          {fake.default_tenant}")
    print(f"identity header: {fake.identity_header}")
    for org in orgs:
        for feed in feeds:
            print(f"feed:            {fake.feed_url(org, feed)}")
    print("\n# keyringrc.cfg")
    print(f'[artifacts host="{fake.host}"]')
    print(f"authority_host = {fake.base_url}")
    print(f"tenant = {fake.default_tenant}")
    print("\n# trust the CA: export REQUESTS_CA_BUNDLE / SSL_CERT_FILE / PIP_CERT=" + fake.ca_path)
    sys.stdout.flush()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
