import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { PoloAppStack } from '../lib/app-stack.js';
import { syncIntervalMinutes } from '../lib/manifest.js';
import { PoloEnvironment } from '../lib/environment.js';
import { alarmRules, DIMENSION, METRIC } from '../lib/monitoring/metrics.js';

import { fakeAssets, manifest, named, repoRoot, roles } from './fixtures.js';

const prod = new PoloEnvironment('prod');

function stack(extra: Partial<ConstructorParameters<typeof PoloAppStack>[2]> = {}) {
  return new PoloAppStack(new cdk.App(), 'prod-PoloApp', {
    environment: prod, assetsDir: fakeAssets(), manifest, fleetRoleArns: roles, reportTimezone: 'UTC', ...extra,
  });
}

type Resource = { Properties: Record<string, any> };
const alarmsOf = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).map((a) => a.Properties);
const byName = (t: Template, name: string) => {
  const found = alarmsOf(t).find((a) => a.AlarmName === `prod-polo-${name}`);
  assert.ok(found, `alarm prod-polo-${name}`);
  return found;
};

test('every directory under functions/ is a function the app knows, and the other way round', () => {
  assert.deepEqual(named().sort(), readdirSync(join(repoRoot, 'functions')).sort());
});

test('every metric the catalog names is one the functions emit, and every one they emit is in it', () => {
  const rust = readFileSync(join(repoRoot, 'libs', 'polo-telemetry', 'src', 'names.rs'), 'utf8');
  const emitted = [...rust.matchAll(/pub const [A-Z_]+: &str = "([a-z_]+)";/g)].map((m) => m[1]);
  const dimensions = Object.values(DIMENSION) as string[];
  assert.deepEqual(
    [...Object.values(METRIC), ...dimensions].sort(),
    [...new Set(emitted)].sort(),
    'cdk/lib/monitoring/metrics.ts and libs/polo-telemetry/src/names.rs name the same metrics',
  );
});

test('tracing is active on every function', () => {
  const t = Template.fromStack(stack({}));
  const functions = Object.values(t.findResources('AWS::Lambda::Function') as Record<string, Resource>).map((f) => f.Properties);
  assert.equal(functions.length, named().length);
  for (const fn of functions) assert.deepEqual(fn.TracingConfig, { Mode: 'Active' }, fn.FunctionName);
  // Each role may write its segments; X-Ray's are the only actions on every resource.
  const statements = Object.values(t.findResources('AWS::IAM::Policy') as Record<string, Resource>).flatMap((p) => p.Properties.PolicyDocument.Statement);
  assert.ok(statements.some((s) => JSON.stringify(s.Action).includes('xray:PutTraceSegments')));
  for (const s of statements.filter((s) => s.Resource === '*')) {
    for (const action of [s.Action].flat()) assert.match(action, /^xray:Put(TraceSegments|TelemetryRecords)$/, JSON.stringify(s));
  }
  // No function may write another's logs: no AWSLambdaBasicExecutionRole, its own log group only.
  assert.ok(!JSON.stringify(t.findResources('AWS::IAM::Role')).includes('AWSLambdaBasicExecutionRole'));
  const logWrites = statements.filter((s) => JSON.stringify(s.Action).includes('logs:PutLogEvents'));
  assert.equal(logWrites.length, named().length);
  for (const s of logWrites) assert.ok(JSON.stringify(s.Resource).includes('logs'), JSON.stringify(s.Resource));
});

test('every function alarms on its errors and throttles, route functions on 5xx answers', () => {
  const t = Template.fromStack(stack());
  const rules = alarmRules(syncIntervalMinutes(manifest));
  for (const name of [...named('route'), ...named('job')]) {
    const errors = byName(t, `${name}-errors`);
    assert.equal(errors.Namespace, 'AWS/Lambda');
    assert.equal(errors.MetricName, 'Errors');
    assert.equal(errors.Threshold, rules.functionErrors.threshold);
    assert.equal(byName(t, `${name}-throttles`).MetricName, 'Throttles');
  }
  for (const name of named('route')) {
    const fivexx = byName(t, `${name}-5xx`);
    assert.equal(fivexx.Namespace, 'Polo/prod');
    assert.equal(fivexx.MetricName, METRIC.errors);
    assert.deepEqual(fivexx.Dimensions, [{ Name: 'service', Value: `polo-${name}` }]);
    assert.equal(fivexx.Threshold, rules.serverErrors.threshold);
  }
});

test('the jobs alarm on failing pulls, a stale snapshot and a Slack outbox not drained after three runs', () => {
  const t = Template.fromStack(stack());
  const pulls = byName(t, 'sync-pulls-failing');
  assert.equal(pulls.MetricName, METRIC.scopesFailed);
  assert.deepEqual([pulls.EvaluationPeriods, pulls.DatapointsToAlarm, pulls.Period], [2, 2, syncIntervalMinutes(manifest) * 60]);
  const stale = byName(t, 'snapshot-stale');
  assert.deepEqual([stale.EvaluationPeriods, stale.DatapointsToAlarm, stale.Threshold], [3, 3, 1], 'three sync intervals');
  assert.equal(stale.ComparisonOperator, 'LessThanThreshold');
  const fill = stale.Metrics.find((m: any) => m.Expression);
  assert.equal(fill.Expression, 'FILL(written, 0)', 'an interval without a run counts as none written');
  const written = stale.Metrics.find((m: any) => m.Id === 'written').MetricStat;
  assert.equal(written.Metric.MetricName, METRIC.snapshotsWritten);
  assert.equal(written.Period, syncIntervalMinutes(manifest) * 60);
  for (const job of ['cop', 'reporter']) {
    const outbox = byName(t, `${job}-outbox`);
    assert.equal(outbox.MetricName, METRIC.outboxLeft);
    assert.deepEqual(outbox.Dimensions, [{ Name: 'service', Value: `polo-${job}` }]);
    assert.deepEqual([outbox.EvaluationPeriods, outbox.DatapointsToAlarm, outbox.Threshold], [3, 3, 0]);
    assert.equal(outbox.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(outbox.TreatMissingData, 'ignore', 'only a run that empties the outbox clears it');
  }
  // Every alarm tells the topic when it fires and when it clears, and says why its threshold is that.
  const topic = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
  for (const a of alarmsOf(t)) {
    assert.deepEqual(a.AlarmActions, [{ Ref: topic }], a.AlarmName);
    assert.deepEqual(a.OKActions, [{ Ref: topic }], a.AlarmName);
    assert.match(a.AlarmDescription, /threshold: .{20,}/, a.AlarmName);
  }
});

test('alarms reach Slack: an encrypted topic CloudWatch may use, and the forwarder subscribed to it', () => {
  const t = Template.fromStack(stack({}));
  t.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'prod-polo-alarms', KmsMasterKeyId: Match.anyValue() });
  const key = Object.values(t.findResources('AWS::KMS::Key') as Record<string, Resource>)[0].Properties;
  assert.equal(key.EnableKeyRotation, true);
  assert.ok(
    key.KeyPolicy.Statement.some((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com' && JSON.stringify(s.Action).includes('kms:GenerateDataKey')),
    'CloudWatch may encrypt with the key',
  );
  t.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        // The topic policy replaces SNS's default one: the alarms must be let in.
        Match.objectLike({
          Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' },
          Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': Match.anyValue() } }),
        }),
      ]),
    },
  });
  const policy = JSON.stringify(t.findResources('AWS::SNS::TopicPolicy'));
  assert.ok(policy.includes(':alarm:prod-polo-*'), 'only this environment\'s alarms');
  const forwarder = Object.entries(t.findResources('AWS::Lambda::Function') as Record<string, Resource>)
    .find(([, f]) => f.Properties.FunctionName === 'prod-polo-alarms');
  assert.ok(forwarder, 'the forwarder');
  const opsSecret = Object.entries(t.findResources('AWS::SecretsManager::Secret') as Record<string, Resource>)
    .find(([, r]) => r.Properties.Name === 'prod-polo-slack-ops-webhook');
  assert.ok(opsSecret, 'the ops webhook secret');
  assert.deepEqual(
    forwarder[1].Properties.Environment.Variables,
    { ENV: 'prod', POWERTOOLS_SERVICE_NAME: 'polo-alarms', SLACK_WEBHOOK_SECRET_ARN: { Ref: opsSecret[0] } },
    'the ops webhook secret, not the reports one, and no table or bucket',
  );
  t.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'lambda',
    Endpoint: { 'Fn::GetAtt': [forwarder[0], 'Arn'] },
    TopicArn: { Ref: Object.keys(t.findResources('AWS::SNS::Topic'))[0] },
  });
  t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'sns.amazonaws.com', FunctionName: { 'Fn::GetAtt': [forwarder[0], 'Arn'] } });
  // The forwarder is watched too.
  byName(t, 'alarms-errors');
});

test('the health dashboard shows requests, p99 latency, cold starts, sync duration and items per account, findings by severity', () => {
  const t = Template.fromStack(stack());
  const dashboards = Object.values(t.findResources('AWS::CloudWatch::Dashboard') as Record<string, Resource>);
  assert.equal(dashboards.length, 1);
  assert.equal(dashboards[0].Properties.DashboardName, 'prod-polo-health');
  const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
  for (const title of ['Requests', 'Latency p99', 'Cold starts', 'Run duration', 'Items and pull time per account', 'Findings open by severity', 'Slack outbox left', 'Alarms']) {
    assert.ok(body.includes(title), title);
  }
  for (const metric of [METRIC.requests, METRIC.latency, METRIC.coldStarts, METRIC.runDuration, METRIC.findingsOpen, METRIC.outboxLeft]) {
    assert.ok(body.includes(metric), metric);
  }
  assert.ok(body.includes('p99'));
  assert.ok(body.includes('account pulled') && body.includes('by account'), 'items per account from the log lines, whatever the accounts');
  assert.ok(!body.includes('SEARCH('), 'no metric per account');
  for (const severity of ['critical', 'warning', 'info']) assert.ok(body.includes(severity), severity);
});
