"""Imported at start-up by every process of a trust-test server (``Server`` puts this folder on
PYTHONPATH), to install what the test asked for in its environment:

- ``TRUST_ARGON2_LOG``: one line per argon2 verification, appended with O_APPEND so that both
  workers can write to the same file: the test counts real hash computations instead of guessing
  them from timings (``Server(count_argon2=True)``).
- ``TRUST_CAST_DELAY_MS``: the pause inside the casting transaction (tests/trust/cast_pause.py).
"""

from __future__ import annotations

import os

_LOG = os.environ.get("TRUST_ARGON2_LOG")
_CAST_DELAY_MS = int(os.environ.get("TRUST_CAST_DELAY_MS") or 0)

if _LOG:
    import argon2

    _verify = argon2.PasswordHasher.verify

    def _counted_verify(self: argon2.PasswordHasher, *args: str | bytes) -> bool:
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b"verify\n")
        finally:
            os.close(fd)
        return bool(_verify(self, *args))

    argon2.PasswordHasher.verify = _counted_verify  # type: ignore[method-assign]

if _CAST_DELAY_MS:
    from tests.trust.cast_pause import install

    install(_CAST_DELAY_MS / 1000)
