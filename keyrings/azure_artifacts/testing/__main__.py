"""Run the fake standalone: ``python -m keyrings.azure_artifacts.testing``.

Prints where it listens, the CA to trust, feed URLs, a keyringrc.cfg section and the shell
lines to trust its CA, then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections import defaultdict
from typing import Any, Optional

DEFAULT_ORG, DEFAULT_FEED, DEFAULT_PACKAGE = "contoso", "main", "demo-pkg==1.0.0"
EXTRA = "pip install 'keyrings.azure-artifacts[testing]'"


class _OrgAction(argparse.Action):
    """`--org A --feed x --feed y --org B --feed z`: each --feed belongs to the --org before it."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Optional[str] = None) -> None:
        orgs: list[tuple[str, list[str]]] = namespace.orgs
        if option == "--org":
            orgs.append((value, []))
        elif not orgs:
            orgs.append((DEFAULT_ORG, [value]))
        else:
            orgs[-1][1].append(value)


def _parse(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m keyrings.azure_artifacts.testing",
        description=(
            "Fake Microsoft Entra ID + Azure DevOps server (HTTPS on 127.0.0.1, its own CA), for trying "
            "the backend and the tools by hand without an Azure account. Device-code sign-ins are "
            "approved automatically (as user@contoso.com); nothing leaves this machine."
        ),
        epilog=f"Without options: --org {DEFAULT_ORG} --feed {DEFAULT_FEED} --package {DEFAULT_PACKAGE}.",
    )
    parser.set_defaults(orgs=[])
    parser.add_argument(
        "--org", action=_OrgAction, dest="orgs", metavar="ORG",
        help=f"an organization (repeatable; default: {DEFAULT_ORG})",
    )  # fmt: skip
    parser.add_argument(
        "--feed", action=_OrgAction, dest="orgs", metavar="FEED",
        help=f"a feed in the --org before it (repeatable; default: {DEFAULT_FEED} in each org)",
    )  # fmt: skip
    parser.add_argument(
        "--package", action="append", default=[], metavar="NAME==VERSION",
        help=f"a package in every feed (repeatable; default: {DEFAULT_PACKAGE})",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = _parse(argv)
    try:
        from .server import FakeAzure

        fake = FakeAzure()
        import trustme  # noqa: F401  (start() needs it: say so before anything is printed)
    except ImportError as exc:
        print(f"python -m keyrings.azure_artifacts.testing: needs the testing extra ({exc.name} is missing): "
              f"{EXTRA}", file=sys.stderr)  # fmt: skip
        return 1
    orgs = [(org, feeds or [DEFAULT_FEED]) for org, feeds in args.orgs] or [(DEFAULT_ORG, [DEFAULT_FEED])]
    packages: dict[str, list[str]] = defaultdict(list)
    for spec in args.package or [DEFAULT_PACKAGE]:
        name, _, version = spec.partition("==")
        packages[name].append(version or "1.0.0")

    fake.start()
    for org, feeds in orgs:
        fake.add_org(org)
        for feed in feeds:
            fake.add_feed(org, feed, packages=dict(packages))
    print(f"base URL:        {fake.base_url}")
    print(f"CA certificate:  {fake.ca_path}")
    print(f"tenant:          {fake.default_tenant}")
    print(f"identity header: {fake.identity_header}")
    for org, feeds in orgs:
        for feed in feeds:
            print(f"feed:            {fake.feed_url(org, feed)}")
    print("\n# keyringrc.cfg")
    print(f'[artifacts host="{fake.host}"]')
    print(f"authority_host = {fake.base_url}")
    print(f"tenant = {fake.default_tenant}")
    print("\n# trust the CA (paste into a POSIX shell)")
    ca = shlex.quote(fake.ca_path)
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "PIP_CERT"):
        print(f"export {name}={ca}")
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
