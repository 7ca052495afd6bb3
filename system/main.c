/*
 * kite: entry point.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-version") || !strcmp(argv[1], "--version"))) {
        printf("Kite emulator version %s\n", KITE_VERSION);
        return 0;
    }
    fprintf(stderr, "kite: nothing to run yet\n");
    return 1;
}
