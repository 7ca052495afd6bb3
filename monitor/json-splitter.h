/*
 * A streaming JSON message splitter for the monitors.
 *
 * QMP is a stream of JSON objects with no framing; the splitter cuts it into complete
 * top-level values by tracking brace/bracket depth, strings and backslash escapes, so that
 * the (non-streaming) json-glib parser only ever sees whole messages.  Like QEMU's
 * json-streamer it bounds a message's size and nesting depth: a client that exceeds them gets
 * an error callback and the caller decides (QMP closes the connection).  Pure, no I/O: it is
 * driven from plain buffers (unit tests, fuzzing).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_JSON_SPLITTER_H
#define MONITOR_JSON_SPLITTER_H

#include "kite/osdep.h"

/* QEMU's limits (qobject/json-streamer.c): 64 MiB of pending input, nesting 1024. */
#define JSON_SPLITTER_MAX_SIZE (64u << 20)
#define JSON_SPLITTER_MAX_DEPTH 1024

typedef enum JsonSplitError {
    JSON_SPLIT_TOO_BIG,      /* message exceeds JSON_SPLITTER_MAX_SIZE */
    JSON_SPLIT_TOO_DEEP,     /* nesting exceeds JSON_SPLITTER_MAX_DEPTH */
    JSON_SPLIT_BAD_CLOSE,    /* '}' or ']' with nothing open: a lone stray token */
} JsonSplitError;

/* A complete message (NUL-terminated copy, len bytes); or an error. Return false to stop. */
typedef bool JsonSplitMessage(void *opaque, const char *msg, size_t len);
typedef bool JsonSplitErrorFn(void *opaque, JsonSplitError err);

/*
 * An integer literal of the message, in document order.  json-glib keeps integers as int64:
 * one above INT64_MAX but within uint64 arrives with the same bits (QEMU echoes it exactly),
 * one beyond both ranges saturated (QEMU makes it a double).
 */
typedef enum JsonIntKind {
    JSON_INT_PLAIN,
    JSON_INT_U64,
    JSON_INT_BIG,
} JsonIntKind;

typedef struct JsonSplitInt {
    JsonIntKind kind;
    uint64_t u;           /* JSON_INT_U64 */
    double d;             /* JSON_INT_BIG */
} JsonSplitInt;

typedef struct JsonSplitter {
    GString *buf;           /* the message as json-glib should see it (see string_char) */
    GString *tok;           /* the bare token (number, keyword) being read */
    GArray *ints;           /* of JsonSplitInt: the message's integer literals */
    char *lex_error;        /* the message's first lexical error (QEMU's text), or NULL */
    size_t string_start;    /* where the string being read starts in buf */
    uint8_t quote;          /* its quote character */
    int depth;
    bool in_string;
    bool escape;
    bool discarding;       /* after an error: skip until depth returns to 0 */
    bool pause;            /* set by a callback: json_splitter_feed_some stops after it */
    size_t max_size;
    int max_depth;
    JsonSplitMessage *message;
    JsonSplitErrorFn *error;
    void *opaque;
} JsonSplitter;

void json_splitter_init(JsonSplitter *s, JsonSplitMessage *message, JsonSplitErrorFn *error,
                        void *opaque);
void json_splitter_destroy(JsonSplitter *s);
/* Drop any partial message (the client went away). */
void json_splitter_reset(JsonSplitter *s);
/* Feed bytes.  Returns false if a callback returned false (stop feeding this stream). */
bool json_splitter_feed(JsonSplitter *s, const uint8_t *data, size_t len);
/*
 * Feed bytes until a callback sets s->pause (one message at a time: QMP holds the rest
 * while the main loop runs): returns how many bytes were taken, len if it never paused.
 * *ok is false if a callback returned false (stop feeding this stream).
 */
size_t json_splitter_feed_some(JsonSplitter *s, const uint8_t *data, size_t len, bool *ok);

#endif
