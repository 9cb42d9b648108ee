import type { Command } from 'commander';
import type { Out } from './main.ts';

/** `lligall rollout requests|waves|provision|state|checklist`: the roll-out for operators (issue 6). */
export function registerRolloutCommands(program: Command, _out: Out): void {
  program
    .command('rollout')
    .description("The Diputació's roll-out: enrolment requests, waves, provisioning, states");
}
