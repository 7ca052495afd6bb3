/*
 * The human monitor's parser, expression evaluator, completion and output formats, through
 * plain strings (hmp_parse_args, hmp_eval_expr) and capture monitors (no chardev, no VM).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "monitor/hmp.h"
#include "kite/main-loop.h"
#include "ui/input.h"

static int64_t eval(const char *s)
{
    const char *p = s;
    int64_t v = 0;
    Error *err = NULL;

    g_assert_true(hmp_eval_expr(&p, &v, &err));
    g_assert_null(err);
    g_assert_cmpint(*p, ==, 0);
    return v;
}

static char *eval_error(const char *s)
{
    const char *p = s;
    int64_t v = 0;
    Error *err = NULL;
    char *msg;

    g_assert_false(hmp_eval_expr(&p, &v, &err));
    g_assert_nonnull(err);
    msg = g_strdup(error_get_pretty(err));
    error_free(err);
    return msg;
}

static void test_expr(void)
{
    g_assert_cmpint(eval("0x100"), ==, 0x100);
    g_assert_cmpint(eval("010"), ==, 8);
    g_assert_cmpint(eval("1+2*3"), ==, 7);
    g_assert_cmpint(eval(" (1 + 2) * 3 "), ==, 9);
    g_assert_cmpint(eval("-1"), ==, -1);
    g_assert_cmpint(eval("~0"), ==, -1);
    g_assert_cmpint(eval("0xff & 0x0f | 0x100 ^ 1"), ==, 0x10f);
    g_assert_cmpint(eval("17 % 5 - 10 / 3"), ==, -1);
    g_assert_cmpint(eval("'A'"), ==, 65);
    g_assert_cmpint(eval("0xffffffffffffffff"), ==, -1);
    g_assert_cmpint(eval("0x8000000000000000 / -1"), ==, INT64_MIN);
    g_assert_cmpint(eval("0x8000000000000000 % -1"), ==, 0);
    g_autofree char *e1 = eval_error("");
    g_assert_cmpstr(e1, ==, "unexpected end of expression");
    g_autofree char *e2 = eval_error("1/0");
    g_assert_cmpstr(e2, ==, "division by zero");
    g_autofree char *e3 = eval_error("(1+2");
    g_assert_cmpstr(e3, ==, "')' expected");
    g_autofree char *e4 = eval_error("0x1g");
    g_assert_cmpstr(e4, ==, "invalid number");
    g_autofree char *e5 = eval_error("0x10000000000000000");
    g_assert_cmpstr(e5, ==, "number too large");
    g_autofree char *e6 = eval_error("$nosuchreg");
    g_assert_cmpstr(e6, ==, "unknown register");
    g_autofree char *e7 = eval_error("#");
    g_assert_cmpstr(e7, ==, "invalid char '#' in expression");
    /* Nesting is bounded: human-monitor-command lines can be megabytes long. */
    {
        g_autofree char *open = g_strnfill(200, '(');
        g_autofree char *close = g_strnfill(200, ')');
        g_autofree char *s = g_strconcat(open, "5", close, NULL);
        g_autofree char *deep_open = g_strnfill(1000000, '(');
        g_autofree char *minus = g_strnfill(1000000, '-');
        g_autofree char *e8 = NULL, *e9 = NULL;
        g_assert_cmpint(eval(s), ==, 5);
        g_assert_cmpint(eval("--5"), ==, 5);
        e8 = eval_error(deep_open);
        g_assert_cmpstr(e8, ==, "expression too deeply nested");
        e9 = eval_error(minus);
        g_assert_cmpstr(e9, ==, "expression too deeply nested");
    }
}

static void noop(HmpMonitor *mon, HmpArg *a)
{
}

static const HmpCommand test_cmds[] = {
    { "dump|d", "fmt:/,addr:l,len:i?", "", "", noop },
    { "name", "flag:-a?,opt:-fs?,word:s,rest:S?", "", "", noop },
    { "file", "filename:F", "", "", noop },
    { NULL },
};

static void test_parse(void)
{
    HmpArg a[HMP_MAX_ARGS];
    const HmpCommand *dump = hmp_find_command(test_cmds, "dump");
    const HmpCommand *name = hmp_find_command(test_cmds, "name");
    Error *err = NULL;

    g_assert_true(hmp_find_command(test_cmds, "d") == dump);
    g_assert_null(hmp_find_command(test_cmds, "du"));

    g_assert_true(hmp_parse_args(dump, " /10xg 0x1000+8", a, &err));
    g_assert_true(a[0].present);
    g_assert_cmpint(a[0].count, ==, 10);
    g_assert_cmpint(a[0].format, ==, 'x');
    g_assert_cmpint(a[0].size, ==, 8);
    g_assert_cmpint(a[1].num, ==, 0x1008);
    g_assert_false(a[2].present);
    hmp_free_args(a);

    /* No format: count 1, format and size left to the command. */
    g_assert_true(hmp_parse_args(dump, "16 3", a, &err));
    g_assert_false(a[0].present);
    g_assert_cmpint(a[0].count, ==, 1);
    g_assert_cmpint(a[0].format, ==, 0);
    g_assert_cmpint(a[1].num, ==, 16);
    g_assert_cmpint(a[2].num, ==, 3);
    hmp_free_args(a);

    /* Size before format, format letters alone. */
    g_assert_true(hmp_parse_args(dump, "/bc 0", a, &err));
    g_assert_cmpint(a[0].format, ==, 'c');
    g_assert_cmpint(a[0].size, ==, 1);
    hmp_free_args(a);

    g_assert_false(hmp_parse_args(dump, "/4q 0", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "invalid char in format: 'q'");
    g_clear_pointer(&err, error_free);
    g_assert_false(hmp_parse_args(dump, "/4x", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "unexpected end of expression");
    g_clear_pointer(&err, error_free);
    g_assert_false(hmp_parse_args(dump, "0 0x100000000", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "integer is for 32-bit values");
    g_clear_pointer(&err, error_free);
    g_assert_false(hmp_parse_args(dump, "/99999999 0", a, &err));
    g_clear_pointer(&err, error_free);

    /* Flags, a flag with a value, a quoted word, the rest of the line. */
    g_assert_true(hmp_parse_args(name, "-a -f png \"two words\" and the rest", a, &err));
    g_assert_true(a[0].present);
    g_assert_cmpstr(a[1].str, ==, "png");
    g_assert_cmpstr(a[2].str, ==, "two words");
    g_assert_cmpstr(a[3].str, ==, "and the rest");
    hmp_free_args(a);
    g_assert_true(hmp_parse_args(name, "-abc", a, &err));
    g_assert_false(a[0].present);
    g_assert_cmpstr(a[2].str, ==, "-abc");
    g_assert_false(a[3].present);
    hmp_free_args(a);
    g_assert_true(hmp_parse_args(name, "\"q\\\"uote\\\\\"", a, &err));
    g_assert_cmpstr(a[2].str, ==, "q\"uote\\");
    hmp_free_args(a);
    g_assert_false(hmp_parse_args(name, "-f", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "name: missing value for '-f'");
    g_clear_pointer(&err, error_free);
    g_assert_false(hmp_parse_args(name, "\"open", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "unterminated string");
    g_clear_pointer(&err, error_free);
    g_assert_false(hmp_parse_args(name, "", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "name: string expected");
    g_clear_pointer(&err, error_free);

    g_assert_false(hmp_parse_args(hmp_find_command(test_cmds, "file"), "a b", a, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "file: extraneous characters at the end of line");
    g_clear_pointer(&err, error_free);
}

static char *run(const char *cmd)
{
    Error *err = NULL;
    char *out = hmp_run_command_capture(cmd, -1, &err);

    g_assert_null(err);
    return out;
}

static void test_commands(void)
{
    g_autofree char *o1 = run("foo bar");
    g_assert_cmpstr(o1, ==, "unknown command: 'foo'\r\n");
    g_autofree char *o2 = run("info nosuch");
    g_assert_cmpstr(o2, ==, "unknown command: 'info nosuch'\r\n");
    g_autofree char *o3 = run("xp");
    g_assert_cmpstr(o3, ==, "unexpected end of expression\r\nTry \"help xp\" for more information\r\n");
    g_autofree char *o4 = run("print 1+2*3");
    g_assert_cmpstr(o4, ==, "0x7\r\n");
    g_autofree char *o5 = run("p /d -5");
    g_assert_cmpstr(o5, ==, "-5\r\n");
    g_autofree char *o6 = run("p /o 8");
    g_assert_cmpstr(o6, ==, "010\r\n");
    g_autofree char *o7 = run("p /c 10");
    g_assert_cmpstr(o7, ==, "'\\n'\r\n");
    g_autofree char *o8 = run("p /u -1");
    g_assert_cmpstr(o8, ==, "18446744073709551615\r\n");
    g_autofree char *o9 = run("p /i 0");
    g_assert_cmpstr(o9, ==, "0\r\n");        /* QEMU: print /i is a signed decimal */
    g_autofree char *o9b = run("p /i -5");
    g_assert_cmpstr(o9b, ==, "-5\r\n");
    g_autofree char *o10 = run("help info");
    g_assert_nonnull(strstr(o10, "info status  -- show the current VM status (running|paused)\r\n"));
    g_assert_nonnull(strstr(o10, "info registers [-a|vcpu] -- "));
    g_autofree char *o11 = run("help xp");
    g_assert_cmpstr(o11, ==, "xp /fmt addr -- physical memory dump starting at 'addr'\r\n");
    g_autofree char *o12 = run("help nosuch");
    g_assert_cmpstr(o12, ==, "unknown command: 'nosuch'\r\n");
    g_autofree char *o13 = run("info");
    g_assert_true(g_str_has_prefix(o13, "info block"));
    g_autofree char *o14 = run("info uuid");
    g_assert_cmpstr(o14, ==, "00000000-0000-0000-0000-000000000000\r\n");
    g_autofree char *o15 = run("sendkey ctrl-nosuchkey");
    g_assert_cmpstr(o15, ==, "invalid parameter: nosuchkey\r\n");
    g_autofree char *o15b = run("sendkey");
    g_assert_cmpstr(o15b, ==, "sendkey: string expected\r\nTry \"help sendkey\" for more "
                    "information\r\n");
    g_autofree char *o16 = run("   ");
    g_assert_cmpstr(o16, ==, "");
    g_autofree char *o17 = run("x/2xb");
    g_assert_true(g_str_has_prefix(o17, "unexpected end of expression"));
    g_autofree char *o18 = run("info registers");
    g_assert_cmpstr(o18, ==, "No CPU available\r\n");
    g_autofree char *o19 = run("x /4x 0");
    g_assert_cmpstr(o19, ==, "No CPU available\r\n");
    g_autofree char *o19b = run("xp /3i 0");
    g_assert_cmpstr(o19b, ==, "Can not dump without CPU\r\n");

    Error *err = NULL;
    g_assert_null(hmp_run_command_capture("info status", 5, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Parameter 'cpu-index' expects a CPU number");
    error_free(err);
}

static bool has(GPtrArray *a, const char *s)
{
    for (guint i = 0; i < a->len; i++) {
        if (!strcmp(a->pdata[i], s)) {
            return true;
        }
    }
    return false;
}

static void test_complete(void)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);

    hmp_complete("in", a);
    g_assert_true(has(a, "info"));
    g_assert_true(has(a, "xp"));
    g_assert_true(has(a, "p") && has(a, "print"));
    g_ptr_array_set_size(a, 0);
    hmp_complete("info ", a);
    g_assert_true(has(a, "status"));
    g_assert_true(has(a, "registers"));
    g_assert_false(has(a, "info"));
    g_ptr_array_set_size(a, 0);
    hmp_complete("  info   re", a);
    g_assert_true(has(a, "registers"));
    g_ptr_array_set_size(a, 0);
    hmp_complete("help ", a);
    g_assert_true(has(a, "sendkey"));
    g_ptr_array_set_size(a, 0);
    hmp_complete("xp /4x ", a);
    g_assert_cmpuint(a->len, ==, 0);
}

/* --- commands that feed the input layer --- */

static GString *input_log;

static void log_event(DeviceState *dev, const InputEvent *e)
{
    switch (e->kind) {
    case INPUT_EVENT_KIND_KEY:
        g_string_append_printf(input_log, "key %s %s;", input_qcode_name(e->key.qcode),
                               e->key.down ? "down" : "up");
        break;
    case INPUT_EVENT_KIND_BTN:
        g_string_append_printf(input_log, "btn %d %s;", e->btn.button,
                               e->btn.down ? "down" : "up");
        break;
    case INPUT_EVENT_KIND_REL:
        g_string_append_printf(input_log, "rel %d %" PRId64 ";", e->move.axis, e->move.value);
        break;
    default:
        break;
    }
}

static void log_sync(DeviceState *dev)
{
    g_string_append(input_log, "sync;");
}

static const InputHandler log_handler = {
    .name = "test", .event = log_event, .sync = log_sync,
    .mask = INPUT_EVENT_MASK_KEY | INPUT_EVENT_MASK_BTN | INPUT_EVENT_MASK_REL,
};

static bool input_has(const char *s)
{
    return strstr(input_log->str, s) != NULL;
}

static void test_input_commands(void)
{
    InputHandlerState *h;
    int64_t end;

    main_loop_init();
    input_log = g_string_new(NULL);
    h = input_handler_register(NULL, &log_handler);
    input_handler_activate(h);

    g_free(run("mouse_move 10 -5"));
    g_assert_cmpstr(input_log->str, ==, "rel 0 10;rel 1 -5;sync;");
    g_string_truncate(input_log, 0);
    g_free(run("mouse_move 0 0 1"));
    g_assert_true(input_has("btn 3 down;sync;btn 3 up;"));
    g_string_truncate(input_log, 0);
    g_free(run("mouse_move 0 0 -2"));
    g_assert_true(input_has("btn 4 down;sync;btn 4 up;"));
    g_string_truncate(input_log, 0);
    /* 1 = left, then left+right, then middle only. */
    g_free(run("mouse_button 1"));
    g_assert_cmpstr(input_log->str, ==, "btn 0 down;sync;");
    g_string_truncate(input_log, 0);
    g_free(run("mouse_button 3"));
    g_assert_cmpstr(input_log->str, ==, "btn 2 down;sync;");
    g_string_truncate(input_log, 0);
    g_free(run("mouse_button 4"));
    g_assert_cmpstr(input_log->str, ==, "btn 0 up;btn 2 up;btn 1 down;sync;");
    g_string_truncate(input_log, 0);
    g_free(run("mouse_button 0"));
    g_string_truncate(input_log, 0);
    {
        g_autofree char *o = run("mouse_move 1 x");
        g_assert_cmpstr(o, ==, "invalid number: 'x'\r\n");
        g_assert_cmpstr(input_log->str, ==, "");
    }

    /* sendkey: presses in order now, releases in reverse order after the hold time. */
    g_string_truncate(input_log, 0);
    g_free(run("sendkey ctrl-alt-delete 20"));
    g_assert_true(g_str_has_prefix(input_log->str,
                                   "key ctrl down;sync;key alt down;sync;key delete down;sync;"));
    g_assert_false(input_has("up"));
    end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!input_has("key ctrl up") && g_get_monotonic_time() < end) {
        main_loop_wait(false);
    }
    g_assert_true(g_str_has_suffix(input_log->str,
                                   "key delete up;sync;key alt up;sync;key ctrl up;sync;"));
    /* A raw XT code, and a second sendkey releasing the first one's keys at once. */
    g_string_truncate(input_log, 0);
    g_free(run("sendkey 0x1c 5000"));
    g_free(run("sendkey a"));
    g_assert_true(g_str_has_prefix(input_log->str,
                                   "key ret down;sync;key ret up;sync;key a down;sync;"));
    input_handler_unregister(h);
    g_string_free(input_log, true);
}

/* Random lines against every command's parameter list: errors, never a crash or a leak. */
static void parse_table_random(const HmpCommand *table, GRand *r)
{
    static const char *const tokens[] = {
        " ", "  ", "/", "/4", "/xg", "/10c", "/q", "-a", "-f", "-f png", "-x", "\"", "\\",
        "\"a b\"", "0x", "0x10", "1", "-", "+", "*", "(", ")", "$pc", "$", "'a'", "'", "~",
        "%", "&", "|", "^", "99999999999999999999", "abc", ",", "=", "\t", "help",
    };

    for (const HmpCommand *c = table; c->name; c++) {
        if (c->sub) {
            parse_table_random(c->sub, r);
            continue;
        }
        for (int i = 0; i < 3000; i++) {
            g_autoptr(GString) line = g_string_new(NULL);
            HmpArg a[HMP_MAX_ARGS];
            Error *err = NULL;
            int n = g_rand_int_range(r, 0, 8);

            for (int k = 0; k < n; k++) {
                g_string_append(line, tokens[g_rand_int_range(r, 0, G_N_ELEMENTS(tokens))]);
            }
            if (hmp_parse_args(c, line->str, a, &err)) {
                g_assert_null(err);
                hmp_free_args(a);
            } else {
                g_assert_nonnull(err);
                error_free(err);
            }
        }
    }
}

static void test_parse_random(void)
{
    GRand *r = g_rand_new_with_seed(42);

    parse_table_random(hmp_commands, r);
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hmp/expr", test_expr);
    g_test_add_func("/hmp/parse", test_parse);
    g_test_add_func("/hmp/commands", test_commands);
    g_test_add_func("/hmp/complete", test_complete);
    g_test_add_func("/hmp/parse-random", test_parse_random);
    g_test_add_func("/hmp/input-commands", test_input_commands);
    return g_test_run();
}
