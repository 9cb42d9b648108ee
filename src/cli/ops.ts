import type { Command } from 'commander';
import type { Out } from './main.ts';

/** Operations commands: audit verification, backup and restore. */
export function registerOpsCommands(program: Command, out: Out): void {
  void program;
  void out;
}
