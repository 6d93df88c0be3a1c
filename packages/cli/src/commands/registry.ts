import type { Command } from './command.js';

/** The commands by name. Each loads lazily, so `kinesis-kit mock` does not load the producer and consumer. */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  demo: async () => (await import('./demo.js')).demoCommand,
  mock: async () => (await import('./mock.js')).mockCommand,
  put: async () => (await import('./put.js')).putCommand,
  tail: async () => (await import('./tail.js')).tailCommand,
  leases: async () => (await import('./leases.js')).leasesCommand,
  agent: async () => (await import('./agent.js')).agentCommand,
};
