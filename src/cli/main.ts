import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';
import { AppError } from '#platform/errors.ts';
import { registerAdminCommands } from './admin.ts';
import { registerCalendarCommands } from './calendar.ts';
import { registerJobsCommands } from './jobs.ts';
import { registerServeCommand } from './serve.ts';
import { registerOpsCommands } from './ops.ts';
import { registerSealCommands } from './seals.ts';
import { registerMuxCommands } from './mux.ts';
import { registerTrustCommands } from './trust.ts';
import { relayIfServerRunning } from './relay.ts';

/** A command's output goes here (stdout for the CLI; a buffer when run through the server). */
export type Out = { log(line: string): void; error(line: string): void };
export const stdout: Out = { log: (l) => console.log(l), error: (l) => console.error(l) };

export function buildProgram(out: Out = stdout): Command {
  const program = new Command('lligall')
    .description("Lligall: electronic case files for local government (gestor d'expedients)")
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeOut: (s) => out.log(s.trimEnd()), writeErr: (s) => out.error(s.trimEnd()) });
  registerServeCommand(program, out);
  registerAdminCommands(program, out);
  registerOpsCommands(program, out);
  registerCalendarCommands(program, out);
  registerSealCommands(program, out);
  registerJobsCommands(program, out);
  registerMuxCommands(program, out);
  registerTrustCommands(program, out);
  return program;
}

/** Runs the CLI; returns the exit code. Errors become one clear message, never a stack trace. */
export async function main(argv: string[], out: Out = stdout): Promise<number> {
  try {
    // The embedded database belongs to one process: if a server holds it, run the command there.
    const relayed = await relayIfServerRunning(loadConfig(), argv, out);
    if (relayed !== null) return relayed;
    const program = buildProgram(out);
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ConfigError) {
      out.error(e.message);
      return 2;
    }
    if (e instanceof AppError) {
      out.error(`lligall: ${e.message} (${e.code})`);
      return 1;
    }
    out.error(`lligall: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}
