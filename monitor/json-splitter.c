/*
 * Streaming JSON splitter: see json-splitter.h.
 *
 * Outside strings, a top-level message is either a bracketed value (ends when depth returns
 * to 0) or a bare scalar token (number, true, null, a string) which ends at whitespace or
 * the next structural character; bare scalars are passed on too so the dispatcher can answer
 * "QMP input must be a JSON object" as QEMU does.  A lone '}' or ']' is reported as an error.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/json-splitter.h"

void json_splitter_init(JsonSplitter *s, JsonSplitMessage *message, JsonSplitErrorFn *error,
                        void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->buf = g_string_new(NULL);
    s->tok = g_string_new(NULL);
    s->ints = g_array_new(FALSE, FALSE, sizeof(JsonSplitInt));
    s->max_size = JSON_SPLITTER_MAX_SIZE;
    s->max_depth = JSON_SPLITTER_MAX_DEPTH;
    s->message = message;
    s->error = error;
    s->opaque = opaque;
}

void json_splitter_destroy(JsonSplitter *s)
{
    if (s->buf) {
        g_string_free(s->buf, TRUE);
        s->buf = NULL;
        g_string_free(s->tok, TRUE);
        s->tok = NULL;
        g_array_free(s->ints, TRUE);
        s->ints = NULL;
        g_clear_pointer(&s->lex_error, g_free);
    }
}

void json_splitter_reset(JsonSplitter *s)
{
    g_string_truncate(s->buf, 0);
    g_string_truncate(s->tok, 0);
    g_array_set_size(s->ints, 0);
    g_clear_pointer(&s->lex_error, g_free);
    s->depth = 0;
    s->in_string = false;
    s->escape = false;
    s->discarding = false;
}

/* The first lexical error of a message is the one reported (QEMU's lexer stops there). */
static void G_GNUC_PRINTF(2, 3) json_splitter_lex_error(JsonSplitter *s, const char *fmt, ...)
{
    va_list ap;

    if (s->lex_error || s->discarding) {
        return;
    }
    va_start(ap, fmt);
    s->lex_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* RFC 8259 section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
static bool json_number_ok(const char *p)
{
    if (*p == '-') {
        p++;
    }
    if (*p == '0') {
        p++;
    } else if (g_ascii_isdigit(*p)) {
        while (g_ascii_isdigit(*p)) {
            p++;
        }
    } else {
        return false;
    }
    if (*p == '.') {
        if (!g_ascii_isdigit(*++p)) {
            return false;
        }
        while (g_ascii_isdigit(*p)) {
            p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') {
            p++;
        }
        if (!g_ascii_isdigit(*p)) {
            return false;
        }
        while (g_ascii_isdigit(*p)) {
            p++;
        }
    }
    return *p == '\0';
}

static bool is_token_char(uint8_t c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '+' || c == '.';
}

/*
 * A bare token ended.  Numbers must follow JSON's grammar (json-glib also takes 01, 1., .5
 * and 0x10, which QEMU rejects); keywords are left to json-glib.  Integers are recorded in
 * order with their range, which json-glib's int64 nodes cannot tell (see JsonSplitInt).
 */
static void json_splitter_token(JsonSplitter *s)
{
    const char *t = s->tok->str;

    if (s->tok->len && strchr("-+.0123456789", t[0])) {
        if (!json_number_ok(t)) {
            json_splitter_lex_error(s, "stray '%s'", t);
        } else if (!strpbrk(t, ".eE")) {
            bool neg = t[0] == '-';
            JsonSplitInt v = { JSON_INT_PLAIN, 0, 0 };
            uint64_t u;

            errno = 0;
            u = g_ascii_strtoull(t + neg, NULL, 10);
            if (errno == ERANGE || (neg && u > (uint64_t)INT64_MAX + 1)) {
                v.kind = JSON_INT_BIG;
                v.d = g_ascii_strtod(t, NULL);
            } else if (!neg && u > INT64_MAX) {
                v.kind = JSON_INT_U64;
                v.u = u;
            }
            g_array_append_val(s->ints, v);
        }
    }
    g_string_truncate(s->tok, 0);
}

static bool json_splitter_emit(JsonSplitter *s)
{
    bool ok = true;

    json_splitter_token(s);
    if (s->buf->len && !s->discarding) {
        ok = s->message(s->opaque, s->buf->str, s->buf->len);
    }
    json_splitter_reset(s);
    return ok;
}

static bool json_splitter_fail(JsonSplitter *s, JsonSplitError err)
{
    /* Free the memory now: an abusive client must not keep 64 MiB pinned. */
    g_string_truncate(s->buf, 0);
    g_string_truncate(s->tok, 0);
    s->discarding = true;
    return s->error(s->opaque, err);
}

static bool is_structural(uint8_t c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == '"' || c == '\'' ||
           c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Inside a string: QEMU's lexer (qobject/json-lexer.c) takes 'single-quoted' strings as well
 * and \' in both kinds; json-glib knows neither, so the text it gets has them as plain
 * double-quoted JSON.  Escapes other than JSON's (and \') and raw control characters are
 * lexical errors there, as in QEMU.  Appends what json-glib should see to out.
 */
static void json_splitter_string_char(JsonSplitter *s, uint8_t c, GString *out)
{
    if (s->escape) {
        s->escape = false;
        if (c == '\'') {
            g_string_append_c(out, '\'');
            return;
        }
        if (!strchr("\"\\/bfnrtu", c) || !c) {
            json_splitter_lex_error(s, "invalid escape sequence in string");
        }
        g_string_append_c(out, '\\');
        g_string_append_c(out, c);
    } else if (c == '\\') {
        s->escape = true;
    } else if (c == s->quote) {
        s->in_string = false;
        g_string_append_c(out, '"');
    } else if (c < 0x20) {
        json_splitter_lex_error(s, "stray '%s%c'", s->buf->str + s->string_start, c);
        g_string_append_c(out, c);
    } else if (c == '"') {
        g_string_append(out, "\\\"");    /* inside 'single quotes' */
    } else {
        g_string_append_c(out, c);
    }
}

/*
 * After a callback: stop with *ok false if it returned false, or pause (the caller resumes
 * from the returned offset) if it set s->pause.
 */
#define SPLIT_CALLBACK(call, taken) do { \
        if (!(call)) { \
            *ok = false; \
            return len; \
        } \
        if (s->pause) { \
            return (taken); \
        } \
    } while (0)

static size_t json_splitter_run(JsonSplitter *s, const uint8_t *data, size_t len, bool *ok)
{
    *ok = true;
    s->pause = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        bool was_string = s->in_string;

        if (s->in_string) {
            /* Handled below, where the text is appended. */
        } else if (c == '"' || c == '\'') {
            /* A bare top-level string is a whole message of its own. */
            if (s->depth == 0 && s->buf->len) {
                SPLIT_CALLBACK(json_splitter_emit(s), i);
            }
            json_splitter_token(s);
            s->in_string = true;
            s->quote = c;
            s->string_start = s->buf->len;
        } else if (c == '{' || c == '[') {
            if (s->depth == 0 && s->buf->len) {
                SPLIT_CALLBACK(json_splitter_emit(s), i);
            }
            json_splitter_token(s);
            if (++s->depth > s->max_depth && !s->discarding) {
                SPLIT_CALLBACK(json_splitter_fail(s, JSON_SPLIT_TOO_DEEP), i + 1);
            }
        } else if (c == '}' || c == ']') {
            if (s->depth == 0) {
                json_splitter_reset(s);
                SPLIT_CALLBACK(s->error(s->opaque, JSON_SPLIT_BAD_CLOSE), i + 1);
                continue;
            }
            json_splitter_token(s);
            s->depth--;
        } else if (s->depth == 0 && is_structural(c)) {
            /* Whitespace between messages ends a bare scalar token. */
            SPLIT_CALLBACK(json_splitter_emit(s), i + 1);
            continue;
        } else if (!is_token_char(c)) {
            json_splitter_token(s);
        } else if (!s->discarding) {
            g_string_append_c(s->tok, c);
        }

        if (!s->discarding) {
            if (s->buf->len >= s->max_size) {
                SPLIT_CALLBACK(json_splitter_fail(s, JSON_SPLIT_TOO_BIG), i + 1);
            } else if (was_string) {
                json_splitter_string_char(s, c, s->buf);
            } else {
                g_string_append_c(s->buf, c == '\'' ? '"' : c);
            }
        } else if (was_string) {
            /* Still track where the string ends. */
            if (s->escape) {
                s->escape = false;
            } else if (c == '\\') {
                s->escape = true;
            } else if (c == s->quote) {
                s->in_string = false;
            }
        }
        if (s->depth == 0 && !s->in_string &&
            (c == '}' || c == ']' || (was_string && c == s->quote))) {
            SPLIT_CALLBACK(json_splitter_emit(s), i + 1);
        }
    }
    return len;
}

bool json_splitter_feed(JsonSplitter *s, const uint8_t *data, size_t len)
{
    bool ok = true;

    while (len && ok) {
        size_t n = json_splitter_run(s, data, len, &ok);
        data += n;
        len -= n;
    }
    s->pause = false;
    return ok;
}

size_t json_splitter_feed_some(JsonSplitter *s, const uint8_t *data, size_t len, bool *ok)
{
    size_t n = json_splitter_run(s, data, len, ok);

    s->pause = false;
    return n;
}
