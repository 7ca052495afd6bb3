/*
 * Line editing for the human monitor: see readline.h.
 *
 * The echo is kept simple: a character typed at the end of the line is echoed as is, cursor
 * movement is a relative move, and any other change redraws the text from the start of the
 * line (cursor back, text, erase to the end of the row, cursor back to its place).  Escape sequences follow ECMA-48 (CSI =
 * ESC [, SS3 = ESC O), as xterm and the Linux console send them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/readline.h"

static void rl_out(ReadLineState *rs, const char *s, size_t len)
{
    if (len) {
        rs->output(rs->opaque, s, len);
    }
}

static void rl_puts(ReadLineState *rs, const char *s)
{
    rl_out(rs, s, strlen(s));
}

/* Move the terminal's cursor from where it is (term_pos) to the edit position. */
static void rl_cursor_to(ReadLineState *rs, GString *s, int pos)
{
    if (pos < rs->term_pos) {
        g_string_append_printf(s, "\033[%dD", rs->term_pos - pos);
    } else if (pos > rs->term_pos) {
        g_string_append_printf(s, "\033[%dC", pos - rs->term_pos);
    }
    rs->term_pos = pos;
}

/*
 * Redraw the line after an edit: back to its start, the text, erase the rest of the row, then
 * the cursor to its place.  The prompt is not printed again, so "(qemu) " appears once per
 * line for the programs that scrape it (as with QEMU's readline).
 */
static void rl_redraw(ReadLineState *rs)
{
    g_autoptr(GString) s = g_string_new(NULL);

    rl_cursor_to(rs, s, 0);
    g_string_append_len(s, rs->buf, rs->len);
    g_string_append(s, "\033[K");
    rs->term_pos = rs->len;
    rl_cursor_to(rs, s, rs->pos);
    rl_out(rs, s->str, s->len);
}

static void rl_set_line(ReadLineState *rs, const char *text)
{
    size_t n = MIN(strlen(text), (size_t)READLINE_CMD_BUF_SIZE);

    memcpy(rs->buf, text, n);
    rs->buf[n] = 0;
    rs->len = rs->pos = n;
    rl_redraw(rs);
}

static void rl_insert(ReadLineState *rs, const char *text, int n)
{
    n = MIN(n, READLINE_CMD_BUF_SIZE - rs->len);
    if (n <= 0) {
        return;
    }
    memmove(rs->buf + rs->pos + n, rs->buf + rs->pos, rs->len - rs->pos);
    memcpy(rs->buf + rs->pos, text, n);
    rs->len += n;
    rs->pos += n;
    rs->buf[rs->len] = 0;
    if (rs->pos == rs->len && rs->term_pos == rs->pos - n) {
        rs->term_pos = rs->pos;
        rl_out(rs, text, n);        /* typing at the end: a plain echo */
    } else {
        rl_redraw(rs);
    }
}

/* Remove [from, to) and put the cursor at from. */
static void rl_delete(ReadLineState *rs, int from, int to)
{
    if (from >= to) {
        return;
    }
    memmove(rs->buf + from, rs->buf + to, rs->len - to);
    rs->len -= to - from;
    rs->pos = from;
    rs->buf[rs->len] = 0;
    rl_redraw(rs);
}

static void rl_move(ReadLineState *rs, int pos)
{
    g_autoptr(GString) s = g_string_new(NULL);

    pos = CLAMP(pos, 0, rs->len);
    if (pos == rs->pos) {
        return;
    }
    rs->pos = pos;
    rl_cursor_to(rs, s, pos);
    rl_out(rs, s->str, s->len);
}

static int rl_history_count(ReadLineState *rs)
{
    int n = 0;

    while (n < READLINE_MAX_HISTORY && rs->history[n]) {
        n++;
    }
    return n;
}

static void rl_history_add(ReadLineState *rs, const char *line)
{
    int n = rl_history_count(rs);

    if (!line[0]) {
        return;
    }
    /* An entry typed again moves to the end instead of appearing twice. */
    for (int i = 0; i < n; i++) {
        if (!strcmp(rs->history[i], line)) {
            char *e = rs->history[i];
            memmove(&rs->history[i], &rs->history[i + 1], (n - i - 1) * sizeof(char *));
            rs->history[n - 1] = e;
            return;
        }
    }
    if (n == READLINE_MAX_HISTORY) {
        g_free(rs->history[0]);
        memmove(&rs->history[0], &rs->history[1], (n - 1) * sizeof(char *));
        n--;
    }
    rs->history[n] = g_strdup(line);
}

static void rl_history_up(ReadLineState *rs)
{
    int n = rl_history_count(rs);

    if (rs->hist_entry == -1) {
        if (!n) {
            return;
        }
        g_free(rs->saved);
        rs->saved = g_strndup(rs->buf, rs->len);
        rs->hist_entry = n - 1;
    } else if (rs->hist_entry > 0) {
        rs->hist_entry--;
    } else {
        return;
    }
    rl_set_line(rs, rs->history[rs->hist_entry]);
}

static void rl_history_down(ReadLineState *rs)
{
    int n = rl_history_count(rs);

    if (rs->hist_entry == -1) {
        return;
    }
    if (rs->hist_entry < n - 1) {
        rs->hist_entry++;
        rl_set_line(rs, rs->history[rs->hist_entry]);
    } else {
        rs->hist_entry = -1;
        rl_set_line(rs, rs->saved ? rs->saved : "");
        g_clear_pointer(&rs->saved, g_free);
    }
}

static void rl_kill_word(ReadLineState *rs)
{
    int start = rs->pos;

    while (start > 0 && rs->buf[start - 1] == ' ') {
        start--;
    }
    while (start > 0 && rs->buf[start - 1] != ' ') {
        start--;
    }
    rl_delete(rs, start, rs->pos);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rl_complete(ReadLineState *rs)
{
    g_autoptr(GPtrArray) cands = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *cmdline = g_strndup(rs->buf, rs->pos);
    const char *word = strrchr(cmdline, ' ');
    size_t wlen, common;
    guint n;

    if (!rs->completion) {
        return;
    }
    word = word ? word + 1 : cmdline;
    wlen = strlen(word);
    rs->completion(rs->opaque, cmdline, cands);
    /* Keep the candidates that extend the word, sorted, without duplicates. */
    for (guint i = 0; i < cands->len;) {
        if (strncmp(cands->pdata[i], word, wlen)) {
            g_ptr_array_remove_index(cands, i);
        } else {
            i++;
        }
    }
    g_ptr_array_sort(cands, cmp_str);
    for (guint i = 1; i < cands->len;) {
        if (!strcmp(cands->pdata[i], cands->pdata[i - 1])) {
            g_ptr_array_remove_index(cands, i);
        } else {
            i++;
        }
    }
    n = cands->len;
    if (!n) {
        return;
    }
    if (n == 1) {
        const char *c = cands->pdata[0];
        rl_insert(rs, c + wlen, strlen(c) - wlen);
        rl_insert(rs, " ", 1);
        return;
    }
    /* Several: extend to the longest common prefix, or list them if there is nothing to add. */
    common = strlen(cands->pdata[0]);
    for (guint i = 1; i < n; i++) {
        const char *a = cands->pdata[0], *b = cands->pdata[i];
        size_t k = 0;
        while (k < common && a[k] == b[k]) {
            k++;
        }
        common = k;
    }
    if (common > wlen) {
        rl_insert(rs, (const char *)cands->pdata[0] + wlen, common - wlen);
        return;
    }
    {
        g_autoptr(GString) s = g_string_new("\r\n");
        size_t width = 0;
        int per_line, col = 0;

        for (guint i = 0; i < n; i++) {
            width = MAX(width, strlen(cands->pdata[i]));
        }
        width += 2;
        per_line = MAX(1, 80 / (int)width);
        for (guint i = 0; i < n; i++) {
            g_string_append_printf(s, "%-*s", (int)width, (const char *)cands->pdata[i]);
            if (++col == per_line || i == n - 1) {
                g_string_append(s, "\r\n");
                col = 0;
            }
        }
        rl_out(rs, s->str, s->len);
        readline_show_prompt(rs);
    }
}

static void rl_enter(ReadLineState *rs)
{
    g_autofree char *line = g_strndup(rs->buf, rs->len);

    rl_puts(rs, "\r\n");
    rs->term_pos = 0;
    rl_history_add(rs, line);
    rs->len = rs->pos = 0;
    rs->buf[0] = 0;
    rs->hist_entry = -1;
    g_clear_pointer(&rs->saved, g_free);
    if (rs->line_fn) {
        rs->line_fn(rs->opaque, line);
    }
}

/* The final byte of ESC [ <param> <final> or ESC O <final>. */
static void rl_escape_final(ReadLineState *rs, uint8_t ch)
{
    switch (ch) {
    case 'A':
        rl_history_up(rs);
        break;
    case 'B':
        rl_history_down(rs);
        break;
    case 'C':
        rl_move(rs, rs->pos + 1);
        break;
    case 'D':
        rl_move(rs, rs->pos - 1);
        break;
    case 'H':
        rl_move(rs, 0);
        break;
    case 'F':
        rl_move(rs, rs->len);
        break;
    case '~':
        switch (rs->esc_param) {
        case 1:
        case 7:
            rl_move(rs, 0);
            break;
        case 4:
        case 8:
            rl_move(rs, rs->len);
            break;
        case 3:
            rl_delete(rs, rs->pos, MIN(rs->pos + 1, rs->len));
            break;
        }
        break;
    }
}

void readline_handle_byte(ReadLineState *rs, uint8_t ch)
{
    bool was_cr = rs->last_was_cr;

    rs->last_was_cr = false;
    switch (rs->esc) {
    case RL_ESC:
        rs->esc_param = 0;
        rs->esc = ch == '[' ? RL_CSI : ch == 'O' ? RL_SS3 : RL_NORM;
        return;
    case RL_CSI:
        if (ch >= '0' && ch <= '9') {
            rs->esc_param = MIN(rs->esc_param * 10 + (ch - '0'), 1000);
            return;
        }
        if (ch == ';') {
            rs->esc_param = 0;       /* modifiers (ESC [ 1 ; 5 C): keep the key only */
            return;
        }
        rs->esc = RL_NORM;
        rl_escape_final(rs, ch);
        return;
    case RL_SS3:
        rs->esc = RL_NORM;
        rl_escape_final(rs, ch);
        return;
    case RL_NORM:
        break;
    }

    switch (ch) {
    case 1:     /* Ctrl-A */
        rl_move(rs, 0);
        break;
    case 2:     /* Ctrl-B */
        rl_move(rs, rs->pos - 1);
        break;
    case 4:     /* Ctrl-D */
        rl_delete(rs, rs->pos, MIN(rs->pos + 1, rs->len));
        break;
    case 5:     /* Ctrl-E */
        rl_move(rs, rs->len);
        break;
    case 6:     /* Ctrl-F */
        rl_move(rs, rs->pos + 1);
        break;
    case 8:     /* Ctrl-H */
    case 127:   /* DEL, what most terminals send for Backspace */
        rl_delete(rs, MAX(rs->pos - 1, 0), rs->pos);
        break;
    case 9:
        rl_complete(rs);
        break;
    case 10:
        if (!was_cr) {
            rl_enter(rs);
        }
        break;
    case 13:
        rs->last_was_cr = true;
        rl_enter(rs);
        break;
    case 11:    /* Ctrl-K */
        if (rs->pos < rs->len) {
            rs->len = rs->pos;
            rs->buf[rs->len] = 0;
            rl_puts(rs, "\033[K");
        }
        break;
    case 14:    /* Ctrl-N */
        rl_history_down(rs);
        break;
    case 16:    /* Ctrl-P */
        rl_history_up(rs);
        break;
    case 21:    /* Ctrl-U */
        rl_delete(rs, 0, rs->pos);
        break;
    case 23:    /* Ctrl-W */
        rl_kill_word(rs);
        break;
    case 27:
        rs->esc = RL_ESC;
        break;
    default:
        if (ch >= 32) {
            char c = ch;
            rl_insert(rs, &c, 1);
        }
        break;
    }
}

void readline_feed(ReadLineState *rs, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        readline_handle_byte(rs, buf[i]);
    }
}

void readline_show_prompt(ReadLineState *rs)
{
    g_autoptr(GString) s = g_string_new(rs->prompt ? rs->prompt : "");

    g_string_append_len(s, rs->buf, rs->len);
    rs->term_pos = rs->len;
    rl_cursor_to(rs, s, rs->pos);
    rl_out(rs, s->str, s->len);
}

void readline_restart(ReadLineState *rs)
{
    rs->len = rs->pos = rs->term_pos = 0;
    rs->buf[0] = 0;
    rs->esc = RL_NORM;
    rs->last_was_cr = false;
    rs->hist_entry = -1;
    g_clear_pointer(&rs->saved, g_free);
}

void readline_set_prompt(ReadLineState *rs, const char *prompt)
{
    g_free(rs->prompt);
    rs->prompt = g_strdup(prompt);
}

const char *readline_get_history(ReadLineState *rs, int i)
{
    return i >= 0 && i < READLINE_MAX_HISTORY ? rs->history[i] : NULL;
}

void readline_init(ReadLineState *rs, ReadLineOutput *output, ReadLineFunc *line_fn,
                   ReadLineCompletion *completion, void *opaque)
{
    memset(rs, 0, sizeof(*rs));
    rs->hist_entry = -1;
    rs->output = output;
    rs->line_fn = line_fn;
    rs->completion = completion;
    rs->opaque = opaque;
}

void readline_free(ReadLineState *rs)
{
    for (int i = 0; i < READLINE_MAX_HISTORY; i++) {
        g_free(rs->history[i]);
    }
    g_free(rs->saved);
    g_free(rs->prompt);
    memset(rs, 0, sizeof(*rs));
}
