/*
 * QEMU's JSON dialect for QMP input: see json-check.h.
 *
 * The lexer follows the token grammar of QEMU's qobject/json-lexer.c (RFC 8259 plus
 * single-quoted strings; keywords are any run of lower-case letters, judged later; a number
 * is -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and a character that cannot continue
 * one where it must makes the whole run an error token).  A lexical error wins over anything
 * the grammar would say, because QEMU's streamer reports it before the parser runs: "stray
 * '<token text>'".  The grammar checks are those of qobject/json-parser.c, first error wins.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/json-check.h"

#include <math.h>

/* Deeper than the splitter lets through; only a fuzzer calling us directly gets here. */
#define JSON_CHECK_MAX_DEPTH 1100

typedef enum {
    TOK_LCURLY, TOK_RCURLY, TOK_LSQUARE, TOK_RSQUARE, TOK_COMMA, TOK_COLON,
    TOK_STRING, TOK_INTEGER, TOK_FLOAT, TOK_KEYWORD, TOK_ERROR,
} TokType;

typedef struct Tok {
    TokType type;
    size_t start, len;
} Tok;

typedef struct Parser {
    const char *msg;
    GArray *toks;
    guint pos;
    int depth;
    char *err;
    GString *out;
} Parser;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of a number token at p (QEMU's IN_NEG_NONZERO .. IN_EXP_DIGITS), *bad if invalid. */
static size_t lex_number(const char *p, size_t len, bool *is_float, bool *bad)
{
    size_t i = 0;

    *is_float = false;
    *bad = false;
    if (p[i] == '-') {
        i++;
        if (i >= len || !is_digit(p[i])) {
            *bad = true;
            return MIN(i + 1, len);
        }
    }
    if (p[i] == '0') {
        i++;
        if (i < len && is_digit(p[i])) {       /* no leading zeros */
            *bad = true;
            return i + 1;
        }
    } else {
        while (i < len && is_digit(p[i])) {
            i++;
        }
    }
    if (i < len && p[i] == '.') {
        *is_float = true;
        i++;
        if (i >= len || !is_digit(p[i])) {
            *bad = true;
            return MIN(i + 1, len);
        }
        while (i < len && is_digit(p[i])) {
            i++;
        }
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        *is_float = true;
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-')) {
            i++;
        }
        if (i >= len || !is_digit(p[i])) {
            *bad = true;
            return MIN(i + 1, len);
        }
        while (i < len && is_digit(p[i])) {
            i++;
        }
    }
    return i;
}

/*
 * The token at msg[*pos..len) after whitespace: true with *t set, false at the end.  A
 * lexical error is a token of type TOK_ERROR holding the characters up to and including the
 * one that could not continue it (QEMU's error token text).
 */
static bool lex_one(const char *msg, size_t len, size_t *pos, Tok *out)
{
    size_t i = *pos;
    unsigned char c;
    Tok t;

    while (i < len && (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\r' || msg[i] == '\n')) {
        i++;
    }
    if (i >= len) {
        *pos = i;
        return false;
    }
    c = msg[i];
    t = (Tok){ TOK_ERROR, i, 1 };
    switch (c) {
    case '{': t.type = TOK_LCURLY; break;
    case '}': t.type = TOK_RCURLY; break;
    case '[': t.type = TOK_LSQUARE; break;
    case ']': t.type = TOK_RSQUARE; break;
    case ',': t.type = TOK_COMMA; break;
    case ':': t.type = TOK_COLON; break;
    case '"': case '\'': {
        /* Any character 0x20..0xFD, escaped or not; the parser judges escapes. */
        size_t j = i + 1;
        bool closed = false;

        while (j < len) {
            unsigned char d = msg[j];
            if (d == c) {
                closed = true;
                j++;
                break;
            }
            if (d == '\\') {
                j++;
                if (j >= len) {
                    break;
                }
                d = msg[j];
            }
            if (d < 0x20 || d >= 0xfe) {
                j++;
                break;
            }
            j++;
        }
        t.len = j - i;
        t.type = closed ? TOK_STRING : TOK_ERROR;
        break;
    }
    default:
        if (c == '-' || is_digit(c)) {
            bool is_float, bad;
            t.len = lex_number(msg + i, len - i, &is_float, &bad);
            t.type = bad ? TOK_ERROR : is_float ? TOK_FLOAT : TOK_INTEGER;
        } else if (c >= 'a' && c <= 'z') {
            while (i + t.len < len && msg[i + t.len] >= 'a' && msg[i + t.len] <= 'z') {
                t.len++;
            }
            t.type = TOK_KEYWORD;
        }
        break;
    }
    *out = t;
    *pos = i + t.len;
    return true;
}

/* Tokens of msg; false with *err_tok set at the first lexical error. */
static bool lex(const char *msg, size_t len, GArray *toks, Tok *err_tok)
{
    size_t pos = 0;
    Tok t;

    while (lex_one(msg, len, &pos, &t)) {
        if (t.type == TOK_ERROR) {
            *err_tok = t;
            return false;
        }
        g_array_append_val(toks, t);
    }
    return true;
}

static void perr(Parser *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void perr(Parser *p, const char *fmt, ...)
{
    va_list ap;

    if (p->err) {
        return;                 /* the first error is the one QEMU reports */
    }
    va_start(ap, fmt);
    p->err = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static const Tok *peek(Parser *p)
{
    return p->pos < p->toks->len ? &g_array_index(p->toks, Tok, p->pos) : NULL;
}

static const Tok *pop(Parser *p)
{
    const Tok *t = peek(p);

    if (!t) {
        perr(p, "premature EOI");
    } else {
        p->pos++;
    }
    return t;
}

static int hex4(const char *s, const char *end)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        if (s + i >= end || !g_ascii_isxdigit(s[i])) {
            return -1;
        }
        v = v << 4 | g_ascii_xdigit_value(s[i]);
    }
    return v;
}

/* Append code point cp to dec; U+0000 as C0 80 so keys stay C strings (as QEMU's). */
static void put_cp(GString *dec, gunichar cp)
{
    if (cp == 0) {
        g_string_append_len(dec, "\xc0\x80", 2);
    } else {
        g_string_append_unichar(dec, cp);
    }
}

/* QEMU's parse_string: decode escapes; false (error set) on a bad escape or bad UTF-8. */
static bool decode_string(Parser *p, const Tok *t, GString *dec)
{
    const char *s = p->msg + t->start + 1;
    const char *end = p->msg + t->start + t->len - 1;      /* the closing quote */

    while (s < end) {
        if (*s == '\\') {
            const char *beg = s++;
            switch (*s++) {
            case '"': g_string_append_c(dec, '"'); break;
            case '\'': g_string_append_c(dec, '\''); break;
            case '\\': g_string_append_c(dec, '\\'); break;
            case '/': g_string_append_c(dec, '/'); break;
            case 'b': g_string_append_c(dec, '\b'); break;
            case 'f': g_string_append_c(dec, '\f'); break;
            case 'n': g_string_append_c(dec, '\n'); break;
            case 'r': g_string_append_c(dec, '\r'); break;
            case 't': g_string_append_c(dec, '\t'); break;
            case 'u': {
                int cp = hex4(s, end);
                s = MIN(s + 4, end);
                if (cp >= 0xd800 && cp <= 0xdbff && end - s >= 6 && s[0] == '\\' &&
                    s[1] == 'u') {
                    int lo = hex4(s + 2, end);
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        s += 6;
                    }
                }
                if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
                    perr(p, "%.*s is not a valid Unicode character", (int)(s - beg), beg);
                    return false;
                }
                put_cp(dec, cp);
                break;
            }
            default:
                perr(p, "invalid escape sequence in string");
                return false;
            }
        } else {
            gunichar cp = g_utf8_get_char_validated(s, end - s);
            if (cp == (gunichar)-1 || cp == (gunichar)-2) {
                perr(p, "invalid UTF-8 sequence in string");
                return false;
            }
            put_cp(dec, cp);
            s = g_utf8_next_char(s);
        }
    }
    return true;
}

/* A decoded string as standard double-quoted JSON for json-glib. */
static void emit_string(GString *out, const GString *dec)
{
    g_string_append_c(out, '"');
    for (gsize i = 0; i < dec->len; i++) {
        unsigned char c = dec->str[i];
        if (c == 0xc0 && i + 1 < dec->len && (unsigned char)dec->str[i + 1] == 0x80) {
            g_string_append(out, "\\u0000");
            i++;
        } else if (c == '"' || c == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, c);
        } else if (c < 0x20) {
            g_string_append_printf(out, "\\u%04x", c);
        } else {
            g_string_append_c(out, c);
        }
    }
    g_string_append_c(out, '"');
}

/*
 * QEMU keeps an integer that does not fit int64 as uint64 when it can, else converts it with
 * strtod.  json-glib holds int64 or double only, so both become a double here (exact for the
 * second kind, rounded for the first).
 */
static void emit_integer(Parser *p, const Tok *t)
{
    g_autofree char *text = g_strndup(p->msg + t->start, t->len);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    double d;

    errno = 0;
    g_ascii_strtoll(text, NULL, 10);
    if (errno != ERANGE) {
        g_string_append(p->out, text);
        return;
    }
    d = g_ascii_strtod(text, NULL);
    if (!isfinite(d)) {
        d = text[0] == '-' ? -DBL_MAX : DBL_MAX;
    }
    g_string_append(p->out, g_ascii_formatd(buf, sizeof(buf), "%.17g", d));
}

static bool parse_value(Parser *p);

static bool parse_object(Parser *p)
{
    GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const Tok *t;
    bool ok = false;

    pop(p);
    g_string_append_c(p->out, '{');
    t = peek(p);
    if (!t) {
        perr(p, "premature EOI");
        goto out;
    }
    if (t->type == TOK_RCURLY) {
        pop(p);
        g_string_append_c(p->out, '}');
        ok = true;
        goto out;
    }
    for (;;) {
        /* parse_pair: a value that must be a string, ':', a value, no duplicate. */
        g_autoptr(GString) key = g_string_new(NULL);
        t = peek(p);
        if (t && t->type == TOK_STRING) {
            pop(p);
            if (!decode_string(p, t, key)) {
                goto out;
            }
            emit_string(p->out, key);
        } else {
            parse_value(p);
            perr(p, "key is not a string in object");
            goto out;
        }
        t = pop(p);
        if (!t) {
            goto out;
        }
        if (t->type != TOK_COLON) {
            perr(p, "missing : in object pair");
            goto out;
        }
        g_string_append_c(p->out, ':');
        if (!parse_value(p)) {
            perr(p, "Missing value in dict");
            goto out;
        }
        if (g_hash_table_contains(keys, key->str)) {
            perr(p, "duplicate key");
            goto out;
        }
        g_hash_table_add(keys, g_strdup(key->str));
        t = pop(p);
        if (!t) {
            goto out;
        }
        if (t->type == TOK_RCURLY) {
            break;
        }
        if (t->type != TOK_COMMA) {
            perr(p, "expected separator in dict");
            goto out;
        }
        g_string_append_c(p->out, ',');
    }
    g_string_append_c(p->out, '}');
    ok = true;
out:
    g_hash_table_destroy(keys);
    return ok;
}

static bool parse_array(Parser *p)
{
    const Tok *t;

    pop(p);
    g_string_append_c(p->out, '[');
    t = peek(p);
    if (!t) {
        perr(p, "premature EOI");
        return false;
    }
    if (t->type == TOK_RSQUARE) {
        pop(p);
        g_string_append_c(p->out, ']');
        return true;
    }
    for (;;) {
        if (!parse_value(p)) {
            perr(p, "expecting value");
            return false;
        }
        t = pop(p);
        if (!t) {
            return false;
        }
        if (t->type == TOK_RSQUARE) {
            break;
        }
        if (t->type != TOK_COMMA) {
            perr(p, "expected separator in list");
            return false;
        }
        g_string_append_c(p->out, ',');
    }
    g_string_append_c(p->out, ']');
    return true;
}

static bool parse_value(Parser *p)
{
    const Tok *t = peek(p);
    bool ok;

    if (!t) {
        perr(p, "premature EOI");
        return false;
    }
    switch (t->type) {
    case TOK_LCURLY:
    case TOK_LSQUARE:
        if (++p->depth > JSON_CHECK_MAX_DEPTH) {
            perr(p, "JSON nesting depth limit exceeded");
            return false;
        }
        ok = t->type == TOK_LCURLY ? parse_object(p) : parse_array(p);
        p->depth--;
        return ok;
    case TOK_STRING: {
        g_autoptr(GString) dec = g_string_new(NULL);
        pop(p);
        if (!decode_string(p, t, dec)) {
            return false;
        }
        emit_string(p->out, dec);
        return true;
    }
    case TOK_INTEGER:
        pop(p);
        emit_integer(p, t);
        return true;
    case TOK_FLOAT:
        pop(p);
        g_string_append_len(p->out, p->msg + t->start, t->len);
        return true;
    case TOK_KEYWORD: {
        const char *s = p->msg + t->start;
        pop(p);
        if ((t->len == 4 && !strncmp(s, "true", 4)) || (t->len == 5 && !strncmp(s, "false", 5))
            || (t->len == 4 && !strncmp(s, "null", 4))) {
            g_string_append_len(p->out, s, t->len);
            return true;
        }
        perr(p, "invalid keyword '%.*s'", (int)t->len, s);
        return false;
    }
    default:
        perr(p, "expecting value");
        return false;
    }
}

/* QEMU's parser over one message's tokens: NULL and plain JSON in out, or the error. */
static char *parse_tokens(const char *msg, GArray *toks, GString *out)
{
    Parser p = { .msg = msg, .toks = toks, .out = g_string_new(NULL) };

    if (parse_value(&p) && p.pos < p.toks->len) {
        perr(&p, "expecting value");        /* a stray token after a complete value */
    }
    if (!p.err) {
        g_string_append_len(out, p.out->str, p.out->len);
    }
    g_string_free(p.out, true);
    return p.err;
}

char *json_check(const char *msg, size_t len, GString *out)
{
    GArray *toks = g_array_new(false, false, sizeof(Tok));
    char *err;
    Tok bad;

    if (!lex(msg, len, toks, &bad)) {
        err = g_strdup_printf("stray '%.*s'", (int)bad.len, msg + bad.start);
    } else {
        err = parse_tokens(msg, toks, out);
    }
    g_array_free(toks, true);
    return err;
}

static void stream_emit(const char *msg, GArray *toks, JsonCheckEmit *emit, void *opaque)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *err = parse_tokens(msg, toks, out);

    emit(opaque, err ? NULL : out->str, err);
    g_array_set_size(toks, 0);
}

void json_check_stream(const char *msg, size_t len, JsonCheckEmit *emit, void *opaque)
{
    GArray *toks = g_array_new(false, false, sizeof(Tok));
    int braces = 0, brackets = 0;
    size_t pos = 0;
    Tok t;

    while (lex_one(msg, len, &pos, &t)) {
        if (t.type == TOK_ERROR) {
            g_autofree char *err = g_strdup_printf("stray '%.*s'", (int)t.len, msg + t.start);
            emit(opaque, NULL, err);
            g_array_set_size(toks, 0);
            braces = brackets = 0;
            /* QEMU's IN_RECOVERY: skip to a structural or control character. */
            while (pos < len) {
                unsigned char c = msg[pos];
                if (c < 0x20 || c >= 0xfe || strchr("[]{}:,", c)) {
                    break;
                }
                pos++;
            }
            continue;
        }
        braces += t.type == TOK_LCURLY ? 1 : t.type == TOK_RCURLY ? -1 : 0;
        brackets += t.type == TOK_LSQUARE ? 1 : t.type == TOK_RSQUARE ? -1 : 0;
        g_array_append_val(toks, t);
        /* QEMU's streamer: a message ends when neither count is positive, or one is negative. */
        if ((braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0) {
            continue;
        }
        stream_emit(msg, toks, emit, opaque);
        braces = brackets = 0;
    }
    if (toks->len) {
        /* Unbalanced to the end (the splitter framed it): QEMU would wait; say why it fails. */
        stream_emit(msg, toks, emit, opaque);
    }
    g_array_free(toks, true);
}
