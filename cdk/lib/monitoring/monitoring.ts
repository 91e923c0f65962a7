import * as cdk from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import { PoloEnvironment } from '../environment.js';
import { AlarmRule, alarmRules, DIMENSION, METRIC, SEVERITIES } from './metrics.js';

export interface PoloMonitoringProps {
  environment: PoloEnvironment;
  /** Every function, by name; its service is `polo-{name}`. */
  functions: Record<string, lambda.Function>;
  routeFunctions: readonly string[];
  scheduledFunctions: readonly string[];
  /** The functions that drain a Slack outbox (they emit `outbox_left`). */
  outboxFunctions: readonly string[];
  syncIntervalMinutes: number;
}

/** Polo watching itself: alarms on its functions and jobs, published to an SNS topic (the
 *  alarm forwarder posts them to Slack), and a dashboard of its EMF metrics. */
export class PoloMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cw.Alarm[] = [];
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: PoloMonitoringProps) {
    super(scope, id);
    const env = props.environment;
    const namespace = env.metricsNamespace();
    const rules = alarmRules(props.syncIntervalMinutes);
    const service = (name: string) => `polo-${name}`;

    // CloudWatch can publish to an encrypted topic only with a customer managed key whose
    // policy lets it use the key (the AWS managed SNS key does not).
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts Polo's alarm topic (${env.name})`,
      enableKeyRotation: true,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: env.resourceName('alarms'),
      displayName: `Polo alarms (${env.name})`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic's policy (enforceSSL makes one, replacing SNS's default) must let this
    // account's alarms publish.
    const stack = cdk.Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${env.resourceName('*')}` },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    const notify = new cwActions.SnsAction(this.topic);

    const emf = (metricName: string, dimensions: Record<string, string>, statistic: string) =>
      new cw.Metric({ namespace, metricName, dimensionsMap: dimensions, statistic, period: cdk.Duration.minutes(5) });
    const alarm = (
      id: string,
      metric: cw.IMetric,
      rule: AlarmRule,
      description: string,
      options: { comparison?: cw.ComparisonOperator; missing?: cw.TreatMissingData } = {},
    ) => {
      const a = new cw.Alarm(this, id, {
        alarmName: env.resourceName(id),
        alarmDescription: `${description} (threshold: ${rule.why})`,
        metric: metric instanceof cw.Metric ? metric.with({ period: cdk.Duration.minutes(rule.periodMinutes) }) : metric,
        threshold: rule.threshold,
        evaluationPeriods: rule.evaluationPeriods,
        datapointsToAlarm: rule.datapoints,
        comparisonOperator: options.comparison ?? cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: options.missing ?? cw.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(notify);
      a.addOkAction(notify);
      this.alarms.push(a);
      return a;
    };

    // Every function: invocation errors and throttles.
    for (const [name, fn] of Object.entries(props.functions)) {
      const scheduled = props.scheduledFunctions.includes(name);
      alarm(`${name}-errors`, fn.metricErrors({ statistic: 'Sum' }), rules.functionErrors,
        scheduled ? `A ${name} run failed or timed out` : `The ${name} function crashed or timed out`);
      alarm(`${name}-throttles`, fn.metricThrottles({ statistic: 'Sum' }), rules.functionThrottles, `The ${name} function was throttled`);
    }
    // Route functions: answers people saw fail.
    for (const name of props.routeFunctions) {
      alarm(`${name}-5xx`, emf(METRIC.errors, { [DIMENSION.service]: service(name) }, 'Sum'), rules.serverErrors,
        `The ${name} function answered 5xx`);
    }
    // The sync: pulls failing run after run, and a snapshot not written for three intervals.
    const sync = { [DIMENSION.service]: service('sync') };
    alarm('sync-pulls-failing', emf(METRIC.scopesFailed, sync, 'Minimum'), rules.scopesFailing,
      'Some account or region fails to sync run after run');
    const written = new cw.MathExpression({
      expression: 'FILL(written, 0)',
      usingMetrics: { written: emf(METRIC.snapshotsWritten, sync, 'Sum') },
      label: 'snapshots written',
      period: cdk.Duration.minutes(rules.staleSnapshot.periodMinutes),
    });
    alarm('snapshot-stale', written, rules.staleSnapshot,
      'No snapshot written for three sync intervals: the dashboard shows old data',
      { comparison: cw.ComparisonOperator.LESS_THAN_THRESHOLD, missing: cw.TreatMissingData.BREACHING });
    // The Slack outboxes: messages left after three runs in a row.
    alarm('cop-outbox', emf(METRIC.outboxLeft, { [DIMENSION.service]: service('cop') }, 'Minimum'), rules.copOutbox,
      "The Cop's Slack messages are not leaving its outbox",
      // Between runs there is no data: only a run that empties the outbox clears the alarm.
      { comparison: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, missing: cw.TreatMissingData.IGNORE });
    alarm('reporter-outbox', emf(METRIC.outboxLeft, { [DIMENSION.service]: service('reporter') }, 'Minimum'), rules.reporterOutbox,
      "The reports' Slack messages are not leaving their outbox",
      { comparison: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, missing: cw.TreatMissingData.IGNORE });

    // The dashboard.
    const per = (names: readonly string[], metricName: string, statistic: string) =>
      names.map((n) => emf(metricName, { [DIMENSION.service]: service(n) }, statistic).with({ label: n }));
    const graph = (title: string, left: cw.IMetric[], unit?: string) =>
      new cw.GraphWidget({ title, left, width: 8, height: 6, leftYAxis: unit ? { label: unit, showUnits: false } : undefined });
    const emitting = [...props.routeFunctions, ...props.scheduledFunctions];
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: env.resourceName('health'),
      defaultInterval: cdk.Duration.days(1),
      widgets: [
        [
          graph('Requests', per(props.routeFunctions, METRIC.requests, 'Sum')),
          graph('Latency p99', per(props.routeFunctions, METRIC.latency, 'p99'), 'ms'),
          graph('5xx answers', per(props.routeFunctions, METRIC.errors, 'Sum')),
        ],
        [
          graph('Cold starts', per(emitting, METRIC.coldStarts, 'Sum')),
          graph('Run duration', per(props.scheduledFunctions, METRIC.runDuration, 'Maximum'), 'ms'),
          graph('Sync: pulls failed, snapshots written', [
            emf(METRIC.scopesFailed, sync, 'Maximum').with({ label: 'pulls failed' }),
            emf(METRIC.snapshotsWritten, sync, 'Sum').with({ label: 'snapshots written', period: cdk.Duration.minutes(props.syncIntervalMinutes) }),
          ]),
        ],
        [
          // Per account from the sync's log lines, not metric dimensions (one metric-month each).
          new cw.LogQueryWidget({
            title: 'Items and pull time per account',
            logGroupNames: [props.functions.sync.logGroup.logGroupName],
            view: cw.LogQueryVisualizationType.TABLE,
            queryLines: [
              'filter message = "account pulled"',
              'stats latest(items) as items, sum(failed) as failed_pulls, max(pull_ms) as pull_ms by account',
              'sort pull_ms desc',
            ],
            width: 16,
            height: 6,
          }),
          graph('Findings open by severity', SEVERITIES.map((s) =>
            emf(METRIC.findingsOpen, { [DIMENSION.service]: service('cop'), [DIMENSION.severity]: s }, 'Maximum').with({ label: s }))),
        ],
        [
          graph('Slack outbox left', per(props.outboxFunctions, METRIC.outboxLeft, 'Maximum')),
          new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 16, height: 6 }),
        ],
      ],
    });
  }
}
