/*
 * String-to-number helpers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/cutils.h"
#include <math.h>

bool parse_uint64(const char *s, uint64_t *val)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || g_ascii_isspace(*s) || *s == '-' || *s == '+') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end) {
        return false;
    }
    *val = v;
    return true;
}

bool parse_int64(const char *s, int64_t *val)
{
    char *end;
    long long v;

    if (!s || !*s || g_ascii_isspace(*s)) {
        return false;
    }
    errno = 0;
    v = strtoll(s, &end, 0);
    if (errno || *end) {
        return false;
    }
    *val = v;
    return true;
}

static int suffix_shift(char c)
{
    switch (g_ascii_toupper(c)) {
    case 'B': return 0;
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
    case 'P': return 50;
    case 'E': return 60;
    default: return -1;
    }
}

bool parse_size(const char *s, uint64_t default_unit, uint64_t *val)
{
    const char *p = s;
    const char *digits_end;
    uint64_t whole = 0, mult;
    double frac = 0;
    int shift;

    if (!s || !g_ascii_isdigit(*p)) {
        return false;
    }
    /* Hex sizes ("0x1000") take no suffix. */
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        return parse_uint64(s, val);
    }
    while (g_ascii_isdigit(*p)) {
        unsigned d = *p - '0';
        if (whole > (UINT64_MAX - d) / 10) {
            return false;
        }
        whole = whole * 10 + d;
        p++;
    }
    if (*p == '.') {
        const char *f = ++p;
        double scale = 0.1;
        if (!g_ascii_isdigit(*p)) {
            return false;
        }
        while (g_ascii_isdigit(*p)) {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
        (void)f;
    }
    digits_end = p;
    if (*p == '\0') {
        mult = default_unit;
    } else {
        shift = suffix_shift(*p);
        if (shift < 0 || p[1] != '\0') {
            return false;
        }
        mult = 1ULL << shift;
    }
    (void)digits_end;
    if (whole > UINT64_MAX / mult) {
        return false;
    }
    if (frac != 0) {
        double extra = frac * (double)mult;
        if (extra != floor(extra) || whole * mult > UINT64_MAX - (uint64_t)extra) {
            return false;
        }
        *val = whole * mult + (uint64_t)extra;
    } else {
        *val = whole * mult;
    }
    return true;
}

bool parse_bool(const char *s, bool *val)
{
    static const char *const yes[] = { "on", "yes", "true", "y", NULL };
    static const char *const no[] = { "off", "no", "false", "n", NULL };

    for (int i = 0; yes[i]; i++) {
        if (!strcmp(s, yes[i])) {
            *val = true;
            return true;
        }
    }
    for (int i = 0; no[i]; i++) {
        if (!strcmp(s, no[i])) {
            *val = false;
            return true;
        }
    }
    return false;
}

char *size_to_str(uint64_t size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = 0;
    double v = size;

    while (v >= 1024 && i < 6) {
        v /= 1024;
        i++;
    }
    if (v == floor(v)) {
        return g_strdup_printf("%.0f %s", v, units[i]);
    }
    return g_strdup_printf("%.3g %s", v, units[i]);
}
