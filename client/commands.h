/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  Entry points of the pg_rotate commands that live outside main.c.
 *	  Each takes the whole command line and returns an exit code (error.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_COMMANDS_H
#define PGR_COMMANDS_H

extern int	cmd_rotate(int argc, char **argv);
extern int	cmd_step(int argc, char **argv);
extern int	cmd_check(int argc, char **argv);
extern int	cmd_lambda(int argc, char **argv);
extern int	cmd_secret(int argc, char **argv);

#endif							/* PGR_COMMANDS_H */
