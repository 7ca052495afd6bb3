/*
 * The monitor's line editor on plain buffers: typed bytes in, echo and finished lines out.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "monitor/readline.h"

typedef struct Term {
    ReadLineState rs;
    GString *echo;
    GPtrArray *lines;
} Term;

static void t_output(void *opaque, const char *buf, size_t len)
{
    g_string_append_len(((Term *)opaque)->echo, buf, len);
}

static void t_line(void *opaque, const char *line)
{
    g_ptr_array_add(((Term *)opaque)->lines, g_strdup(line));
}

static void t_complete(void *opaque, const char *cmdline, GPtrArray *out)
{
    static const char *const words[] = { "info", "inject-nmi", "quit", "help", "x", "xp" };
    static const char *const info_words[] = { "status", "registers", "qtree", "qom-tree" };

    if (!strchr(cmdline, ' ')) {
        for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
            g_ptr_array_add(out, g_strdup(words[i]));
        }
    } else if (g_str_has_prefix(cmdline, "info ")) {
        for (size_t i = 0; i < G_N_ELEMENTS(info_words); i++) {
            g_ptr_array_add(out, g_strdup(info_words[i]));
        }
    }
}

static Term *term_new(void)
{
    Term *t = g_new0(Term, 1);

    t->echo = g_string_new(NULL);
    t->lines = g_ptr_array_new_with_free_func(g_free);
    readline_init(&t->rs, t_output, t_line, t_complete, t);
    readline_set_prompt(&t->rs, "(qemu) ");
    return t;
}

static void term_free(Term *t)
{
    readline_free(&t->rs);
    g_string_free(t->echo, true);
    g_ptr_array_free(t->lines, true);
    g_free(t);
}

static void type(Term *t, const char *s)
{
    readline_feed(&t->rs, (const uint8_t *)s, strlen(s));
}

static const char *last_line(Term *t)
{
    g_assert_cmpuint(t->lines->len, >, 0);
    return t->lines->pdata[t->lines->len - 1];
}

static void test_plain_lines(void)
{
    Term *t = term_new();

    /* LF, CR and CR LF each end exactly one line (a socket client sends any of them). */
    type(t, "info status\nstop\rcont\r\nquit\n");
    g_assert_cmpuint(t->lines->len, ==, 4);
    g_assert_cmpstr(t->lines->pdata[0], ==, "info status");
    g_assert_cmpstr(t->lines->pdata[1], ==, "stop");
    g_assert_cmpstr(t->lines->pdata[2], ==, "cont");
    g_assert_cmpstr(t->lines->pdata[3], ==, "quit");
    /* An empty line is delivered too (the monitor shows a new prompt). */
    type(t, "\n");
    g_assert_cmpstr(last_line(t), ==, "");
    /* Typing at the end echoes the characters themselves, then CR LF. */
    g_string_truncate(t->echo, 0);
    type(t, "ab\n");
    g_assert_cmpstr(t->echo->str, ==, "ab\r\n");
    term_free(t);
}

static void test_editing(void)
{
    Term *t = term_new();

    /* Left twice, insert: "heXllo"; Home, insert "Y"; End, backspace (DEL). */
    type(t, "hello\033[D\033[DX\001Y\005\177\n");
    g_assert_cmpstr(last_line(t), ==, "YhelXl");
    /* Ctrl-B / Ctrl-F, Delete (ESC [ 3 ~), Ctrl-D. */
    type(t, "abcd\002\002\033[3~\n");
    g_assert_cmpstr(last_line(t), ==, "abd");
    type(t, "abcd\001\004\006x\n");
    g_assert_cmpstr(last_line(t), ==, "bxcd");
    /* Home/End in their other spellings: ESC [ H, ESC O F, ESC [ 1 ~, ESC [ 4 ~. */
    type(t, "mid\033[HA\033OFZ\033[1~B\033[4~C\n");
    g_assert_cmpstr(last_line(t), ==, "BAmidZC");
    /* Ctrl-K kills to the end, Ctrl-U to the start. */
    type(t, "keep this\033[D\033[D\033[D\033[D\013\n");
    g_assert_cmpstr(last_line(t), ==, "keep ");
    type(t, "drop keep\033[D\033[D\033[D\033[D\025\n");
    g_assert_cmpstr(last_line(t), ==, "keep");
    /* Ctrl-W kills the word before the cursor and the spaces after it. */
    type(t, "xp /4x  0x100\027\n");
    g_assert_cmpstr(last_line(t), ==, "xp /4x  ");
    type(t, "xp /4x  \027\n");
    g_assert_cmpstr(last_line(t), ==, "xp ");
    /* Backspace at the start and Left/Right past the ends do nothing. */
    type(t, "\177\033[Dab\033[C\033[C\177\n");
    g_assert_cmpstr(last_line(t), ==, "a");
    /* Modified cursor keys (ESC [ 1 ; 5 D) still move; unknown sequences are ignored. */
    type(t, "ab\033[1;5Dx\033[Z\n");
    g_assert_cmpstr(last_line(t), ==, "axb");
    term_free(t);
}

static void test_redraw(void)
{
    Term *t = term_new();

    type(t, "abc");
    g_string_truncate(t->echo, 0);
    /* An edit in the middle redraws the row and puts the cursor back. */
    type(t, "\033[D\033[D");
    g_string_truncate(t->echo, 0);
    type(t, "X");
    g_assert_cmpstr(t->echo->str, ==, "\033[1DaXbc\033[K\033[2D");
    /* Cursor keys are relative moves; the prompt is never printed again within a line. */
    g_string_truncate(t->echo, 0);
    type(t, "\033[D\005\001");
    g_assert_cmpstr(t->echo->str, ==, "\033[1D\033[3C\033[4D");
    type(t, "\177\033[3~\033[A\033[B\025");
    g_assert_null(strstr(t->echo->str, "(qemu)"));
    type(t, "\033[C\033[C");
    g_string_truncate(t->echo, 0);
    readline_show_prompt(&t->rs);
    g_assert_cmpstr(t->echo->str, ==, "(qemu) Xbc\033[1D");
    term_free(t);
}

static void test_history(void)
{
    Term *t = term_new();

    type(t, "one\ntwo\nthree\n");
    /* Up walks back, Down forward, and past the newest returns to the line being typed. */
    type(t, "new\033[A\033[A\n");
    g_assert_cmpstr(last_line(t), ==, "two");
    /* "two" moved to the end of the history: one three two */
    g_assert_cmpstr(readline_get_history(&t->rs, 0), ==, "one");
    g_assert_cmpstr(readline_get_history(&t->rs, 1), ==, "three");
    g_assert_cmpstr(readline_get_history(&t->rs, 2), ==, "two");
    g_assert_null(readline_get_history(&t->rs, 3));
    type(t, "draft\033[A\033[A\033[B\033[B\n");
    g_assert_cmpstr(last_line(t), ==, "draft");
    /* Ctrl-P / Ctrl-N, and Up at the oldest entry stays there. */
    type(t, "\020\020\020\020\020\020\016\n");
    g_assert_cmpstr(last_line(t), ==, "three");
    /* Empty lines do not enter the history; the history is bounded. */
    for (int i = 0; i < READLINE_MAX_HISTORY + 10; i++) {
        g_autofree char *s = g_strdup_printf("cmd%d\n\n", i);
        type(t, s);
    }
    g_assert_cmpstr(readline_get_history(&t->rs, 0), ==, "cmd10");
    g_assert_cmpstr(readline_get_history(&t->rs, READLINE_MAX_HISTORY - 1), ==,
                    "cmd73");
    term_free(t);
}

static void test_completion(void)
{
    Term *t = term_new();

    /* One candidate: completed, with a space. */
    type(t, "q\t\n");
    g_assert_cmpstr(last_line(t), ==, "quit ");
    /* Several: extended to the common prefix, then listed. */
    type(t, "in\t");
    g_assert_cmpstr(t->rs.buf, ==, "in");
    g_string_truncate(t->echo, 0);
    type(t, "f\t");
    g_assert_cmpstr(t->rs.buf, ==, "info ");
    type(t, "q\t");
    g_assert_cmpstr(t->rs.buf, ==, "info q");
    g_string_truncate(t->echo, 0);
    type(t, "\t");
    g_assert_nonnull(strstr(t->echo->str, "qom-tree"));
    g_assert_nonnull(strstr(t->echo->str, "qtree"));
    /* ... and the prompt and line come back after the list. */
    g_assert_true(g_str_has_suffix(t->echo->str, "(qemu) info q"));
    type(t, "t\t\n");
    g_assert_cmpstr(last_line(t), ==, "info qtree ");
    /* "x" is a whole command and a prefix of "xp": common prefix "x" adds nothing. */
    type(t, "x\t");
    g_assert_cmpstr(t->rs.buf, ==, "x");
    type(t, "\025zzz\t\n");
    g_assert_cmpstr(last_line(t), ==, "zzz");
    term_free(t);
}

static void test_long_line(void)
{
    Term *t = term_new();
    g_autofree char *big = g_strnfill(READLINE_CMD_BUF_SIZE + 500, 'a');

    /* Input beyond the buffer is dropped, never written past it. */
    type(t, big);
    type(t, "\033[D\033[Dbb");
    type(t, "\n");
    g_assert_cmpuint(strlen(last_line(t)), ==, READLINE_CMD_BUF_SIZE);
    /* A long escape parameter is clamped. */
    type(t, "\033[99999999999999999999~ok\n");
    g_assert_cmpstr(last_line(t), ==, "ok");
    /* NUL and other control characters are not inserted. */
    readline_feed(&t->rs, (const uint8_t *)"a\0\003\022b\n", 6);
    g_assert_cmpstr(last_line(t), ==, "ab");
    readline_restart(&t->rs);
    type(t, "\033[");
    readline_restart(&t->rs);
    type(t, "A\n");
    g_assert_cmpstr(last_line(t), ==, "A");
    term_free(t);
}

/* Random bytes: nothing crashes, the line stays within its buffer and NUL-terminated. */
static void test_random(void)
{
    Term *t = term_new();
    GRand *r = g_rand_new_with_seed(1234);

    for (int i = 0; i < 200000; i++) {
        uint8_t b = g_rand_int_range(r, 0, 256);
        if (b == '\t' && g_rand_int_range(r, 0, 4)) {
            continue;
        }
        readline_handle_byte(&t->rs, b);
        g_assert_cmpint(t->rs.pos, >=, 0);
        g_assert_cmpint(t->rs.pos, <=, t->rs.len);
        g_assert_cmpint(t->rs.term_pos, ==, t->rs.pos);
        g_assert_cmpint(t->rs.len, <=, READLINE_CMD_BUF_SIZE);
        g_assert_cmpuint(strlen(t->rs.buf), <=, (size_t)t->rs.len);
        if (t->echo->len > 1 << 20) {
            g_string_truncate(t->echo, 0);
        }
    }
    g_rand_free(r);
    term_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/readline/plain-lines", test_plain_lines);
    g_test_add_func("/readline/editing", test_editing);
    g_test_add_func("/readline/redraw", test_redraw);
    g_test_add_func("/readline/history", test_history);
    g_test_add_func("/readline/completion", test_completion);
    g_test_add_func("/readline/long-line", test_long_line);
    g_test_add_func("/readline/random", test_random);
    return g_test_run();
}
