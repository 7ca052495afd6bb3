/*
 * Unit tests for the monitor's JSON splitter and the QMP engine, driven from plain buffers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/json-splitter.h"
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

/*
 * hold_replies (the chardev glue's mode): one request at a time, its reply held until the
 * main loop releases it, events going out meanwhile; the rest of the input waits, even when
 * it came in the same chunk or a message is split across chunks.
 */
static void test_qmp_hold_replies(void)
{
    GString *out = g_string_new(NULL);
    QmpSession s;
    const char *in = "{\"execute\":\"qmp_capabilities\",\"id\":1} 7 {\"execute\":\"nope\","
                     "\"id\":2}]{\"execute\":\"query-name\",";

    qmp_session_init(&s, false, out_cb, NULL, out);
    s.hold_replies = true;
    qmp_session_start(&s);
    g_string_truncate(out, 0);
    qmp_session_input(&s, (const uint8_t *)in, strlen(in));
    g_assert_cmpstr(out->str, ==, "");
    g_assert_true(qmp_session_busy(&s));
    /* Input behind a held reply queues; events are not held. */
    qmp_session_input(&s, (const uint8_t *)"\"id\":3}", 7);
    qmp_session_release(&s, false);
    g_assert_cmpstr(out->str, ==, "{\"return\": {}, \"id\": 1}\r\n");
    g_assert_true(qmp_session_busy(&s));
    qmp_event_send("STOP", NULL);
    g_assert_nonnull(strstr(out->str, "\"event\": \"STOP\"}\r\n"));
    g_string_truncate(out, 0);
    qmp_session_release(&s, false);
    g_assert_cmpstr(out->str, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                    "\"QMP input must be a JSON object\"}}\r\n");
    g_string_truncate(out, 0);
    qmp_session_release(&s, false);
    g_assert_cmpstr(out->str, ==, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                    "\"The command nope has not been found\"}, \"id\": 2}\r\n");
    g_string_truncate(out, 0);
    qmp_session_release(&s, false);
    g_assert_cmpstr(out->str, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                    "\"JSON parse error, expecting value\"}}\r\n");
    g_string_truncate(out, 0);
    qmp_session_release(&s, false);
    g_assert_true(g_str_has_prefix(out->str, "{\"return\": {}, \"id\": 3}\r\n"));
    g_assert_false(qmp_session_busy(&s));
    /* The last release at exit answers the request in flight and runs no further one. */
    g_string_truncate(out, 0);
    in = "{\"execute\":\"query-name\",\"id\":4}{\"execute\":\"query-name\",\"id\":5}";
    qmp_session_input(&s, (const uint8_t *)in, strlen(in));
    qmp_session_release(&s, true);
    g_assert_cmpstr(out->str, ==, "{\"return\": {}, \"id\": 4}\r\n");
    g_assert_false(qmp_session_busy(&s));
    qmp_session_release(&s, false);
    g_assert_cmpstr(out->str, ==, "{\"return\": {}, \"id\": 4}\r\n");
    qmp_session_destroy(&s);
    g_string_free(out, TRUE);
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

/*
 * What json-glib alone would get wrong, against QEMU 7.2's answers: numbers outside JSON's
 * grammar, bad escapes and raw control characters, duplicate keys (rejected); 'single
 * quotes' and \' (accepted); integers above INT64_MAX (echoed exactly) and beyond uint64
 * (doubles).  A message split anywhere gives the same answer.
 */
static void test_qmp_json_input(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "{\"execute\":\"query-name\",\"id\":18446744073709551615}",
          "{\"return\": {}, \"id\": 18446744073709551615}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":[9223372036854775808,-9223372036854775808,"
          "{\"a\":18446744073709551616},-9223372036854775809,-1,1e2]}",
          "{\"return\": {}, \"id\": [9223372036854775808, -9223372036854775808, "
          "{\"a\": 1.8446744073709552e+19}, -9.2233720368547758e+18, -1, 100]}\r\n" },
        { "{'execute':'query-name','id':'x\"y\\'z'}",
          "{\"return\": {}, \"id\": \"x\\\"y'z\"}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":\"a\\'b\"}",
          "{\"return\": {}, \"id\": \"a'b\"}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":01}",
          "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray "
          "'01'\"}}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":1.}",
          "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray "
          "'1.'\"}}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":[.5, 0x10]}",
          "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray "
          "'.5'\"}}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":\"a\\qb\"}",
          "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, invalid "
          "escape sequence in string\"}}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":\"a\tb\"}",
          "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray "
          "'\\\"a\\t'\"}}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":1,\"arguments\":{},\"id\":2}",
          "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, duplicate "
          "key\"}}\r\n" },
        { "{\"execute\":\"query-name\",\"id\":{\"a\":1,\"b\":{\"a\":1}}}",
          "{\"return\": {}, \"id\": {\"a\": 1, \"b\": {\"a\": 1}}}\r\n" },
    };
    GString *out = g_string_new(NULL);
    QmpSession s;

    qmp_session_init(&s, false, out_cb, NULL, out);
    qmp_session_start(&s);
    g_free(qmp_run(&s, out, "{\"execute\":\"qmp_capabilities\"}"));
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *r = qmp_run(&s, out, cases[i].in);
        g_assert_cmpstr(r, ==, cases[i].out);
        g_free(r);
        /* The same bytes one at a time. */
        g_string_truncate(out, 0);
        for (size_t j = 0; cases[i].in[j]; j++) {
            qmp_session_input(&s, (const uint8_t *)&cases[i].in[j], 1);
        }
        g_assert_cmpstr(out->str, ==, cases[i].out);
    }
    /* After all that the stream is in step. */
    g_free(qmp_run(&s, out, "'x'"));
    g_assert_cmpstr(out->str, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP "
                    "input must be a JSON object\"}}\r\n");
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
#ifdef CONFIG_JSON
    g_test_add_func("/qmp/session", test_qmp_session);
    g_test_add_func("/qmp/hold-replies", test_qmp_hold_replies);
    g_test_add_func("/qmp/json-input", test_qmp_json_input);
    g_test_add_func("/qmp/format", test_qmp_format);
#endif
    return g_test_run();
}
