"""Build tiny, valid pure-Python wheels in memory.

The fake feed serves real wheels so that real pip and uv can install what a test
published or pre-seeded; nothing is read from disk and nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

from ._jwt import b64url

_FIXED_DATE = (2020, 1, 1, 0, 0, 0)


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_filename(name: str, version: str) -> str:
    """The py3-none-any wheel file name for a project and version."""
    return f"{_escape(name)}-{_escape(version)}-py3-none-any.whl"


def build_wheel(name: str, version: str) -> bytes:
    """A wheel holding ``<name_with_underscores>/__init__.py`` with ``__version__``."""
    module = re.sub(r"[-.]+", "_", name).lower()
    dist_info = f"{_escape(name)}-{_escape(version)}.dist-info"
    files: list[tuple[str, bytes]] = [
        (f"{module}/__init__.py", f'"""Built by the fake feed."""\n__version__ = "{version}"\n'.encode()),
        (
            f"{dist_info}/METADATA",
            (
                "Metadata-Version: 2.1\n"
                f"Name: {name}\n"
                f"Version: {version}\n"
                "Summary: A package served by the fake Azure Artifacts feed\n"
                "Requires-Python: >=3.7\n"
            ).encode(),
        ),
        (
            f"{dist_info}/WHEEL",
            (
                b"Wheel-Version: 1.0\n"
                b"Generator: keyrings.azure_artifacts.testing\n"
                b"Root-Is-Purelib: true\n"
                b"Tag: py3-none-any\n"
            ),
        ),
    ]
    record_lines = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files]
    record_lines.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record_lines) + "\n").encode()))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _escape(component: str) -> str:
    return re.sub(r"[^\w\d.]+", "_", component, flags=re.UNICODE)


def _digest(data: bytes) -> str:
    return b64url(hashlib.sha256(data).digest())
