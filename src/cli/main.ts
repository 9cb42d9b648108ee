import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';
import { AppError } from '#platform/errors.ts';
import { relayIfServerRunning } from './relay.ts';

/** A command's output goes here (stdout for the CLI; a buffer when run through the server). */
export type Out = { log(line: string): void; error(line: string): void };
export const stdout: Out = { log: (l) => console.log(l), error: (l) => console.error(l) };

type Register = (program: Command, out: Out) => void;

/**
 * The command families, in the order `--help` lists them, each with the top-level commands it
 * defines and how to load it. A family's module is imported only when the command line names one
 * of its commands: `lligall user create` does not load the PDF, signature, XML or HTTP stacks the
 * other families need (each `lligall` process would otherwise spend seconds loading them).
 * `key` has two families: `key init` (admin) and `key rotate` (seals).
 */
const FAMILIES: { commands: string[]; load: () => Promise<Register> }[] = [
  { commands: ['serve'], load: async () => (await import('./serve.ts')).registerServeCommand },
  {
    commands: ['migrate', 'tenant', 'user', 'key', 'token'],
    load: async () => (await import('./admin.ts')).registerAdminCommands,
  },
  {
    commands: ['audit', 'backup', 'restore'],
    load: async () => (await import('./ops.ts')).registerOpsCommands,
  },
  { commands: ['calendar'], load: async () => (await import('./calendar.ts')).registerCalendarCommands },
  { commands: ['ca', 'key', 'seal'], load: async () => (await import('./seals.ts')).registerSealCommands },
  { commands: ['jobs'], load: async () => (await import('./jobs.ts')).registerJobsCommands },
  { commands: ['mux'], load: async () => (await import('./mux.ts')).registerMuxCommands },
  { commands: ['trust'], load: async () => (await import('./trust.ts')).registerTrustCommands },
  { commands: ['rollout'], load: async () => (await import('./rollout.ts')).registerRolloutCommands },
];

/**
 * The program with the families `argv` needs: those defining its command (the first operand), or
 * every family when it names none of them (`--help`, `help`, no command, an unknown command), so
 * help and "unknown command" answers are those of the whole program.
 */
export async function buildProgram(out: Out = stdout, argv: string[] = []): Promise<Command> {
  const program = new Command('lligall')
    .description("Lligall: electronic case files for local government (gestor d'expedients)")
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeOut: (s) => out.log(s.trimEnd()), writeErr: (s) => out.error(s.trimEnd()) });
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  const named = FAMILIES.filter((f) => command !== undefined && f.commands.includes(command));
  for (const f of named.length > 0 ? named : FAMILIES) (await f.load())(program, out);
  return program;
}

/** Runs the CLI; returns the exit code. Errors become one clear message, never a stack trace. */
export async function main(argv: string[], out: Out = stdout): Promise<number> {
  try {
    // The embedded database belongs to one process: if a server holds it, run the command there.
    const relayed = await relayIfServerRunning(loadConfig(), argv, out);
    if (relayed !== null) return relayed;
    const program = await buildProgram(out, argv);
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
