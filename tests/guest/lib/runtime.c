/*
 * Kite guest test runtime: start-up, verdicts and the multiboot command line.
 *
 * Serial output format (README.rst "Serial output"):
 *     == kite-guest <name> (<arch>) cmdline="<...>"
 *     ok: <message>
 *     FAIL: <message> [<file>:<line>]
 *     SKIP: <message>
 *     == PASS <name> (<n> checks)      or   == FAIL <name> (<k> of <n> checks failed)
 * and the verdict goes to isa-debug-exit (DEBUG_EXIT_PORT).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

void console_flush(void);
void runtime_start(uint32_t magic, uint32_t mbi_addr);

/* Multiboot information structure (Multiboot Specification 0.6.96, 3.3). */
#define MBI_FLAG_MEM     (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MODS    (1u << 3)
typedef struct MultibootInfo {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;      /* KiB below 640 KiB and above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;                   /* physical address of a C string */
    uint32_t mods_count, mods_addr;     /* module list: start, end, string, reserved */
} MultibootInfo;

uint32_t multiboot_mod_start, multiboot_mod_end;

static char cmdline_buf[512];
static uint32_t mem_upper_kib;
static volatile uint32_t n_checks, n_failed;

/* ---- verdicts ---- */

NORETURN void test_exit(uint32_t code)
{
    console_flush();
    outl(DEBUG_EXIT_PORT, code);
    /* Still running: there is no isa-debug-exit at DEBUG_EXIT_PORT. */
    printf("== isa-debug-exit at port 0x%x did not stop the machine\n", DEBUG_EXIT_PORT);
    for (;;) {
        cli();
        hlt();
    }
}

unsigned test_failures(void)
{
    return n_failed;
}

NORETURN void test_done(void)
{
    if (n_failed) {
        printf("== FAIL %s (%u of %u checks failed)\n", TEST_NAME, n_failed, n_checks);
        test_exit(EXIT_CODE_FAIL);
    }
    printf("== PASS %s (%u checks)\n", TEST_NAME, n_checks);
    test_exit(EXIT_CODE_PASS);
}

NORETURN void test_fail(const char *fmt, ...)
{
    va_list ap;
    printf("FAIL: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n== FAIL %s (aborted)\n", TEST_NAME);
    test_exit(EXIT_CODE_FAIL);
}

bool check_impl(bool ok, const char *file, int line, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    atomic_inc32(&n_checks);
    if (ok) {
        printf("ok: %s\n", msg);
    } else {
        atomic_inc32(&n_failed);
        printf("FAIL: %s [%s:%d]\n", msg, file, line);
    }
    return ok;
}

bool check_eq_impl(uint64_t got, uint64_t want, const char *file, int line,
                   const char *what)
{
    if (got == want) {
        return check_impl(true, file, line, "%s = 0x%llx", what,
                          (unsigned long long)got);
    }
    return check_impl(false, file, line, "%s = 0x%llx, expected 0x%llx", what,
                      (unsigned long long)got, (unsigned long long)want);
}

void test_skip(const char *fmt, ...)
{
    va_list ap;
    printf("SKIP: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* ---- command line ---- */

const char *cmdline(void)
{
    return cmdline_buf;
}

uint32_t multiboot_mem_upper_kib(void)
{
    return mem_upper_kib;
}

/* Looks for "key=value" as a whitespace-separated word.  QEMU passes the
 * kernel's file name as the first word, which never contains '='. */
bool cmdline_get(const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    const char *p = cmdline_buf;

    while (*p) {
        while (*p == ' ') {
            p++;
        }
        const char *word = p;
        while (*p && *p != ' ') {
            p++;
        }
        if ((size_t)(p - word) > klen && !strncmp(word, key, klen) && word[klen] == '=') {
            size_t n = p - (word + klen + 1);
            if (n >= size) {
                n = size - 1;
            }
            memcpy(buf, word + klen + 1, n);
            buf[n] = '\0';
            return true;
        }
    }
    return false;
}

uint64_t cmdline_get_uint(const char *key, uint64_t dflt)
{
    char buf[32];
    if (!cmdline_get(key, buf, sizeof(buf)) || !buf[0]) {
        return dflt;
    }
    uint64_t v = 0;
    const char *p = buf;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; *p; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9') {
            d = *p - '0';
        } else if (base == 16 && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
            d = (*p | 0x20) - 'a' + 10;
        } else {
            return dflt;
        }
        v = v * base + d;
    }
    return v;
}

bool accel_is_kvm(void)
{
    char buf[8];
    return cmdline_get("accel", buf, sizeof(buf)) && !strcmp(buf, "kvm");
}

/* ---- start-up ---- */

void runtime_start(uint32_t magic, uint32_t mbi_addr)
{
    console_init();

    /* Copy what we need out of the multiboot info first: it sits in low
     * memory (QEMU puts it at 0x9000) that tests may reuse. */
    if (magic == MB_BOOT_MAGIC) {
        const MultibootInfo *mbi = (const MultibootInfo *)(uintptr_t)mbi_addr;
        if (mbi->flags & MBI_FLAG_MEM) {
            mem_upper_kib = mbi->mem_upper;
        }
        if ((mbi->flags & MBI_FLAG_MODS) && mbi->mods_count) {
            const uint32_t *mod = (const uint32_t *)(uintptr_t)mbi->mods_addr;
            multiboot_mod_start = mod[0];
            multiboot_mod_end = mod[1];
        }
        if (mbi->flags & MBI_FLAG_CMDLINE) {
            const char *s = (const char *)(uintptr_t)mbi->cmdline;
            size_t i;
            for (i = 0; i + 1 < sizeof(cmdline_buf) && s[i]; i++) {
                cmdline_buf[i] = s[i];
            }
            cmdline_buf[i] = '\0';
        }
    }
    printf("== kite-guest %s (%s) cmdline=\"%s\"\n", TEST_NAME, GUEST_ARCH, cmdline_buf);
    if (magic != MB_BOOT_MAGIC) {
        test_fail("entered with EAX = 0x%x, expected the multiboot magic 0x%x",
                  magic, MB_BOOT_MAGIC);
    }

    idt_init();
    /* The BIOS leaves the 8259s at vectors 0x08/0x70 with some lines
     * unmasked; move them off the exception vectors and mask everything,
     * so a stray IRQ cannot look like an exception. */
    pic_init(PIC_MASTER_BASE, PIC_SLAVE_BASE);
    time_init();

    test_main();
    test_done();
}
