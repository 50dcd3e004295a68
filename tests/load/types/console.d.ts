// k6 gives every script a console (log, info, debug, warn, error: each line goes to k6's log),
// which @types/k6 does not declare. Types only: the loadtest chart ships no .d.ts file.
declare const console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
};
