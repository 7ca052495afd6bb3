#!/usr/bin/env python3
"""kite-img against qemu-img: images kite-img writes pass `qemu-img check` and compare equal
to their source (plain and -c compressed), images qemu-img writes convert back byte for byte,
info/check/resize work, map/compare/snapshot -l print what qemu-img prints (same exit codes),
and malformed qcow2 files are refused with a one-line error.

Usage: test_kite_img.py --kite-img build/kite-img
Prints PASS/FAIL per case and "N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def map_compare_snapshot(K, d, check):
    """map, compare and snapshot -l against qemu-img on images qemu-io shapes: a backing
    chain with data at both depths, zero clusters (plain and preallocated), compressed
    clusters, a sparse raw file, size mismatches and internal snapshots."""
    if not shutil.which("qemu-io"):
        print("SKIP map/compare/snapshot: qemu-io not installed")
        return
    cwd = os.getcwd()
    os.chdir(d)                       # relative backing names, as users write them

    def io(img, *cmds, fmt="qcow2"):
        args = ["qemu-io", "-f", fmt]
        for c in cmds:
            args += ["-c", c]
        p = run(*args, img)
        if p.returncode != 0:
            raise RuntimeError("qemu-io failed: " + p.stdout + p.stderr)

    try:
        run("qemu-img", "create", "-f", "qcow2", "base.qcow2", "4M")
        io("base.qcow2", "write -P 1 0 64k", "write -P 2 1M 128k", "write -P 4 3M 4k")
        run("qemu-img", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
            "top.qcow2", "4M")
        io("top.qcow2", "write -P 3 64k 64k", "write -z 2M 64k", "write -P 5 3M 4k",
           "write -z 1M 64k")
        run("qemu-img", "create", "-f", "qcow2", "zero.qcow2", "1M")
        io("zero.qcow2", "write -P 6 0 128k", "write -z 0 64k")   # zero flag over data
        run("qemu-img", "convert", "-c", "-O", "qcow2", "base.qcow2", "comp.qcow2")
        with open("sparse.raw", "wb") as f:
            f.truncate(1 << 20)
            f.seek(70000)
            f.write(b"abc")
        cases = [["top.qcow2"], ["base.qcow2"], ["zero.qcow2"], ["comp.qcow2"],
                 ["-f", "raw", "sparse.raw"], [os.path.join(d, "top.qcow2")],
                 ["--start-offset=1M", "--max-length=2M", "top.qcow2"]]
        for c in cases:
            for fmt in ("human", "json"):
                k = run(K, "map", "--output=" + fmt, *c)
                q = run("qemu-img", "map", "--output=" + fmt, *c)
                check("map %s %s" % (fmt, " ".join(c)),
                      (k.returncode, k.stdout) == (q.returncode, q.stdout),
                      "kite-img rc=%d:\n%s%s\nqemu-img rc=%d:\n%s%s" % (
                          k.returncode, k.stdout, k.stderr, q.returncode, q.stdout, q.stderr))
        run("qemu-img", "convert", "-O", "raw", "top.qcow2", "top.raw")
        run("qemu-img", "create", "-f", "qcow2", "big.qcow2", "8M")
        io("big.qcow2", "write -P 9 6M 512")
        shutil.copy("top.raw", "top2.raw")
        io("top2.raw", "write -P 7 100000 1", fmt="raw")
        cases = [["top.qcow2", "top.raw"], ["-s", "top.qcow2", "top.qcow2"],
                 ["-f", "raw", "-F", "raw", "top.raw", "top2.raw"],
                 ["-q", "-F", "raw", "top.qcow2", "top2.raw"],
                 ["base.qcow2", "big.qcow2"], ["big.qcow2", "base.qcow2"],
                 ["-s", "base.qcow2", "big.qcow2"], ["-s", "base.qcow2", "top.qcow2"],
                 ["base.qcow2", "comp.qcow2"], ["base.qcow2", "no-such-file"]]
        for c in cases:
            k = run(K, "compare", *c)
            q = run("qemu-img", "compare", *c)
            check("compare %s -> %d" % (" ".join(c), q.returncode),
                  (k.returncode, k.stdout) == (q.returncode, q.stdout),
                  "kite-img rc=%d %r, qemu-img rc=%d %r" % (k.returncode, k.stdout + k.stderr,
                                                          q.returncode, q.stdout + q.stderr))
        run("qemu-img", "snapshot", "-c", "first", "base.qcow2")
        io("base.qcow2", "write -P 8 0 4k")
        run("qemu-img", "snapshot", "-c", 'a second, "quoted" name', "base.qcow2")
        # check's summary (allocated, fragmented, compressed figures, image end) on images
        # with compressed, preallocated-zero and scattered clusters, several L2 tables.
        run("qemu-img", "create", "-f", "qcow2", "-o", "cluster_size=4k", "frag.qcow2", "8M")
        io("frag.qcow2", "write -P 1 3M 4k", "write -P 2 0 8k", "write -P 3 7M 12k",
           "write -P 4 5M 4k", "write -z 0 4k", "write -P 5 2M 4k")
        for c in (["check", "comp.qcow2"], ["check", "zero.qcow2"], ["check", "top.qcow2"],
                  ["check", "frag.qcow2"], ["check", "--output=json", "frag.qcow2"],
                  ["snapshot", "-l", "base.qcow2"], ["snapshot", "-l", "top.qcow2"],
                  ["info", "base.qcow2"], ["info", "--output=json", "base.qcow2"],
                  ["info", "--backing-chain", "top.qcow2"],
                  ["info", "--backing-chain", "--output=json", "top.qcow2"],
                  ["info", "--backing-chain", os.path.join(d, "top.qcow2")]):
            k = run(K, *c)
            q = run("qemu-img", *c)
            check(" ".join(c), (k.returncode, k.stdout) == (q.returncode, q.stdout),
                  "kite-img:\n%s%s\nqemu-img:\n%s" % (k.stdout, k.stderr, q.stdout))
    finally:
        os.chdir(cwd)


def check_damaged(K, d, check):
    """check (human and --output=json) on damaged images as qemu-img reports them: a leaked
    cluster, a data cluster whose refcount is 0 (also a QCOW_OFLAG_COPIED mismatch), one
    whose refcount is 2 (a leak, and COPIED set on a shared cluster); -r leaks and -r all
    leave images both checkers find clean."""
    base = os.path.join(d, "dmg.qcow2")
    run("qemu-img", "create", "-q", "-f", "qcow2", base, "1M")
    p = run("qemu-io", "-c", "write -P 1 0 64k", base)
    if p.returncode != 0:
        print("SKIP check on damaged images: qemu-io failed")
        return
    good = bytearray(open(base, "rb").read())
    rt = struct.unpack_from(">Q", good, 48)[0]
    rb = struct.unpack_from(">Q", good, rt)[0]
    l1 = struct.unpack_from(">Q", good, 40)[0]
    l2 = struct.unpack_from(">Q", good, l1)[0] & 0x00fffffffffffe00
    data = (struct.unpack_from(">Q", good, l2)[0] & 0x00fffffffffffe00) >> 16

    def damaged(name, cluster, refcount):
        b = bytearray(good) + bytes(max(0, 0x80000 - len(good)))
        struct.pack_into(">H", b, rb + 2 * cluster, refcount)
        f = os.path.join(d, name)
        open(f, "wb").write(b)
        return f

    imgs = [damaged("dmg-leak.qcow2", 7, 1), damaged("dmg-rc0.qcow2", data, 0),
            damaged("dmg-rc2.qcow2", data, 2)]
    for f in imgs:
        for out in ("human", "json"):
            k = run(K, "check", "--output=" + out, f)
            q = run("qemu-img", "check", "--output=" + out, f)
            check("check --output=%s %s" % (out, os.path.basename(f)),
                  (k.returncode, k.stdout, k.stderr.replace("kite-img:", "qemu-img:")) ==
                  (q.returncode, q.stdout, q.stderr),
                  "kite-img rc=%d:\n%s%s\nqemu-img rc=%d:\n%s%s" % (
                      k.returncode, k.stdout, k.stderr, q.returncode, q.stdout, q.stderr))
        # -r leaks as qemu-img words it, including its refusal when a used cluster is
        # counted 0 (freeing leaks could then hand that cluster out again).
        res = []
        for tool in ("qemu-img", K):
            c = f + ".leaks"
            shutil.copy(f, c)
            p = run(tool, "check", "-r", "leaks", c)
            res.append((p.returncode, p.stdout,
                        p.stderr.replace(os.path.basename(tool) + ":", "PROG:")))
        check("check -r leaks %s" % os.path.basename(f), res[0] == res[1],
              "qemu-img %r\nkite-img %r" % tuple(res))
        for mode in ("leaks", "all"):
            c = f + "." + mode
            shutil.copy(f, c)
            k = run(K, "check", "-r", mode, c)
            q = run("qemu-img", "check", c)
            want = (1, 2) if mode == "leaks" and "rc0" in f else (0, 0)
            check("check -r %s %s, then qemu-img check" % (mode, os.path.basename(f)),
                  (k.returncode, q.returncode) == want,
                  "kite-img rc=%d %s, then qemu-img rc=%d %s" % (
                      k.returncode, k.stdout + k.stderr, q.returncode, q.stdout + q.stderr))


def resize_progress(K, d, check):
    """resize as qemu-img: negative sizes, --shrink, -q, errors; and the -p progress line's
    shape for convert and compare (0% first, the last line, the newline at the end)."""
    cwd = os.getcwd()
    os.chdir(d)
    try:
        cases = [(["r.qcow2", "+1M"], "qcow2"), (["-q", "r.qcow2", "+1M"], "qcow2"),
                 (["r.qcow2", "-1M"], "qcow2"), (["r.qcow2", "--", "-8M"], "qcow2"),
                 (["r.qcow2", "abc"], "qcow2"), (["r.qcow2"], "qcow2"),
                 (["--shrink", "-f", "raw", "r.raw", "-1M"], "raw"),
                 (["-f", "raw", "r.raw", "3M"], "raw"), (["-f", "raw", "r.raw", "5M"], "raw")]
        for argv, fmt in cases:
            out = []
            for tool in ("qemu-img", K):
                run("qemu-img", "create", "-q", "-f", fmt, "r." + fmt, "4M")
                p = run(tool, "resize", *argv)
                info = run("qemu-img", "info", "--output=json", "-f", fmt, "r." + fmt).stdout
                size = [ln for ln in info.splitlines() if "virtual-size" in ln]
                out.append((p.returncode, p.stdout,
                            p.stderr.replace(os.path.basename(tool), "PROG"), size))
            check("resize " + " ".join(argv), out[0] == out[1],
                  "qemu-img %r\nkite-img %r" % (out[0], out[1]))
        with open("p.raw", "wb") as f:
            f.write(os.urandom(3 << 20))
        shutil.copy("p.raw", "p2.raw")
        with open("p2.raw", "r+b") as f:
            f.seek(2 << 20)
            f.write(b"x")
        for name, argv in (("convert", ["convert", "-p", "-O", "qcow2", "p.raw", "p.qcow2"]),
                           ("compare same", ["compare", "-p", "p.raw", "p.raw"]),
                           ("compare differ", ["compare", "-p", "p.raw", "p2.raw"])):
            res = []
            for tool in ("qemu-img", K):
                if os.path.exists("p.qcow2"):
                    os.unlink("p.qcow2")
                p = subprocess.run([tool] + argv, capture_output=True, timeout=60)
                res.append((p.returncode, p.stdout.startswith(b"    (0.00/100%)\r"),
                            p.stdout.split(b"\r")[-2:]))
            check("progress " + name, res[0] == res[1], "qemu-img %r\nkite-img %r" % tuple(res))
    finally:
        os.chdir(cwd)


def sparse_and_odd_sizes(K, d, check):
    """convert leaves zero blocks unallocated (qcow2: whole clusters, raw: 4k holes) as
    qemu-img does; sizes that are not whole 512-byte sectors are rounded up on create and
    convert, so QEMU (which reads qcow2 sizes in sectors) sees every byte."""
    src = os.path.join(d, "odd.raw")
    data = bytearray(os.urandom(5000001))
    data[100000:3000000] = bytes(2900000)                    # zeroes, not a hole
    open(src, "wb").write(data)
    for fmt, opts in (("qcow2", []), ("qcow2", ["-o", "cluster_size=4k"]), ("raw", [])):
        sizes = []
        for tool in ("qemu-img", K):
            dst = os.path.join(d, "odd-out." + fmt)
            if os.path.exists(dst):
                os.unlink(dst)
            p = run(tool, "convert", "-f", "raw", "-O", fmt, *opts, src, dst)
            c = run("qemu-img", "compare", "-f", "raw", "-F", fmt, src, dst)
            info = run("qemu-img", "info", "--output=json", "-f", fmt, dst).stdout
            vs = [ln.strip() for ln in info.splitlines() if "virtual-size" in ln]
            sizes.append((p.returncode, c.returncode, vs, os.stat(dst).st_blocks // 8))
        # Allocated 4k blocks within 10% of qemu-img's (metadata placement differs).
        q, k = sizes
        check("convert zero blocks %s %s" % (fmt, " ".join(opts)),
              q[:3] == k[:3] and abs(q[3] - k[3]) <= max(16, q[3] // 10),
              "qemu-img %r, kite-img %r" % (q, k))
    for fmt in ("qcow2", "raw"):
        vs = []
        for tool in ("qemu-img", K):
            f = os.path.join(d, "odd-new." + fmt)
            run(tool, "create", "-q", "-f", fmt, f, "100001")
            vs.append(run("qemu-img", "info", "--output=json", "-f", fmt, f).stdout
                      .split('"virtual-size": ')[1].split(",")[0])
            os.unlink(f)
        check("create odd size " + fmt, vs[0] == vs[1], "qemu-img %s, kite-img %s" % tuple(vs))


def deep_chain(K, d, check):
    """A three-level chain qemu-img/qemu-io build: a compressed 4k-cluster base, a 64k
    middle with data, zero writes and a discard, a 512-byte-cluster top; kite-img reads the
    same bytes as qemu-img and maps the top the same."""
    if not shutil.which("qemu-io"):
        return
    cwd = os.getcwd()
    os.chdir(d)
    try:
        steps = [["qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=4k",
                  "l0.qcow2", "8M"],
                 ["qemu-io", "-c", "write -P 1 0 8M", "l0.qcow2"],
                 ["qemu-img", "convert", "-c", "-O", "qcow2", "l0.qcow2", "l0c.qcow2"],
                 ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "l0c.qcow2", "-F", "qcow2",
                  "l1.qcow2"],
                 ["qemu-io", "-c", "write -P 2 1M 100k", "-c", "write -z 3M 1M",
                  "-c", "discard 5M 64k", "l1.qcow2"],
                 ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "l1.qcow2", "-F", "qcow2",
                  "-o", "cluster_size=512", "l2.qcow2"],
                 ["qemu-io", "-c", "write -P 3 4000 3000", "-c", "write -z 6M 8k",
                  "-c", "write -P 4 7M 512", "l2.qcow2"],
                 ["qemu-img", "convert", "-O", "raw", "l2.qcow2", "lq.raw"]]
        for st in steps:
            run(*st)
        p = run(K, "convert", "-O", "raw", "l2.qcow2", "lk.raw")
        same = p.returncode == 0 and open("lk.raw", "rb").read() == open("lq.raw", "rb").read()
        check("three-level chain read", same, p.stderr)
        k = run(K, "map", "--output=json", "l2.qcow2")
        q = run("qemu-img", "map", "--output=json", "l2.qcow2")
        check("three-level chain map", (k.returncode, k.stdout) == (q.returncode, q.stdout),
              "kite-img:\n%s%s\nqemu-img:\n%s" % (k.stdout, k.stderr, q.stdout))
    finally:
        os.chdir(cwd)


def create_output(K, d, check):
    """kite-img create prints qemu-img's "Formatting" line (every option with a default, in
    QEMU's order) and its errors, with the same exit status."""
    cwd = os.getcwd()
    os.chdir(d)
    run("qemu-img", "create", "-q", "-f", "qcow2", "cbase.qcow2", "3M")
    cases = [["-f", "qcow2", "c.qcow2", "10M"],
             ["-f", "qcow2", "-o", "cluster_size=4k,lazy_refcounts=on,refcount_bits=8,"
              "compat=1.1,preallocation=off", "c.qcow2", "1G"],
             ["-f", "qcow2", "-o", "compat=0.10", "c.qcow2", "1.5G"],
             ["-f", "qcow2", "-b", "cbase.qcow2", "-F", "qcow2", "c.qcow2"],
             ["-f", "qcow2", "-o", "backing_file=cbase.qcow2,backing_fmt=qcow2", "c.qcow2",
              "5M"],
             ["-f", "qcow2", "-b", "cbase.qcow2", "c.qcow2"],
             ["-f", "qcow2", "-b", "nonexistent", "-F", "qcow2", "c.qcow2", "1M"],
             ["-f", "raw", "c.raw", "1M"],
             ["-f", "raw", "-o", "preallocation=off", "c.raw", "64k"],
             ["-f", "raw", "c.raw"],
             ["-f", "qcow2", "-o", "colour=red", "c.qcow2", "1M"],
             ["-q", "-f", "qcow2", "c.qcow2", "1M"]]
    try:
        for argv in cases:
            out = []
            for tool in ("qemu-img", K):
                for f in ("c.qcow2", "c.raw"):
                    if os.path.exists(f):
                        os.unlink(f)
                p = run(tool, "create", *argv)
                out.append((p.returncode, p.stdout,
                            p.stderr.replace(os.path.basename(tool) + ":", "PROG:")))
            check("create " + " ".join(argv), out[0] == out[1],
                  "qemu-img %r\nkite-img %r" % (out[0], out[1]))
    finally:
        os.chdir(cwd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite-img", required=True)
    a = ap.parse_args()
    K = os.path.abspath(a.kite_img)
    if not shutil.which("qemu-img"):
        print("SKIP: qemu-img not installed")
        return 77
    d = tempfile.mkdtemp(prefix="kite-img-")
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
        passed, failed = passed + ok, failed + (not ok)

    raw = os.path.join(d, "src.raw")
    data = bytearray(os.urandom(3 << 20))
    data[1 << 20:(1 << 20) + 300000] = bytes(300000)
    data[2 << 20:(2 << 20) + 65536] = b"kite" * 16384       # compressible
    open(raw, "wb").write(data)
    for opt in ([], ["-c"]):
        q = os.path.join(d, "k%s.qcow2" % ("c" if opt else ""))
        p = run(K, "convert", *opt, "-f", "raw", "-O", "qcow2", raw, q)
        check("convert%s" % " ".join(opt), p.returncode == 0, p.stderr)
        p = run("qemu-img", "check", q)
        check("qemu-img check%s" % " ".join(opt), p.returncode == 0, p.stdout + p.stderr)
        p = run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, q)
        check("qemu-img compare%s" % " ".join(opt), p.returncode == 0, p.stdout + p.stderr)
    # qemu-img's images back through kite-img.
    for opt in ([], ["-c"]):
        q = os.path.join(d, "q.qcow2")
        out = os.path.join(d, "back.raw")
        run("qemu-img", "convert", *opt, "-f", "raw", "-O", "qcow2", raw, q)
        p = run(K, "convert", "-f", "qcow2", "-O", "raw", q, out)
        check("read qemu image%s" % " ".join(opt),
              p.returncode == 0 and open(out, "rb").read() == bytes(data), p.stderr)
    # info, check with a leak, resize.
    q = os.path.join(d, "k.qcow2")
    p = run(K, "info", "--output=json", q)
    check("info json", '"virtual-size": %d' % len(data) in p.stdout and
          '"format": "qcow2"' in p.stdout, p.stdout + p.stderr)
    p = run(K, "check", q)
    check("check clean", p.returncode == 0 and "No errors" in p.stdout, p.stdout + p.stderr)
    p = run(K, "resize", q, "+1M")
    i = run("qemu-img", "info", "--output=json", q).stdout
    check("resize", p.returncode == 0 and '"virtual-size": %d' % (len(data) + (1 << 20)) in i,
          p.stderr + i)
    map_compare_snapshot(K, d, check)
    create_output(K, d, check)
    check_damaged(K, d, check)
    resize_progress(K, d, check)
    sparse_and_odd_sizes(K, d, check)
    deep_chain(K, d, check)
    # Malformed: each must fail with exit 1 and an error line, never a crash.
    good = open(os.path.join(d, "k.qcow2"), "rb").read()

    def bad(name, mutate, want):
        b = bytearray(good)
        b = mutate(b)
        f = os.path.join(d, "bad-%s.qcow2" % name)
        open(f, "wb").write(b)
        p = run(K, "info", "-f", "qcow2", f)
        check("malformed " + name, p.returncode == 1 and want in p.stderr,
              "rc=%d %s" % (p.returncode, p.stderr))

    bad("truncated", lambda b: b[:50], "truncated")
    bad("l1-beyond-eof", lambda b: b[:40] + struct.pack(">Q", 1 << 40) + b[48:], "beyond the end")
    bad("cluster-bits", lambda b: b[:20] + struct.pack(">I", 30) + b[24:], "cluster size")
    bad("huge-l1", lambda b: b[:36] + struct.pack(">I", 1 << 30) + b[40:], "L1 table too large")
    bad("refcount-order", lambda b: b[:96] + struct.pack(">I", 9) + b[100:], "Refcount width")
    bad("l1-in-header", lambda b: b[:40] + struct.pack(">Q", 0) + b[48:], "header")
    shutil.rmtree(d)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
