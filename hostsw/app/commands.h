/* SPDX-License-Identifier: MIT */
/* Declarations of every subcommand listed in commands.def. */
#ifndef HEDGETRIG_APP_COMMANDS_H
#define HEDGETRIG_APP_COMMANDS_H

#define HT_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef HT_COMMAND

#endif
