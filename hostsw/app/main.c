/* SPDX-License-Identifier: MIT */
/* hedgetrig: one binary, many subcommands (see commands.def). Exit codes: 0 ok, 1 runtime failure, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "hedgetrig/common.h"

typedef struct ht_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} ht_command;

static const ht_command g_commands[] = {
#define HT_COMMAND(name, fn, summary) {#name, fn, summary},
#include "commands.def"
#undef HT_COMMAND
    {NULL, NULL, NULL},
};

/* Prints the list of subcommands. */
static void print_usage(FILE *out)
{
    fprintf(out, "usage: hedgetrig COMMAND [OPTIONS]\n\n"
                 "hedgetrig keeps an options book's net delta inside a band at the lowest latency and cost.\n\n"
                 "commands:\n");
    for (size_t i = 0; g_commands[i].name; i++)
        fprintf(out, "  %-12s %s\n", g_commands[i].name, g_commands[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "show this list, or 'help COMMAND' for one command's usage");
    fprintf(out, "  %-12s %s\n", "version", "print the version");
    fprintf(out, "\n'hedgetrig COMMAND --help' shows the options of a command.\n");
}

static const ht_command *find_command(const char *name)
{
    for (size_t i = 0; g_commands[i].name; i++)
        if (strcmp(g_commands[i].name, name) == 0)
            return &g_commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return HT_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc >= 3) {
            const ht_command *cmd = find_command(argv[2]);
            if (!cmd) {
                fprintf(stderr, "hedgetrig: unknown command '%s'\n", argv[2]);
                return HT_EXIT_USAGE;
            }
            char *help_argv[] = {argv[2], "--help", NULL};
            return cmd->run(2, help_argv);
        }
        print_usage(stdout);
        return HT_EXIT_OK;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("hedgetrig %s\n", HT_VERSION);
        return HT_EXIT_OK;
    }
    const ht_command *cmd = find_command(name);
    if (!cmd) {
        fprintf(stderr, "hedgetrig: unknown command '%s'\n\n", name);
        print_usage(stderr);
        return HT_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
