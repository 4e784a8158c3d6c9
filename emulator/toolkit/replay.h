/* replay.h -- `understudy replay`: re-send a recorded journal and report what changed. */
#ifndef EMU_REPLAY_H
#define EMU_REPLAY_H

/* Runs the command with its arguments (after "replay"). Returns the exit status: 0 when every
 * answer matched, 1 when any differed, 2 for bad arguments or an unreadable file. */
int replay_main(int argc, char **argv);

#endif
