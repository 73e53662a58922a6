"""bench.without_bf16_units: the command it runs cannot get AMX and oneDNN is capped."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
bitmask = ctypes.c_ulong(0)
status = libc.syscall(158, 0x1022, ctypes.byref(bitmask))  # arch_prctl(ARCH_GET_XCOMP_PERM)
print(json.dumps([status, ctypes.get_errno(), os.environ.get("ONEDNN_MAX_CPU_ISA")]))
"""


def probe(*wrapper: str) -> list:
    done = subprocess.run([*wrapper, sys.executable, "-c", PROBE], capture_output=True,
                          text=True, check=True, cwd=REPO)
    return json.loads(done.stdout)


@pytest.mark.skipif(platform.machine() != "x86_64" or sys.platform != "linux",
                    reason="seccomp filter for x86-64 Linux")
def test_the_command_runs_without_amx_permission_and_with_onednn_capped() -> None:
    assert probe()[0] == 0  # outside the wrapper the kernel answers
    status, errno, cap = probe(sys.executable, "-m", "bench.without_bf16_units")
    assert (status, errno) == (-1, 1)  # EPERM: no library can enable AMX tiles
    assert cap == "AVX512_CORE_VNNI"
