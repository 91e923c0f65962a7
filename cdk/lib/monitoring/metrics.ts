/**
 * Polo's own health, in one place: every metric the functions emit as EMF lines (their
 * names are `libs/polo-telemetry/src/names.rs`; a test checks each one here is there), the
 * dimensions they carry, and every alarm's threshold with why it is that.
 */

/** Dimensions: `service` (`polo-{function}`) on every metric; `severity` where named. Per
 *  account, the sync logs a line (`account pulled`) for Logs Insights instead: a metric
 *  dimension per account would cost $0.30 a metric-month each. */
export const DIMENSION = { service: 'service', severity: 'severity' } as const;

/** Metric names, as the functions write them. */
export const METRIC = {
  // Route functions, one line per request.
  requests: 'requests',
  errors: 'errors',
  latency: 'latency',
  coldStarts: 'cold_starts',
  // Scheduled functions, one line per run.
  runs: 'runs',
  runFailures: 'run_failures',
  runDuration: 'run_duration',
  // The sync.
  scopes: 'scopes',
  scopesFailed: 'scopes_failed',
  items: 'items',
  snapshotsWritten: 'snapshots_written',
  // The Cop and the reporter.
  findingsOpen: 'findings_open',
  findingsNew: 'findings_new',
  reportsStored: 'reports_stored',
  slackSent: 'slack_sent',
  outboxLeft: 'outbox_left',
} as const;

/** The severities `findings_open` is emitted for, every run (zero too). */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;

/** One alarm's rule: the statistic over `periodMinutes`, compared with `threshold` in
 *  `datapoints` of the last `evaluationPeriods` periods. */
export interface AlarmRule {
  threshold: number;
  periodMinutes: number;
  evaluationPeriods: number;
  datapoints: number;
  /** Why this threshold, for whoever changes it. */
  why: string;
}

/** Every alarm's threshold. `syncIntervalMinutes` is the sync schedule's. */
export function alarmRules(syncIntervalMinutes: number) {
  return {
    /** AWS/Lambda Errors of any function: the invocation failed (a crash, a timeout, a job's error). */
    functionErrors: {
      threshold: 1, periodMinutes: 5, evaluationPeriods: 1, datapoints: 1,
      why: 'route functions answer every request, even bad ones; an invocation error is a crash or timeout',
    },
    /** AWS/Lambda Throttles: a request or run refused for concurrency. */
    functionThrottles: {
      threshold: 1, periodMinutes: 5, evaluationPeriods: 1, datapoints: 1,
      why: 'scheduled functions reserve one execution: a throttle means runs overlap; a route function throttled means the account limit is reached',
    },
    /** 5xx answers of a route function. */
    serverErrors: {
      threshold: 5, periodMinutes: 5, evaluationPeriods: 1, datapoints: 1,
      why: 'one 5xx can be a slow dependency; five in five minutes is an outage people see',
    },
    /** Pulls failing in two runs in a row (a lost role, a region refusing). */
    scopesFailing: {
      threshold: 1, periodMinutes: syncIntervalMinutes, evaluationPeriods: 2, datapoints: 2,
      why: 'a pull failing once is often a blip; failing twice in a row is a role or region to fix (the dashboard keeps the last good items meanwhile)',
    },
    /** No snapshot written for three sync intervals: the dashboard is going stale. Missing
     *  intervals count as zero (FILL), so a sync that stops running alarms as soon as three
     *  intervals pass, not when old datapoints age out of the evaluation range. */
    staleSnapshot: {
      threshold: 1, periodMinutes: syncIntervalMinutes, evaluationPeriods: 3, datapoints: 3,
      why: `three missed intervals is data ${3 * syncIntervalMinutes} minutes old; an interval without a run counts as none written`,
    },
    /** Slack outbox not drained after three runs of the Cop. */
    copOutbox: {
      threshold: 0, periodMinutes: syncIntervalMinutes, evaluationPeriods: 3, datapoints: 3,
      why: 'the Cop runs every sync interval; messages still waiting after three runs mean Slack refuses them',
    },
    /** Slack outbox not drained after three runs of the reporter (they run five minutes apart each morning). */
    reporterOutbox: {
      threshold: 0, periodMinutes: 5, evaluationPeriods: 3, datapoints: 3,
      why: 'the morning reports run five minutes apart: three runs in a row leaving messages mean Slack refuses them',
    },
  } satisfies Record<string, AlarmRule>;
}
