/*
 * pio-loop: a port I/O exit benchmark.  Not a correctness test.
 *
 * Executes "count" (default 100000) single-byte INs from "port" (default
 * 0x80, the POST diagnostic port every PC decodes), or OUTs with "op=out",
 * with nothing printed inside the loop.  The benchmark script measures the
 * wall time of the whole run and subtracts the hello kernel's; the kernel
 * also prints its own PIT-timed figure.  Command line: count=N port=0xNN
 * op=in|out.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

void test_main(void)
{
    uint32_t count = (uint32_t)cmdline_get_uint("count", 100000);
    uint16_t port = (uint16_t)cmdline_get_uint("port", 0x80);
    char op[8] = "in";
    cmdline_get("op", op, sizeof(op));
    bool out = !strcmp(op, "out");

    uint64_t t0 = time_us();
    /* time_us() is not polled in the loop (that would add PIT exits), so
     * the PIT count may wrap unseen: the printed time is only a hint when
     * the loop takes longer than 55 ms.  Wall time is the real measure. */
    if (out) {
        for (uint32_t i = 0; i < count; i++) {
            outb(port, (uint8_t)i);
        }
    } else {
        uint8_t acc = 0;
        for (uint32_t i = 0; i < count; i++) {
            acc ^= inb(port);
        }
        barrier();
        (void)acc;
    }
    uint64_t t1 = time_us();
    printf("pio-loop: %u %s of port 0x%x done (PIT says %u us if under 55 ms)\n", count,
           out ? "OUTs" : "INs", port, (unsigned)(t1 - t0));
}
