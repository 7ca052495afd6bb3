/*
 * QEMU-style option string parser and size/bool parsing.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/opts.h"
#include "kite/cutils.h"

static void test_parse_basic(void)
{
    g_autoptr(KiteOpts) o = kite_opts_parse("socket,id=c0,path=/tmp/a,,b,server,nowait",
                                            "backend", &error_abort);
    Error *err = NULL;
    bool b = false;

    g_assert_cmpstr(kite_opts_get(o, "backend"), ==, "socket");
    g_assert_cmpstr(kite_opts_get(o, "id"), ==, "c0");
    g_assert_cmpstr(kite_opts_get(o, "path"), ==, "/tmp/a,b");
    g_assert_true(kite_opts_get_bool(o, "server", &b, &error_abort) && b);
    g_assert_true(kite_opts_get_bool(o, "wait", &b, &error_abort) && !b);
    g_assert_true(kite_opts_check_unused(o, "-chardev", &error_abort));
    kite_opts_set(o, "extra", "1");
    g_assert_false(kite_opts_check_unused(o, "-chardev", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'extra'"));
    error_free(err);
}

static void test_parse_values(void)
{
    g_autoptr(KiteOpts) o = kite_opts_parse("size=64M,n=0x10,flag=maybe,n=7,empty=", NULL,
                                            &error_abort);
    uint64_t v = 0;
    bool b;
    Error *err = NULL;

    g_assert_true(kite_opts_get_size(o, "size", 1, &v, &error_abort));
    g_assert_cmpuint(v, ==, 64 * MiB);
    g_assert_true(kite_opts_get_uint(o, "n", &v, &error_abort));
    g_assert_cmpuint(v, ==, 7);   /* the last value wins */
    g_assert_false(kite_opts_get_bool(o, "flag", &b, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'flag'"));
    error_free(err);
    g_assert_cmpstr(kite_opts_get(o, "empty"), ==, "");
    v = 99;
    g_assert_true(kite_opts_get_uint(o, "absent", &v, &error_abort));
    g_assert_cmpuint(v, ==, 99);
}

static void test_parse_errors(void)
{
    Error *err = NULL;

    g_assert_null(kite_opts_parse("a=1,=2", NULL, &err));
    error_free(err);
    err = NULL;
    g_assert_null(kite_opts_parse(",a=1", NULL, &err));
    error_free(err);
}

static void test_to_string(void)
{
    g_autoptr(KiteOpts) o = kite_opts_parse("driver=x,path=a,,b", NULL, &error_abort);
    g_autofree char *s = kite_opts_to_string(o);

    g_assert_cmpstr(s, ==, "driver=x,path=a,,b");
}

static void test_sizes(void)
{
    uint64_t v;

    g_assert_true(parse_size("128", MiB, &v));
    g_assert_cmpuint(v, ==, 128 * MiB);
    g_assert_true(parse_size("2G", MiB, &v));
    g_assert_cmpuint(v, ==, 2 * GiB);
    g_assert_true(parse_size("4k", 1, &v));
    g_assert_cmpuint(v, ==, 4096);
    g_assert_true(parse_size("0.5M", 1, &v));
    g_assert_cmpuint(v, ==, 512 * KiB);
    g_assert_true(parse_size("0x1000", 1, &v));
    g_assert_cmpuint(v, ==, 4096);
    g_assert_false(parse_size("", 1, &v));
    g_assert_false(parse_size("12Q", 1, &v));
    g_assert_false(parse_size("-1", 1, &v));
    g_assert_false(parse_size("1MB", 1, &v));
    g_assert_false(parse_size("99999999999999999999", 1, &v));
    g_assert_false(parse_size("16E", 1, &v));
    g_assert_false(parse_size("0.3B", 1, &v));
}

static void test_bools(void)
{
    bool b;

    g_assert_true(parse_bool("on", &b) && b);
    g_assert_true(parse_bool("yes", &b) && b);
    g_assert_true(parse_bool("off", &b) && !b);
    g_assert_true(parse_bool("false", &b) && !b);
    g_assert_false(parse_bool("1", &b));
    g_assert_false(parse_bool("", &b));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/opts/parse-basic", test_parse_basic);
    g_test_add_func("/opts/parse-values", test_parse_values);
    g_test_add_func("/opts/parse-errors", test_parse_errors);
    g_test_add_func("/opts/to-string", test_to_string);
    g_test_add_func("/opts/sizes", test_sizes);
    g_test_add_func("/opts/bools", test_bools);
    return g_test_run();
}
