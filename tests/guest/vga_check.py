#!/usr/bin/env python3
"""Run the vga guest kernel in each mode with isa-vga's dump-ppm and compare every pixel of
the dump with the pattern the kernel draws (same functions as tests/guest/vga.c).

    vga_check.py --emulator build/kite --kernel build/tests/guest/vga.elf [--accel tcg]
"""
import argparse, os, subprocess, sys, tempfile


def dac6(v):
    return (v << 2) | (v >> 4)


def expect_text():
    glyph = lambda c, l: (c * 7 + l * 29 + 1) & 0xff
    pal = [(dac6(i * 4), dac6(63 - i * 4), dac6((i * 7) & 63)) for i in range(16)]
    w, h = 720, 400
    img = bytearray(w * h * 3)
    for i in range(80 * 25):
        r, c = divmod(i, 80)
        ch, attr = i & 0xff, (i * 13 + i // 80) & 0x7f
        fg, bg = pal[attr & 15], pal[attr >> 4]
        for l in range(16):
            bits = glyph(ch, l)
            # 9th dot repeats the 8th for C0h-DFh (AR10 bit 2), else background.
            row = [(bits >> (7 - x)) & 1 for x in range(8)]
            row.append(row[7] if 0xc0 <= ch <= 0xdf else 0)
            off = ((r * 16 + l) * w + c * 9) * 3
            for x, on in enumerate(row):
                img[off + x * 3: off + x * 3 + 3] = bytes(fg if on else bg)
    return w, h, bytes(img)


def expect_13h():
    pal = [(dac6(i & 63), dac6((i >> 2) & 63), dac6((i * 5) & 63)) for i in range(256)]
    return 320, 200, b''.join(bytes(pal[(x + 2 * y) & 0xff])
                              for y in range(200) for x in range(320))


def expect_lfb():
    return 1024, 768, b''.join(bytes(((x * 3) & 255, (y * 5) & 255, (x ^ y) & 255))
                               for y in range(768) for x in range(1024))


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    parts = data.split(b'\n', 3)
    assert parts[0] == b'P6', 'not a P6 PPM'
    w, h = map(int, parts[1].split())
    return w, h, parts[3]


def run(args, mode, tmp):
    dump = os.path.join(tmp, mode + '.ppm')
    cmd = [args.emulator, '-M', 'pc', '-m', '128', '-nodefaults', '-serial', 'stdio',
           '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-display', 'none',
           '-device', 'isa-vga,dump-ppm=' + dump, '-accel', args.accel, '-no-reboot',
           '-kernel', args.kernel, '-append', 'mode=%s accel=%s' % (mode, args.accel)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=args.timeout)
    if p.returncode != 33:
        return 'exit status %d, output:\n%s' % (p.returncode, p.stdout.decode(errors='replace'))
    want = {'text': expect_text, '13h': expect_13h, 'lfb': expect_lfb}[mode]()
    got = read_ppm(dump)
    if got[:2] != want[:2]:
        return 'screen is %dx%d, want %dx%d' % (got[0], got[1], want[0], want[1])
    if got[2] != want[2]:
        n = next(i for i in range(len(want[2])) if got[2][i] != want[2][i]) // 3
        return 'pixel (%d,%d) differs' % (n % want[0], n // want[0])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--emulator', required=True)
    ap.add_argument('--kernel', required=True)
    ap.add_argument('--accel', default='tcg')
    ap.add_argument('--timeout', type=int, default=120)
    ap.add_argument('--modes', default='text,13h,lfb')
    args = ap.parse_args()
    if args.accel == 'kvm' and not os.access('/dev/kvm', os.R_OK | os.W_OK):
        print('SKIP: no /dev/kvm')
        return 77
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(','):
            err = run(args, mode, tmp)
            print('%s vga-%s (%s)%s' % ('FAIL' if err else 'PASS', mode, args.accel,
                                        ': ' + err if err else ''))
            failed += bool(err)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
