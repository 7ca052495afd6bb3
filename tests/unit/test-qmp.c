/*
 * Unit tests for the monitor's JSON splitter and the QMP engine, driven from plain buffers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/json-splitter.h"
#include "monitor/json-check.h"
#include "monitor/qmp.h"

typedef struct Got {
    GPtrArray *msgs;
    int errors[3];
} Got;

static bool got_msg(void *opaque, const char *msg, size_t len)
{
    Got *g = opaque;
    g_assert_cmpuint(strlen(msg), ==, len);
    g_ptr_array_add(g->msgs, g_strdup(msg));
    return true;
}

static bool got_err(void *opaque, JsonSplitError e)
{
    Got *g = opaque;
    g->errors[e]++;
    return true;
}

static void feed_bytewise(JsonSplitter *s, const char *text)
{
    for (size_t i = 0; text[i]; i++) {
        json_splitter_feed(s, (const uint8_t *)&text[i], 1);
    }
}

static void test_split_basic(void)
{
    Got g = { g_ptr_array_new_with_free_func(g_free) };
    JsonSplitter s;
    const char *in = "{\"a\": \"}{\\\"\"} [1,[2]]\n{\"b\":{}}  42 \"x\\\"y\" ";

    json_splitter_init(&s, got_msg, got_err, &g);
    feed_bytewise(&s, in);
    g_assert_cmpuint(g.msgs->len, ==, 5);
    g_assert_cmpstr(g.msgs->pdata[0], ==, "{\"a\": \"}{\\\"\"}");
    g_assert_cmpstr(g.msgs->pdata[1], ==, "[1,[2]]");
    g_assert_cmpstr(g.msgs->pdata[2], ==, "{\"b\":{}}");
    g_assert_cmpstr(g.msgs->pdata[3], ==, "42");
    g_assert_cmpstr(g.msgs->pdata[4], ==, "\"x\\\"y\"");
    /* The same input in one go gives the same result. */
    g_ptr_array_set_size(g.msgs, 0);
    json_splitter_feed(&s, (const uint8_t *)in, strlen(in));
    g_assert_cmpuint(g.msgs->len, ==, 5);
    json_splitter_destroy(&s);
    g_ptr_array_free(g.msgs, TRUE);
}

static void test_split_limits(void)
{
    Got g = { g_ptr_array_new_with_free_func(g_free) };
    JsonSplitter s;
    GString *deep = g_string_new(NULL);

    json_splitter_init(&s, got_msg, got_err, &g);
    for (int i = 0; i < JSON_SPLITTER_MAX_DEPTH + 10; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < JSON_SPLITTER_MAX_DEPTH + 10; i++) {
        g_string_append_c(deep, ']');
    }
    json_splitter_feed(&s, (const uint8_t *)deep->str, deep->len);
    g_assert_cmpint(g.errors[JSON_SPLIT_TOO_DEEP], ==, 1);
    g_assert_cmpuint(g.msgs->len, ==, 0);
    /* After the bad message the stream recovers. */
    json_splitter_feed(&s, (const uint8_t *)"{}", 2);
    g_assert_cmpuint(g.msgs->len, ==, 1);

    s.max_size = 100;
    for (int i = 0; i < 20; i++) {
        json_splitter_feed(&s, (const uint8_t *)"{\"aaaaaaaaaaaa\":1}", 18);
    }
    g_assert_cmpint(g.errors[JSON_SPLIT_TOO_BIG], ==, 0);
    json_splitter_feed(&s, (const uint8_t *)"[", 1);
    for (int i = 0; i < 20; i++) {
        json_splitter_feed(&s, (const uint8_t *)"\"aaaaaaaaaaaa\",", 15);
    }
    json_splitter_feed(&s, (const uint8_t *)"1]", 2);
    g_assert_cmpint(g.errors[JSON_SPLIT_TOO_BIG], ==, 1);
    g_assert_cmpuint(g.msgs->len, ==, 21);
    json_splitter_feed(&s, (const uint8_t *)"}", 1);
    g_assert_cmpint(g.errors[JSON_SPLIT_BAD_CLOSE], ==, 1);
    json_splitter_destroy(&s);
    g_string_free(deep, TRUE);
    g_ptr_array_free(g.msgs, TRUE);
}

/* QEMU's lexer and parser verdicts (messages as Debian's QEMU 7.2 sends them). */
static void test_json_check(void)
{
    static const struct { const char *in, *err, *plain; } cases[] = {
        { "{\"execute\": \"x\", \"id\": [1, 2.5e3, true, null]}", NULL,
          "{\"execute\":\"x\",\"id\":[1,2.5e3,true,null]}" },
        { "{'a': 'it\\'s \\u00e9\"'}", NULL, "{\"a\":\"it's \u00e9\\\"\"}" },
        { "\"\\u0000\\ud83d\\ude00\\/\"", NULL, "\"\\u0000\U0001F600/\"" },
        { "99999999999999999999", NULL, "1e+20" },
        { "-99999999999999999999", NULL, "-1e+20" },
        { "-9223372036854775808", NULL, "-9223372036854775808" },
        { "{\"execute\" \"x\"}", "missing : in object pair", NULL },
        { "nul", "invalid keyword 'nul'", NULL },
        { "True", "stray 'T'", NULL },
        { "\x01", "stray '\x01'", NULL },
        { "@", "stray '@'", NULL },
        { "{\"a\": 1,}", "expecting value", NULL },
        { "[1,]", "expecting value", NULL },
        { "{,}", "expecting value", NULL },
        { "{\"a\":}", "expecting value", NULL },
        { "{1: 2}", "key is not a string in object", NULL },
        { "{\"a\": 1 \"b\": 2}", "expected separator in dict", NULL },
        { "[1 2]", "expected separator in list", NULL },
        { "{\"a\": \"x\\q\"}", "invalid escape sequence in string", NULL },
        { "{\"a\": 01}", "stray '01'", NULL },
        { "{\"a\": -}", "stray '-}'", NULL },
        { "{\"a\": 1.}", "stray '1.}'", NULL },
        { "{\"a\": 1e}", "stray '1e}'", NULL },
        { "{\"a\": \"\\ud800\"}", "\\ud800 is not a valid Unicode character", NULL },
        { "{\"a\": \"\\u00zz\"}", "\\u00zz is not a valid Unicode character", NULL },
        { "{\"a\": \"\x01\"}", "stray '\"\x01'", NULL },
        { "{\"a\": \"\xff\"}", "stray '\"\xff'", NULL },
        { "{\"a\": \"\xc3\x28\"}", "invalid UTF-8 sequence in string", NULL },
        { "{\"a\": 1, \"a\": 2}", "duplicate key", NULL },
        { "{\"a\": {\"b\": 1, \"b\": [}}", "expecting value", NULL },
        { "{\"a\": [1}", "expected separator in list", NULL },
        { "\"open", "stray '\"open'", NULL },
        { "", "premature EOI", NULL },
        { "1 2", "expecting value", NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *err = json_check(cases[i].in, strlen(cases[i].in), out);
        g_assert_cmpstr(err, ==, cases[i].err);
        if (cases[i].plain) {
            g_assert_cmpstr(out->str, ==, cases[i].plain);
        } else {
            g_assert_cmpuint(out->len, ==, 0);
        }
    }
    /* Random bytes: an answer every time, never a crash (the fuzz target's contract). */
    GRand *r = g_rand_new_with_seed(7);
    static const char alphabet[] = "{}[],:\"'\\ -0123456789.eE+truefalsnl\x01\xc3\xff";
    for (int n = 0; n < 20000; n++) {
        char buf[24];
        int len = g_rand_int_range(r, 0, sizeof(buf));
        for (int i = 0; i < len; i++) {
            buf[i] = alphabet[g_rand_int_range(r, 0, sizeof(alphabet) - 1)];
        }
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *err = json_check(buf, len, out);
        g_assert_true(err != NULL || out->len > 0);
    }
    g_rand_free(r);
}

static void stream_cb(void *opaque, const char *plain, const char *err)
{
    g_ptr_array_add(opaque, g_strdup_printf("%s%s", plain ? "ok " : "error ",
                                            plain ? plain : err));
}

/* After a lexical error QEMU skips to a structural character and goes on (json-lexer.c). */
static void test_json_check_stream(void)
{
    static const struct { const char *in; const char *want[6]; } cases[] = {
        { "{\"a\": 1}", { "ok {\"a\":1}" } },
        { "{\"a\": 01}", { "error stray '01'", "error expecting value" } },
        { "{\"a\": -}", { "error stray '-}'" } },
        { "{\"a\": 01, \"b\": {\"c\": 1}}",
          { "error stray '01'", "error expecting value", "ok \"b\"", "error expecting value",
            "ok {\"c\":1}", "error expecting value" } },
        { "[1, 2 @, 3]", { "error stray '@'", "error expecting value", "ok 3",
                           "error expecting value" } },
        { "{\"a\": \"\x02\", \"b\": 1}",
          { "error stray '\"\x02'", "error expecting value", "ok \"b\"",
            "error expecting value", "ok 1", "error expecting value" } },
        { "[}", { "error expecting value" } },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
        json_check_stream(cases[i].in, strlen(cases[i].in), stream_cb, got);
        for (guint k = 0; k < G_N_ELEMENTS(cases[i].want); k++) {
            g_assert_cmpstr(k < got->len ? got->pdata[k] : NULL, ==, cases[i].want[k]);
        }
    }
}

#ifdef CONFIG_JSON
static void out_cb(void *opaque, const char *text, size_t len)
{
    g_string_append_len(opaque, text, len);
}

static char *qmp_run(QmpSession *s, GString *out, const char *in)
{
    g_string_truncate(out, 0);
    qmp_session_input(s, (const uint8_t *)in, strlen(in));
    return g_strdup(out->str);
}

static void test_qmp_session(void)
{
    GString *out = g_string_new(NULL);
    QmpSession s;
    char *r;

    qmp_session_init(&s, false, out_cb, NULL, out);
    qmp_session_start(&s);
    g_assert_true(g_str_has_prefix(out->str, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": "));
    g_assert_nonnull(strstr(out->str, "\"capabilities\": [\"oob\"]}}\r\n"));

    r = qmp_run(&s, out, "{\"execute\":\"query-status\"}");
    g_assert_cmpstr(r, ==, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting "
                    "capabilities negotiation with 'qmp_capabilities'\"}}\r\n");
    g_free(r);
    r = qmp_run(&s, out, "{\"execute\":\"qmp_capabilities\",\"id\":7}");
    g_assert_cmpstr(r, ==, "{\"return\": {}, \"id\": 7}\r\n");
    g_free(r);
    r = qmp_run(&s, out, "{\"execute\":\"nope\"}");
    g_assert_cmpstr(r, ==, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
                    "nope has not been found\"}}\r\n");
    g_free(r);
    r = qmp_run(&s, out, "[1]");
    g_assert_nonnull(strstr(r, "QMP input must be a JSON object"));
    g_free(r);
    r = qmp_run(&s, out, "{\"foo\":1}");
    g_assert_nonnull(strstr(r, "QMP input member 'foo' is unexpected"));
    g_free(r);
    r = qmp_run(&s, out, "{\"arguments\":{}}");
    g_assert_nonnull(strstr(r, "QMP input lacks member 'execute'"));
    g_free(r);
    r = qmp_run(&s, out, "{\"execute\":\"query-name\",\"arguments\":{\"x\":1}}");
    g_assert_nonnull(strstr(r, "Parameter 'x' is unexpected"));
    g_free(r);
    r = qmp_run(&s, out, "{\"execute\": 'query-name' x}");
    g_assert_nonnull(strstr(r, "\"GenericError\", \"desc\": \"JSON parse error"));
    g_free(r);
    r = qmp_run(&s, out, "{\"execute\":\"query-commands\"}");
    g_assert_nonnull(strstr(r, "{\"name\": \"query-status\"}"));
    g_free(r);
    /* Events: timestamp first; no "data" member when the event carries none. */
    g_string_truncate(out, 0);
    qmp_event_send("STOP", NULL);
    g_assert_true(g_str_has_prefix(out->str, "{\"timestamp\": {\"seconds\": "));
    g_assert_true(g_str_has_suffix(out->str, "}, \"event\": \"STOP\"}\r\n"));
    qmp_session_destroy(&s);
    g_string_free(out, TRUE);
}

static char *fmt(const char *json, bool pretty)
{
    JsonParser *p = json_parser_new();
    char *r;

    g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
    r = qmp_json_format(json_parser_get_root(p), pretty);
    g_object_unref(p);
    return r;
}

/* The bytes QEMU's monitor writes (qobject/qjson.c): spacing, escapes, pretty layout. */
static void test_qmp_format(void)
{
    static const struct { const char *in, *compact; } cases[] = {
        { "{}", "{}" }, { "[]", "[]" }, { "[1,2, 3]", "[1, 2, 3]" },
        { "{\"b\":1,\"a\":[true,false,null]}", "{\"b\": 1, \"a\": [true, false, null]}" },
        { "\"q\\\"b\\\\/\\b\\f\\n\\r\\t\\u0001\\u007f\"",
          "\"q\\\"b\\\\/\\b\\f\\n\\r\\t\\u0001\\u007F\"" },
        { "\"\\u00e9\\ud83d\\ude00\"", "\"\\u00E9\\uD83D\\uDE00\"" },
        { "-9223372036854775807", "-9223372036854775807" }, { "0.5", "0.5" },
        { "1e300", "1.0000000000000001e+300" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *r = fmt(cases[i].in, false);
        g_assert_cmpstr(r, ==, cases[i].compact);
    }
    g_autofree char *p = fmt("{\"return\":{},\"l\":[1,{\"a\":[]}]}", true);
    g_assert_cmpstr(p, ==, "{\r\n    \"return\": {\r\n    },\r\n    \"l\": [\r\n        1,\r\n"
                    "        {\r\n            \"a\": [\r\n            ]\r\n        }\r\n    ]\r\n}");
}
#endif

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-splitter/basic", test_split_basic);
    g_test_add_func("/json-splitter/limits", test_split_limits);
    g_test_add_func("/json-check/qemu-verdicts", test_json_check);
    g_test_add_func("/json-check/stream-recovery", test_json_check_stream);
#ifdef CONFIG_JSON
    g_test_add_func("/qmp/session", test_qmp_session);
    g_test_add_func("/qmp/format", test_qmp_format);
#endif
    return g_test_run();
}
