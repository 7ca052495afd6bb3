/*
 * Line editing for the human monitor, as plain-buffer code: feed it input bytes, it calls
 * back with the bytes to echo (terminal escape sequences included) and with each finished line.
 *
 * The echo never prints the prompt again within a line (edits move the cursor back and
 * redraw the text), so the prompt appears once per line, as programs scraping it expect.
 * Keys (what a VT100-style terminal sends): printable characters insert at the cursor;
 * Left/Right, Home/End (ESC [ H/F, ESC O H/F, ESC [ 1~/4~/7~/8~), Delete (ESC [ 3~), Up/Down
 * walk the history; Ctrl-A/E home/end, Ctrl-B/F left/right, Ctrl-D delete, Ctrl-H/DEL
 * backspace, Ctrl-K kill to the end, Ctrl-U kill to the start, Ctrl-W kill the word before the
 * cursor, Ctrl-P/N history, Tab completion.  CR, LF and CR LF each end a line, so a program
 * that sends plain "cmd\n" lines over a socket is served as well as a terminal.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_READLINE_H
#define MONITOR_READLINE_H

#include "kite/osdep.h"

#define READLINE_CMD_BUF_SIZE 4095
#define READLINE_MAX_HISTORY 64

/* Bytes for the terminal. */
typedef void ReadLineOutput(void *opaque, const char *buf, size_t len);
/* A finished line (without its terminator). */
typedef void ReadLineFunc(void *opaque, const char *line);
/*
 * Tab: the candidates (whole words) for the last word of cmdline, the text up to the cursor;
 * add them to out (g_strdup'ed strings).  The last word is what follows the last space.
 */
typedef void ReadLineCompletion(void *opaque, const char *cmdline, GPtrArray *out);

typedef enum ReadLineEsc { RL_NORM, RL_ESC, RL_CSI, RL_SS3 } ReadLineEsc;

typedef struct ReadLineState {
    char buf[READLINE_CMD_BUF_SIZE + 1];
    int len;                /* characters in buf */
    int pos;                /* cursor, 0..len */
    int term_pos;           /* where the terminal's cursor is, as far as we moved it */
    ReadLineEsc esc;
    int esc_param;
    bool last_was_cr;       /* swallow the LF of a CR LF pair */
    char *history[READLINE_MAX_HISTORY];   /* oldest first, NULL-terminated when not full */
    int hist_entry;         /* -1: editing a new line; else the history entry shown */
    char *saved;            /* the new line being edited while browsing the history */
    char *prompt;
    ReadLineOutput *output;
    ReadLineFunc *line_fn;
    ReadLineCompletion *completion;
    void *opaque;
} ReadLineState;

void readline_init(ReadLineState *rs, ReadLineOutput *output, ReadLineFunc *line_fn,
                   ReadLineCompletion *completion, void *opaque);
void readline_free(ReadLineState *rs);
void readline_set_prompt(ReadLineState *rs, const char *prompt);
/* Print the prompt and the line being edited (after other output or a focus switch). */
void readline_show_prompt(ReadLineState *rs);
/* Forget the line being edited and any half-read escape sequence. */
void readline_restart(ReadLineState *rs);
void readline_handle_byte(ReadLineState *rs, uint8_t ch);
void readline_feed(ReadLineState *rs, const uint8_t *buf, size_t len);
/* History entry i (0 = oldest) or NULL. */
const char *readline_get_history(ReadLineState *rs, int i);

#endif
