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
    }
}

void json_splitter_reset(JsonSplitter *s)
{
    g_string_truncate(s->buf, 0);
    s->depth = 0;
    s->in_string = false;
    s->escape = false;
    s->discarding = false;
}

static bool json_splitter_emit(JsonSplitter *s)
{
    bool ok = true;

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
    s->discarding = true;
    return s->error(s->opaque, err);
}

static bool is_structural(uint8_t c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == '"' || c == ' ' ||
           c == '\t' || c == '\r' || c == '\n';
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

        if (s->in_string) {
            if (s->escape) {
                s->escape = false;
            } else if (c == '\\') {
                s->escape = true;
            } else if (c == '"') {
                s->in_string = false;
            }
        } else if (c == '"') {
            /* A bare top-level string is a whole message of its own. */
            if (s->depth == 0 && s->buf->len) {
                SPLIT_CALLBACK(json_splitter_emit(s), i);
            }
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            if (s->depth == 0 && s->buf->len) {
                SPLIT_CALLBACK(json_splitter_emit(s), i);
            }
            if (++s->depth > s->max_depth && !s->discarding) {
                SPLIT_CALLBACK(json_splitter_fail(s, JSON_SPLIT_TOO_DEEP), i + 1);
            }
        } else if (c == '}' || c == ']') {
            if (s->depth == 0) {
                json_splitter_reset(s);
                SPLIT_CALLBACK(s->error(s->opaque, JSON_SPLIT_BAD_CLOSE), i + 1);
                continue;
            }
            s->depth--;
        } else if (s->depth == 0 && is_structural(c)) {
            /* Whitespace between messages ends a bare scalar token. */
            SPLIT_CALLBACK(json_splitter_emit(s), i + 1);
            continue;
        }

        if (!s->discarding) {
            if (s->buf->len >= s->max_size) {
                SPLIT_CALLBACK(json_splitter_fail(s, JSON_SPLIT_TOO_BIG), i + 1);
            } else {
                g_string_append_c(s->buf, c);
            }
        }
        if (s->depth == 0 && !s->in_string && (c == '}' || c == ']' || c == '"')) {
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
