"""Run a command on this CPU as if it had no AMX and no bf16 units (machines riftwatch must
also be fast on).

Usage: ``python -m bench.without_bf16_units COMMAND [ARG...]``, e.g.
``python -m bench.without_bf16_units .venv/bin/python -m bench.run --only scoring``.

Two restrictions, both inherited by the command and its children:

* ``ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI``: oneDNN (torch's bf16 and fp32 matrix kernels) may use
  AVX-512 with VNNI but neither AMX nor AVX-512 BF16, so bf16 is emulated as on a Xeon of the
  Cascade Lake / Ice Lake kind.
* a seccomp filter that refuses ``arch_prctl(ARCH_GET_XCOMP_PERM / ARCH_REQ_XCOMP_PERM)``: Linux
  lets a process use AMX tiles only after that request, so every library (oneDNN, ONNX
  Runtime's MLAS) falls back to its AVX-512 VNNI kernels.

x86-64 Linux only. It measures only; nothing in riftwatch uses it.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
NR_ARCH_PRCTL = 158
ARCH_GET_XCOMP_PERM, ARCH_REQ_XCOMP_PERM = 0x1022, 0x1023
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, EPERM = 0x7FFF0000, 0x00050000, 1
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
# offsets in struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6];}
NR_OFFSET, ARCH_OFFSET, ARG0_OFFSET = 0, 4, 16
ISA_CAP = {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _statement(code: int, k: int, jump_true: int = 0, jump_false: int = 0) -> bytes:
    return struct.pack("HBBI", code, jump_true, jump_false, k)


def amx_refusing_filter() -> bytes:
    """A classic-BPF seccomp program: arch_prctl's XCOMP permission calls fail with EPERM."""
    return b"".join([
        _statement(BPF_LD_W_ABS, ARCH_OFFSET),
        _statement(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        _statement(BPF_RET_K, SECCOMP_RET_ALLOW),
        _statement(BPF_LD_W_ABS, NR_OFFSET),
        _statement(BPF_JEQ_K, NR_ARCH_PRCTL, 1, 0),
        _statement(BPF_RET_K, SECCOMP_RET_ALLOW),
        _statement(BPF_LD_W_ABS, ARG0_OFFSET),
        _statement(BPF_JEQ_K, ARCH_GET_XCOMP_PERM, 2, 0),
        _statement(BPF_JEQ_K, ARCH_REQ_XCOMP_PERM, 1, 0),
        _statement(BPF_RET_K, SECCOMP_RET_ALLOW),
        _statement(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM),
    ])


def refuse_amx() -> None:
    """Install the filter on this process (and every process it starts from now on)."""
    instructions = amx_refusing_filter()
    program = ctypes.create_string_buffer(instructions, len(instructions))
    fprog = _SockFprog(len(instructions) // 8, ctypes.cast(program, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(
        PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0
    ) != 0:
        raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    refuse_amx()
    os.environ.update(ISA_CAP)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
