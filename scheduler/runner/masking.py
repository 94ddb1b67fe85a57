"""The supervisor's secrets masker: hides secret values in log lines and rendered fields.

The class lives in `dagruns.sdk.masking` since the server masks XComs with the same rule; this
module keeps the runner's import path.
"""

from __future__ import annotations

from dagruns.sdk.masking import MIN_LENGTH, SecretsMasker

__all__ = ["MIN_LENGTH", "SecretsMasker"]
