#!/usr/bin/env python3
"""Differential tester for Kite's x86 interpreter: random ring-3 instruction sequences run
under KVM (the real CPU) and under the interpreter; the final state must agree.

    difftest.py --emulator build/kite --kernel build/tests/difftest/difftest.elf \\
                [--seeds 1-8] [--cases 200]          # a seed set (the test command's)
    difftest.py ... --seed 17 --case 42               # one case, full dumps and the bytes

For each seed a case file is generated (tests/difftest/harness.c documents the format) and
run by the harness kernel under `-accel kvm` and `-accel tcg`; every case prints a hash of
registers, defined flags, exception and data memory.  On a mismatch the case is re-run with
full dumps and the differences are printed with a disassembly (objdump, if installed).

Generated instructions: integer ALU (ADD OR ADC SBB AND SUB XOR CMP, register, memory and
immediate forms, 8/16/32/64 bits), INC DEC NEG NOT, MUL IMUL (all forms) DIV IDIV (faults
included), shifts and rotates by immediate counts, BT/BTS/BTR/BTC, SETcc, CMOVcc, MOV,
MOVZX/MOVSX/MOVSXD, LEA, XCHG, XADD, CMPXCHG, BSWAP, CBW/CWDE/CDQE, CWD/CDQ/CQO, TEST.
Memory operands address a 512-byte window at [RBX + disp8]; RBX and RSP are never written.
Flags an instruction leaves undefined (Intel SDM vol. 2, "Flags Affected") are tracked:
an instruction that would read one is not generated, and the final comparison masks them.
Exit status: 0 all agree, 1 a mismatch, 77 skipped (no usable /dev/kvm).
SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

CF, PF, AF, ZF, SF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x800
ALL = CF | PF | AF | ZF | SF | OF
CODE_MAX = 104
# Registers a generated instruction may write: everything but RBX (3, the data base)
# and RSP (4).
REGS = [0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
# Conditions (Jcc/SETcc/CMOVcc low nibble) -> flags read.
COND_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF,
              ZF | SF | OF, ZF | SF | OF]


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.defined = ALL
        self.may_fault = False

    def reg(self):
        return self.r.choice(REGS)

    def size(self):
        return self.r.choice([1, 2, 4, 8])

    def modrm_bytes(self, size, reg, rm_reg=None, mem=None, force_rex=False):
        """Prefixes + REX + (opcode inserted by caller) split: returns (prefix, rex, modrm+
        disp).  mem is a disp8 for [rbx+disp8]; else rm_reg is a register."""
        prefix = b"\x66" if size == 2 else b""
        rex = 0x40 | (8 if size == 8 else 0) | (4 if reg >= 8 else 0)
        if mem is not None:
            modrm = bytes([0x40 | (reg & 7) << 3 | 3, mem & 0xff])
        else:
            rex |= 1 if rm_reg >= 8 else 0
            modrm = bytes([0xc0 | (reg & 7) << 3 | (rm_reg & 7)])
        # 8-bit operands always get a REX so that 4-7 mean SPL..DIL, never AH..BH.
        use_rex = rex != 0x40 or size == 1 or force_rex
        return prefix, bytes([rex]) if use_rex else b"", modrm

    def enc(self, op, size, reg, rm_reg=None, mem=None, imm=b""):
        prefix, rex, modrm = self.modrm_bytes(size, reg, rm_reg, mem)
        return prefix + rex + op + modrm + imm

    def operand(self):
        """A destination r/m: a register or the data window."""
        if self.r.random() < 0.3:
            return None, self.r.randrange(0, 0x78)
        return self.reg(), None

    def imm(self, size):
        n = min(size, 4)
        v = self.r.getrandbits(8 * n)
        if self.r.random() < 0.3:
            v = self.r.choice([0, 1, (1 << (8 * n)) - 1, 1 << (8 * n - 1)])
        return v.to_bytes(n, "little")

    def set_flags(self, defines, undefines=0):
        self.defined = (self.defined | defines) & ~undefines

    def can_read(self, flags):
        return (self.defined & flags) == flags

    def one(self):
        """Bytes of one instruction, updating the defined-flags state."""
        r = self.r
        kind = r.choice(["alu", "alu", "alu_imm", "unary", "mul", "div", "shift", "bt",
                         "setcc", "cmov", "mov", "movx", "lea", "xchg", "xadd", "cmpxchg",
                         "bswap", "conv", "test"])
        size = self.size()
        w = 0 if size == 1 else 1
        if kind == "alu":
            op = r.randrange(8)                    # add or adc sbb and sub xor cmp
            if op in (2, 3) and not self.can_read(CF):
                op = 0
            dreg, mem = self.operand()
            src = self.reg()
            if mem is None and r.random() < 0.5:
                # r, r/m form (op*8 + 2 + w)
                code = self.enc(bytes([op * 8 + 2 + w]), size, dreg, rm_reg=src)
            elif mem is None:
                code = self.enc(bytes([op * 8 + w]), size, src, rm_reg=dreg)
            else:
                code = self.enc(bytes([op * 8 + (2 if r.random() < 0.5 else 0) + w]), size,
                                src, mem=mem)
            self.set_flags(ALL, AF if op in (1, 4, 6) else 0)
            return code
        if kind == "alu_imm":
            op = r.randrange(8)
            if op in (2, 3) and not self.can_read(CF):
                op = 0
            dreg, mem = self.operand()
            if size == 1:
                opc, imm = 0x80, self.imm(1)
            elif r.random() < 0.5:
                opc, imm = 0x83, self.imm(1)
            else:
                opc, imm = 0x81, self.imm(2 if size == 2 else 4)
            code = self.enc(bytes([opc]), size, op, rm_reg=dreg, mem=mem, imm=imm)
            self.set_flags(ALL, AF if op in (1, 4, 6) else 0)
            return code
        if kind == "unary":
            sub = r.choice([0, 1, 2, 3])            # inc dec (FE/FF /0 /1), not neg (F6/F7 /2 /3)
            dreg, mem = self.operand()
            if sub < 2:
                code = self.enc(bytes([0xfe + w]), size, sub, rm_reg=dreg, mem=mem)
                self.set_flags(ALL & ~CF)
            else:
                code = self.enc(bytes([0xf6 + w]), size, sub, rm_reg=dreg, mem=mem)
                if sub == 3:                        # NEG sets all six; NOT none
                    self.set_flags(ALL)
            return code
        if kind == "mul":
            form = r.randrange(4)
            if form < 2:                            # MUL / IMUL r/m (F6/F7 /4 /5)
                code = self.enc(bytes([0xf6 + w]), size, 4 + form, rm_reg=self.reg())
            elif size == 1:
                code = self.enc(bytes([0xf6]), 1, 5, rm_reg=self.reg())
            elif form == 2:                         # IMUL r, r/m (0F AF)
                code = self.enc(b"\x0f\xaf", size, self.reg(), rm_reg=self.reg())
            else:                                   # IMUL r, r/m, imm8 (6B)
                code = self.enc(b"\x6b", size, self.reg(), rm_reg=self.reg(), imm=self.imm(1))
            self.set_flags(CF | OF, SF | ZF | AF | PF)
            return code
        if kind == "div":
            code = self.enc(bytes([0xf6 + w]), size, r.choice([6, 7]), rm_reg=self.reg())
            # All flags undefined if it completes; unchanged if it faults (#DE): either
            # way no flag is comparable afterwards.
            self.set_flags(0, ALL)
            self.may_fault = True
            return code
        if kind == "shift":
            sub = r.choice([0, 1, 4, 5, 7, 2, 3])   # rol ror shl shr sar rcl rcr
            if sub in (2, 3) and not self.can_read(CF):
                sub = 0
            count = r.choice([1, 1, 2, 3, 7, 8 * size - 1])
            dreg, mem = self.operand()
            if count == 1 and r.random() < 0.5:
                code = self.enc(bytes([0xd0 + w]), size, sub, rm_reg=dreg, mem=mem)
            else:
                code = self.enc(bytes([0xc0 + w]), size, sub, rm_reg=dreg, mem=mem,
                                imm=bytes([count]))
            # Counts are masked to 5 bits (6 with REX.W); RCL/RCR by size+1 for 8/16 bits.
            masked = count & (0x3f if size == 8 else 0x1f)
            if masked == 0:
                return code
            if sub in (0, 1, 2, 3):                 # rotates: CF (and OF for 1)
                self.set_flags(CF | (OF if masked == 1 else 0), 0 if masked == 1 else OF)
            else:                                   # shifts: AF undefined; OF for 1 only
                self.set_flags(CF | ZF | SF | PF | (OF if masked == 1 else 0),
                               AF | (0 if masked == 1 else OF))
                if masked >= 8 * size:
                    self.set_flags(0, CF)
            return code
        if kind == "bt":
            if size == 1:
                size = 4
            sub = r.randrange(4)                    # bt bts btr btc
            if r.random() < 0.5:
                code = self.enc(bytes([0x0f, 0xa3 + 8 * sub]), size, self.reg(),
                                rm_reg=self.reg())
            else:
                code = self.enc(b"\x0f\xba", size, 4 + sub, rm_reg=self.reg(),
                                imm=bytes([r.randrange(64)]))
            self.set_flags(CF, OF | SF | AF | PF)
            return code
        if kind == "setcc":
            cc = r.randrange(16)
            if not self.can_read(COND_READS[cc]):
                return b""
            dreg, mem = self.operand()
            return self.enc(bytes([0x0f, 0x90 + cc]), 1, 0, rm_reg=dreg, mem=mem)
        if kind == "cmov":
            cc = r.randrange(16)
            if not self.can_read(COND_READS[cc]) or size == 1:
                return b""
            _, mem = self.operand()
            return self.enc(bytes([0x0f, 0x40 + cc]), size, self.reg(),
                            rm_reg=None if mem is not None else self.reg(), mem=mem)
        if kind == "mov":
            dreg, mem = self.operand()
            if mem is None and r.random() < 0.3:
                return self.enc(bytes([0xc6 + w]), size, 0, rm_reg=dreg,
                                imm=self.imm(1 if size == 1 else 2 if size == 2 else 4))
            if mem is None:
                return self.enc(bytes([0x88 + w]), size, self.reg(), rm_reg=dreg)
            return self.enc(bytes([0x88 + w + (2 if r.random() < 0.5 else 0)]), size,
                            self.reg(), mem=mem)
        if kind == "movx":
            size = r.choice([2, 4, 8])
            opc = r.choice([b"\x0f\xb6", b"\x0f\xbe", b"\x0f\xb7", b"\x0f\xbf"])
            if opc in (b"\x0f\xb7", b"\x0f\xbf") and size == 2:
                size = 4
            if r.random() < 0.2:
                return self.enc(b"\x63", 8, self.reg(), rm_reg=self.reg())   # MOVSXD
            _, mem = self.operand()
            src = None if mem is not None else self.reg()
            return self.enc(opc, size, self.reg(), rm_reg=src, mem=mem)
        if kind == "lea":
            return self.enc(b"\x8d", max(size, 2), self.reg(), mem=r.randrange(256))
        if kind == "xchg":
            _, mem = self.operand()
            return self.enc(bytes([0x86 + w]), size, self.reg(),
                            rm_reg=None if mem is not None else self.reg(), mem=mem)
        if kind == "xadd":
            dreg, mem = self.operand()
            self.set_flags(ALL)
            return self.enc(bytes([0x0f, 0xc0 + w]), size, self.reg(), rm_reg=dreg, mem=mem)
        if kind == "cmpxchg":
            dreg, mem = self.operand()
            self.set_flags(ALL)
            return self.enc(bytes([0x0f, 0xb0 + w]), size, self.reg(), rm_reg=dreg, mem=mem)
        if kind == "bswap":
            reg = self.reg()
            rex = 0x40 | (8 if size == 8 else 0) | (1 if reg >= 8 else 0)
            return (bytes([rex]) if rex != 0x40 else b"") + bytes([0x0f, 0xc8 + (reg & 7)])
        if kind == "conv":
            pre = {2: b"\x66", 4: b"", 8: b"\x48"}[max(size, 2)]
            return pre + r.choice([b"\x98", b"\x99"])
        if kind == "test":
            dreg, mem = self.operand()
            self.set_flags(ALL, AF)
            return self.enc(bytes([0x84 + w]), size, self.reg(), rm_reg=dreg, mem=mem)
        return b""


def gen_case(rng):
    g = Gen(rng)
    code = b""
    for _ in range(rng.randrange(1, 9)):
        insn = g.one()
        if len(code) + len(insn) > CODE_MAX - 2:
            break
        code += insn
        if g.may_fault:
            # A faulting DIV stops the run before the later instructions: stop generating
            # there, so the flag mask always describes the point execution reached.
            break
    regs = []
    for i in range(16):
        v = rng.getrandbits(64)
        if rng.random() < 0.3:
            v = rng.choice([0, 1, 0xffffffffffffffff, 0x8000000000000000, 0x7fffffff,
                            0x80000000, 0xff, 0x80])
        regs.append(v)
    rflags = rng.getrandbits(12) & (ALL | 0x400)
    return struct.pack("<16QQIIII", *regs, rflags, g.defined, len(code),
                       rng.getrandbits(32), 0) + code.ljust(CODE_MAX, b"\x90")


def gen_file(seed, ncases):
    rng = random.Random(seed)
    cases = [gen_case(rng) for _ in range(ncases)]
    return struct.pack("<4sIII", b"KDT1", ncases, 256, 0) + b"".join(cases), cases


def run(emulator, kernel, accel, casefile, extra_append="", timeout=600):
    args = [emulator, "-M", "pc", "-m", "64", "-nodefaults", "-accel", accel,
            "-serial", "stdio", "-display", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", kernel, "-initrd", casefile,
            "-append", f"accel={accel} {extra_append}".strip()]
    p = subprocess.run(args, capture_output=True, timeout=timeout)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 33:
        raise RuntimeError(f"{accel}: harness exited {p.returncode}\n{out[-2000:]}"
                           f"{p.stderr.decode(errors='replace')[-1000:]}")
    hashes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "C":
            hashes[int(parts[1])] = parts[2]
    return hashes, out


def kvm_usable(emulator):
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    r = subprocess.run([emulator, "-accel", "kvm", "-M", "pc,dump-tree", "-nodefaults"],
                       capture_output=True, timeout=30)
    return r.returncode == 0


def disasm(code):
    if not shutil.which("objdump"):
        return code.hex(" ")
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        r = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", f.name],
                           capture_output=True, text=True)
    return "\n".join(l for l in r.stdout.splitlines() if ":\t" in l)


def explain(emulator, kernel, casefile, case_bytes, index):
    code_len = struct.unpack_from("<I", case_bytes, 16 * 8 + 8 + 4)[0]
    print(disasm(case_bytes[152:152 + code_len]))
    outs = {}
    for accel in ("kvm", "tcg"):
        _, out = run(emulator, kernel, accel, casefile, f"case={index} dump={index}")
        outs[accel] = [l for l in out.splitlines() if l[:2] in ("R ", "M ")]
    for a, b in zip(outs["kvm"], outs["tcg"]):
        mark = "  " if a == b else "!="
        print(f"  {mark} kvm: {a:<40} tcg: {b}")


def parse_seeds(s):
    if "-" in s:
        a, b = s.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in s.split(",")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--seeds", default="1-4")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--case", type=int)
    a = ap.parse_args()
    if not kvm_usable(a.emulator):
        print("SKIP: the reference side needs a usable /dev/kvm")
        return 77
    seeds = [a.seed] if a.seed is not None else parse_seeds(a.seeds)
    bad = 0
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            blob, cases = gen_file(seed, a.cases)
            casefile = os.path.join(tmp, f"cases-{seed}.bin")
            with open(casefile, "wb") as f:
                f.write(blob)
            if a.case is not None:
                explain(a.emulator, a.kernel, casefile, cases[a.case], a.case)
                continue
            kvm, _ = run(a.emulator, a.kernel, "kvm", casefile)
            tcg, _ = run(a.emulator, a.kernel, "tcg", casefile)
            if len(kvm) != a.cases or len(tcg) != a.cases:
                print(f"FAIL seed {seed}: {len(kvm)} kvm / {len(tcg)} tcg results of {a.cases}")
                bad += 1
                continue
            diff = [i for i in range(a.cases) if kvm[i] != tcg[i]]
            total += a.cases
            if diff:
                bad += len(diff)
                print(f"FAIL seed {seed}: {len(diff)} of {a.cases} cases differ: {diff[:10]}")
                for i in diff[:3]:
                    print(f"--- seed {seed} case {i}")
                    explain(a.emulator, a.kernel, casefile, cases[i], i)
            else:
                print(f"PASS seed {seed}: {a.cases} cases agree")
    if a.case is None:
        print(f"{total - bad} cases agree, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
