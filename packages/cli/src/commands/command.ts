/** What a command gets from the program: output streams, stdin and a signal for Ctrl-C. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  stdin: NodeJS.ReadableStream;
  /** Aborted on SIGINT/SIGTERM: commands stop cleanly and return. */
  signal: AbortSignal;
  /** True when stdout is a terminal (progress lines may rewrite themselves). */
  isTty: boolean;
}

export type Command = (argv: string[], io: CommandIo) => Promise<number>;
