import { readFileSync } from 'node:fs';

/** What a function is; see tools/polo/src/manifest.rs. */
export type Kind = 'route' | 'job' | 'ops';
/** A table, or objects of the data bucket. */
export type Data = 'resource-table' | 'report-table' | 'session-table' | 'snapshot.*' | 'costs.*' | 'usage.json' | 'metrics.json' | 'sync/*' | 'exports/*';
export const TABLES: readonly Data[] = ['resource-table', 'report-table', 'session-table'];

/** The bucket objects (keys or prefixes) a piece of data is: the snapshot and the cost store
 * are stored in two layouts (`.bin` for route functions, `.json` for people and as their
 * fallback), each granted by its exact key. */
export function objectsOf(d: Data): string[] {
  switch (d) {
    case 'snapshot.*':
      return ['snapshot.bin', 'snapshot.json'];
    case 'costs.*':
      return ['costs.bin', 'costs.json'];
    default:
      return [d];
  }
}

export interface Schedule {
  name: string;
  /** An EventBridge `rate(…)` or `cron(…)` expression. */
  expression: string;
  /** Evaluated in the report time zone (EventBridge Scheduler), not UTC. */
  in_report_zone: boolean;
  input?: unknown;
}

export interface Route {
  method: string;
  path: string;
  authorized: boolean;
}

/** One function, as its Cargo.toml's `[package.metadata.polo]` declares it, with its routes. */
export interface FunctionSpec {
  name: string;
  kind: Kind;
  memory_mb: number;
  timeout_seconds: number;
  reads: Data[];
  writes: Data[];
  /** Tables written many items a call (BatchWriteItem). */
  batch_writes: Data[];
  assumes: ('fleet-roles' | 'core-role')[];
  slack: 'reports' | 'ops' | null;
  /** The Slack app: posting as its bot, or answering its interactions too. */
  slack_app: 'bot' | 'interactions' | null;
  subscribes: 'alarm-topic' | 'data-written' | null;
  schedules: Schedule[];
  routes: Route[];
}

export interface Manifest {
  functions: FunctionSpec[];
}

/** Every piece of data a function touches. */
export const dataOf = (f: FunctionSpec): Data[] => [...new Set([...f.reads, ...f.writes])];

/** Reads `cdk/manifest.json` (`polo manifest --json`; a Rust test keeps it equal to what the functions declare). */
export function loadManifest(file: string): Manifest {
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  if (!Array.isArray(manifest.functions) || manifest.functions.length === 0) {
    throw new Error(`${file}: expected {"functions": [...]} with at least one function`);
  }
  return manifest;
}

/** How often the sync runs: its `cron(0/N * * * ? *)` (or `rate(N minutes)`) schedule. */
export function syncIntervalMinutes(manifest: Manifest): number {
  const sync = manifest.functions.find((f) => f.name === 'sync');
  const every = sync?.schedules
    .map((s) => /^cron\(0\/(\d+) \* \* \* \? \*\)$/.exec(s.expression) ?? /^rate\((\d+) minutes?\)$/.exec(s.expression))
    .find((m) => m);
  if (!every) throw new Error('cdk/manifest.json: the sync needs a `cron(0/N * * * ? *)` schedule');
  return Number(every[1]);
}
