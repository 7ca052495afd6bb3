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

bool json_splitter_feed(JsonSplitter *s, const uint8_t *data, size_t len)
{
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
            if (s->depth == 0 && s->buf->len && !json_splitter_emit(s)) {
                return false;
            }
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            if (s->depth == 0 && s->buf->len && !json_splitter_emit(s)) {
                return false;
            }
            if (++s->depth > s->max_depth && !s->discarding) {
                if (!json_splitter_fail(s, JSON_SPLIT_TOO_DEEP)) {
                    return false;
                }
            }
        } else if (c == '}' || c == ']') {
            if (s->depth == 0) {
                json_splitter_reset(s);
                if (!s->error(s->opaque, JSON_SPLIT_BAD_CLOSE)) {
                    return false;
                }
                continue;
            }
            s->depth--;
        } else if (s->depth == 0 && is_structural(c)) {
            /* Whitespace between messages ends a bare scalar token. */
            if (!json_splitter_emit(s)) {
                return false;
            }
            continue;
        }

        if (!s->discarding) {
            if (s->buf->len >= s->max_size) {
                if (!json_splitter_fail(s, JSON_SPLIT_TOO_BIG)) {
                    return false;
                }
            } else {
                g_string_append_c(s->buf, c);
            }
        }
        if (s->depth == 0 && !s->in_string && (c == '}' || c == ']' || c == '"')) {
            if (!json_splitter_emit(s)) {
                return false;
            }
        }
    }
    return true;
}
