"""The terminal and the standard streams as Windows has them, not only as POSIX does (stdlib only).

- `isatty()` on Windows is true for any character device, `NUL` included, and false in mintty
  (Git Bash), whose terminal is a named pipe (bpo-28654; pallets/click PR 1135 asks
  `GetConsoleMode` instead; k-takata/ptycheck `iscygpty.c`, used by Vim, recognises mintty by
  the pipe's name).
- Text-mode stdout on Windows writes `\\r\\n` for `\\n`, which `$(...)` in Git Bash keeps.
- Piped to a file, stdout has the ANSI code page (cp1252) and raises on what it cannot encode.
"""

from __future__ import annotations

import contextlib
import re
import sys
from typing import Any, Callable, Optional

# `\msys-1888ae32e00d56aa-pty0-to-master`, `\cygwin-e022582115c10879-pty1-from-master`
_MINTTY_PIPE = re.compile(r"^\\(?:cygwin|msys)-[0-9a-f]+-pty\d+-(?:from|to)-master")
_FILE_TYPE_PIPE = 3
_FILE_NAME_INFO = 2  # FILE_INFO_BY_HANDLE_CLASS.FileNameInfo


def is_terminal(
    stream: Any = None, *, platform: Optional[str] = None, windows_kind: Optional[Callable[[int], str]] = None
) -> bool:
    """A person can see `stream` (stderr by default): a console or mintty on Windows, a tty elsewhere."""
    stream = sys.stderr if stream is None else stream
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # no stream, or one without a descriptor
        try:
            return bool(stream is not None and stream.isatty())
        except (AttributeError, ValueError):
            return False
    if not (platform or sys.platform).startswith("win"):
        try:
            return bool(stream.isatty())
        except ValueError:
            return False
    return (windows_kind or _windows_kind)(fd) in ("console", "mintty")


def _windows_kind(fd: int) -> str:
    """ "console", "mintty" (a Cygwin/MSYS pty pipe) or "other" (NUL, a file, a plain pipe)."""
    if sys.platform != "win32":
        return "other"
    import ctypes
    import msvcrt
    from ctypes import wintypes

    class FileNameInfo(ctypes.Structure):
        _fields_ = [("length", wintypes.DWORD), ("name", wintypes.WCHAR * 512)]

    try:
        handle = wintypes.HANDLE(msvcrt.get_osfhandle(fd))
    except OSError:
        return "other"
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    if kernel32.GetConsoleMode(handle, ctypes.byref(wintypes.DWORD())):
        return "console"
    if kernel32.GetFileType(handle) != _FILE_TYPE_PIPE:
        return "other"
    info = FileNameInfo()
    if not kernel32.GetFileInformationByHandleEx(
        handle, _FILE_NAME_INFO, ctypes.byref(info), ctypes.sizeof(info)
    ):
        return "other"
    return "mintty" if _MINTTY_PIPE.match(info.name[: info.length // 2]) else "other"


def write_line(text: str, stream: Any = None) -> None:
    """`text` and a bare `\\n` on stdout, whatever the platform's text mode would add."""
    stream = sys.stdout if stream is None else stream
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text + "\n")
        stream.flush()
        return
    stream.flush()
    buffer.write((text + "\n").encode(getattr(stream, "encoding", None) or "utf-8"))
    buffer.flush()


def replace_unencodable(stream: Any = None) -> None:
    """Characters the stream's code page lacks become `?` instead of a UnicodeEncodeError."""
    stream = sys.stdout if stream is None else stream
    if getattr(stream, "errors", None) == "strict":
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="replace")
