import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { PoloAppStack } from '../lib/app-stack.js';
import { PoloDestinationStack } from '../lib/destination-stack.js';
import { environmentList, PoloEnvironment } from '../lib/environment.js';
import { buildCommands, INSTALL_RUST, PoloPipelineStack, TEST_COMMANDS } from '../lib/pipeline-stack.js';
import * as stageModule from '../lib/stage.js';

import { fakeAssets, manifest, named, roles, routes } from './fixtures.js';

const prod = new PoloEnvironment('prod');

function appTemplate(extra: Partial<ConstructorParameters<typeof PoloAppStack>[2]> = {}): Template {
  const app = new cdk.App();
  const stack = new PoloAppStack(app, 'prod-PoloApp', {
    environment: prod,
    assetsDir: fakeAssets(),
    manifest,
    fleetRoleArns: roles,
    reportTimezone: 'Europe/Paris',
    ...extra,
  });
  return Template.fromStack(stack);
}

test('every route of `polo manifest --json` exists, and $default to the dashboard, with no API Gateway authorizer (functions check identity)', () => {
  const t = appTemplate();
  t.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
  const apiRoutes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
  // Every route of the manifest, and `$default` to the function that serves `/`.
  assert.equal(apiRoutes.length, routes.length + 1);
  for (const route of routes) {
    const found = apiRoutes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
    assert.ok(found, `route ${route.method} ${route.path}`);
  }
  const fallback = apiRoutes.find((r) => r.RouteKey === '$default');
  const home = apiRoutes.find((r) => r.RouteKey === 'GET /');
  assert.ok(fallback && home);
  assert.deepEqual(fallback.Target, home.Target, 'unknown paths and HEAD get the dashboard, not a bare 404');
  for (const path of ['/auth/login', '/auth/callback', '/auth/logout']) {
    assert.ok(routes.some((r) => r.path === path && !r.authorized), path);
  }
  assert.ok(routes.some((r) => r.method === 'POST' && r.path === '/auth/logout'), 'logout is a POST');
  // A flood of requests is throttled at the stage, before it reaches a function.
  t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
  });
});

test('a person can sign in: Cognito hosted UI with the code flow, callback and logout on the API', () => {
  const t = appTemplate();
  t.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
  const client = Object.values(t.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
  assert.deepEqual(client.AllowedOAuthFlows, ['code']);
  assert.equal(client.GenerateSecret, false);
  assert.ok(JSON.stringify(client.CallbackURLs).includes('/auth/callback'));
  assert.ok(JSON.stringify(client.LogoutURLs).includes('/auth/logout'));
  for (const name of named('route')) {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: `polo-${name}`,
          OIDC_ISSUER: Match.anyValue(),
          OIDC_CLIENT_ID: Match.anyValue(),
          OIDC_LOGOUT_ENDPOINT: Match.anyValue(),
        }),
      },
    });
  }
});

test('the first sync can run: readers of the bucket may list it (a missing key is 404, not 403)', () => {
  const t = appTemplate();
  const policies = Object.values(t.findResources('AWS::IAM::Policy'));
  for (const name of ['sync', 'dashboard', 'inventory', 'costs', 'report-pages', 'reporter', 'cop']) {
    const id = name.replace(/-/g, '');
    const policy = policies.find((p) => JSON.stringify(p.Properties.Roles).includes(`${id}servicerole`) || JSON.stringify(p.Properties.Roles).includes(`${id}role`));
    assert.ok(policy, `policy of ${name}`);
    const statements = policy.Properties.PolicyDocument.Statement;
    assert.ok(
      statements.some((s: { Action: string | string[] }) => [s.Action].flat().includes('s3:ListBucket')),
      `${name} may s3:ListBucket`,
    );
  }
});

test('route functions may park large CSV exports, which expire after a day', () => {
  const t = appTemplate();
  const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
  const exportGrants = statements.filter((s) => JSON.stringify(s.Resource).includes('/exports/*'));
  assert.equal(exportGrants.length, 4);
  for (const g of exportGrants) assert.deepEqual([g.Action].flat().sort(), ['s3:GetObject', 's3:PutObject']);
  t.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'exports/', ExpirationInDays: 1 })]) },
  });
});

test('the snapshot and the cost store are granted by their two exact keys: the sync writes both layouts, readers read both', () => {
  const t = appTemplate();
  const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
  for (const [stem, data] of [['snapshot', 'snapshot.*'], ['costs', 'costs.*']] as const) {
    const keysOf = (action: string) =>
      statements
        .filter((s) => [s.Action].flat().includes(action))
        .map((s) => JSON.stringify(s.Resource))
        .filter((r) => r.includes(`/${stem}.`));
    const reads = keysOf('s3:GetObject');
    assert.equal(reads.length, manifest.functions.filter((f) => f.reads.includes(data)).length, stem);
    for (const r of reads) assert.ok(r.includes(`/${stem}.bin`) && r.includes(`/${stem}.json`), r);
    const writes = keysOf('s3:PutObject');
    assert.equal(writes.length, 1, stem);
    assert.ok(writes[0].includes(`/${stem}.bin`) && writes[0].includes(`/${stem}.json`), writes[0]);
    assert.ok(!statements.some((s) => JSON.stringify(s.Resource).includes(data)), `no wildcard key: ${data}`);
  }
});

test('scheduled functions run one at a time and are never retried into the next run', () => {
  // The leases keep runs from overlapping; reserved concurrency is off by default (a first
  // deploy fails in accounts whose Lambda quota is under 103) and on by a setting.
  const t = appTemplate();
  for (const f of Object.values(t.findResources('AWS::Lambda::Function'))) {
    assert.equal(f.Properties.ReservedConcurrentExecutions, undefined);
  }
  const reserved = appTemplate({ reserveConcurrency: true });
  const functions = Object.values(reserved.findResources('AWS::Lambda::Function')).map((f) => f.Properties);
  for (const name of named('job')) {
    const fn = functions.find((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME === `polo-${name}`);
    assert.equal(fn.ReservedConcurrentExecutions, 1, name);
  }
  const invokeConfigs = Object.values(t.findResources('AWS::Lambda::EventInvokeConfig')).map((c) => c.Properties);
  assert.equal(invokeConfigs.length, named('job').length);
  for (const c of invokeConfigs) {
    assert.equal(c.MaximumRetryAttempts, 0);
    assert.ok(c.MaximumEventAgeInSeconds <= 15 * 60);
  }
  for (const rule of Object.values(t.findResources('AWS::Events::Rule'))) {
    assert.equal(rule.Properties.Targets[0].RetryPolicy.MaximumRetryAttempts, 0);
  }
});

test('every function that parses the snapshot gets the memory (and so the CPU) it needs', () => {
  const t = appTemplate();
  const functions = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties);
  const parsing = manifest.functions.filter((f) => f.reads.includes('snapshot.*') && f.kind !== 'job' || f.name === 'sync');
  assert.deepEqual(parsing.map((f) => f.name).sort(), ['costs', 'dashboard', 'inventory', 'sync']);
  for (const { name } of parsing) {
    const fn = functions.find((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME === `polo-${name}`);
    assert.ok(fn.MemorySize >= 1024, `${name}: ${fn.MemorySize} MB`);
  }
});

test('every function exists, from its zip, with the environment its declaration asks for', () => {
  const t = appTemplate();
  // Every function, the alarm forwarder too (it reads its webhook from its secret).
  t.resourceCountIs('AWS::Lambda::Function', named().length);
  const functions = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties);
  for (const spec of manifest.functions.filter((f) => f.kind !== 'ops')) {
    const fn = functions.find((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME === `polo-${spec.name}`);
    assert.ok(fn, spec.name);
    assert.equal(fn.Runtime, 'provided.al2023');
    assert.equal(fn.Handler, 'bootstrap');
    assert.equal(fn.MemorySize, spec.memory_mb, spec.name);
    assert.equal(fn.Timeout, spec.timeout_seconds, spec.name);
    const v = fn.Environment.Variables;
    assert.equal(v.ENV, 'prod');
    // Sign-in for route functions only; the data plane's names for every function with data.
    assert.equal(v.LOGOUT_URL, spec.kind === 'route' ? '/auth/logout' : undefined, spec.name);
    assert.equal(v.OIDC_ISSUER !== undefined, spec.kind === 'route', spec.name);
    const hasData = spec.reads.length + spec.writes.length > 0;
    for (const name of ['DYNAMODB_TABLE_NAME', 'DYNAMODB_REPORT_TABLE_NAME', 'DATA_BUCKET_NAME', 'SYNC_INTERVAL_MINUTES']) {
      assert.equal(v[name] !== undefined, hasData, `${spec.name} ${name}`);
    }
    assert.equal(v.REPORT_TIMEZONE, hasData ? 'Europe/Paris' : undefined, spec.name);
    // Functions that sign people in keep sessions, and make the callback from PUBLIC_URL.
    const signsIn = spec.routes.some((r) => r.authorized);
    assert.equal(v.DYNAMODB_SESSION_TABLE_NAME !== undefined, signsIn, `${spec.name} DYNAMODB_SESSION_TABLE_NAME`);
    if (signsIn) assert.ok(v.PUBLIC_URL, `${spec.name} PUBLIC_URL`);
  }
  // One per function, and the API's access log.
  t.resourceCountIs('AWS::Logs::LogGroup', named().length + 1);
  t.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
});

test('every table expires items on `ttl`, and the resource table has its access-pattern indexes', () => {
  const t = appTemplate();
  t.resourceCountIs('AWS::DynamoDB::Table', 3);
  t.allResourcesProperties('AWS::DynamoDB::Table', {
    TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    BillingMode: 'PAY_PER_REQUEST',
  });
  t.hasResourceProperties('AWS::DynamoDB::Table', {
    GlobalSecondaryIndexes: Match.arrayWith([
      Match.objectLike({ IndexName: 'by-kind' }),
      Match.objectLike({ IndexName: 'by-index' }),
      Match.objectLike({ IndexName: 'by-day' }),
    ]),
  });
  t.hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
  });
});

test('the sync runs on the clock, the cop when a snapshot is written, each report type in the report time zone', () => {
  const schedulerRoles = Object.values(appTemplate().findResources('AWS::IAM::Role'))
    .map((r) => r.Properties.AssumeRolePolicyDocument.Statement[0])
    .filter((st) => st.Principal?.Service === 'scheduler.amazonaws.com');
  assert.ok(schedulerRoles.length > 0);
  for (const st of schedulerRoles) {
    assert.ok(st.Condition?.StringEquals?.['aws:SourceAccount'], 'Scheduler may assume the role only for this account');
  }
  const t = appTemplate();
  const rules = Object.values(t.findResources('AWS::Events::Rule')).map((r) => r.Properties);
  for (const rule of rules) assert.equal(rule.Targets.length, 1);
  const scheduled = rules.filter((r) => r.ScheduleExpression);
  // The Cop also runs hourly, should an S3 event be lost.
  assert.deepEqual(scheduled.map((r) => r.ScheduleExpression).sort(), ['cron(0/15 * * * ? *)', 'cron(50 * * * ? *)']);
  const onSnapshot = rules.filter((r) => r.EventPattern);
  assert.equal(onSnapshot.length, 1);
  assert.deepEqual(onSnapshot[0].EventPattern.source, ['aws.s3']);
  assert.deepEqual(onSnapshot[0].EventPattern['detail-type'], ['Object Created']);
  assert.deepEqual(onSnapshot[0].EventPattern.detail.object.key, ['snapshot.json', 'costs.json']);
  assert.deepEqual(onSnapshot[0].Targets[0].RetryPolicy, { MaximumRetryAttempts: 0 });
  const copFn = Object.entries(t.findResources('AWS::Lambda::Function'))
    .find(([, f]) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'polo-cop')![0];
  assert.deepEqual(onSnapshot[0].Targets[0].Arn, { 'Fn::GetAtt': [copFn, 'Arn'] });
  t.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
  t.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: {
      Rules: Match.arrayWith([
        Match.objectLike({ ExpiredObjectDeleteMarker: true, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 3 } }),
      ]),
    },
  });
  const schedules = Object.values(t.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties);
  assert.deepEqual(schedules.map((s) => s.ScheduleExpression).sort(), [
    'cron(15 6 * * ? *)', 'cron(20 6 * * ? *)', 'cron(25 6 * * ? *)', 'cron(30 6 ? * MON *)', 'cron(45 6 2 * ? *)',
  ]);
  for (const s of schedules) {
    assert.equal(s.ScheduleExpressionTimezone, 'Europe/Paris', 'the weekly report runs on Monday where the reports are read');
    assert.equal(s.Target.RetryPolicy.MaximumRetryAttempts, 0);
  }
  const inputs = schedules.map((s) => JSON.parse(s.Target.Input).type).sort();
  assert.deepEqual(inputs, ['daily-cost', 'idle-resources', 'inventory-changes', 'monthly-close', 'weekly-summary']);
  // The reporter links to the dashboard, and posts to Slack only when a webhook is given.
  const reporter = Object.values(t.findResources('AWS::Lambda::Function'))
    .map((f) => f.Properties)
    .find((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'polo-reporter');
  assert.ok(reporter.Environment.Variables.PUBLIC_URL);
  const cop = Object.values(t.findResources('AWS::Lambda::Function'))
    .map((f) => f.Properties)
    .find((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'polo-cop');
  assert.ok(cop.Environment.Variables.PUBLIC_URL, 'digest links need the dashboard address');
  // Slack's webhook URLs live in Secrets Manager: the functions that post get the ARN of
  // theirs and GetSecretValue on it only.
  const functions = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties);
  const posting = functions.filter((f) => f.Environment.Variables.SLACK_WEBHOOK_SECRET_ARN);
  assert.deepEqual(posting.map((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort(), ['polo-alarms', 'polo-cop', 'polo-reporter']);
  const secrets = Object.keys(t.findResources('AWS::SecretsManager::Secret'));
  assert.equal(secrets.length, 4, 'a webhook for reports and the Cop, one for alarms, the Slack app\'s bot token and signing secret');
  const alarms = posting.find((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'polo-alarms');
  assert.notDeepEqual(alarms.Environment.Variables.SLACK_WEBHOOK_SECRET_ARN, reporter.Environment.Variables.SLACK_WEBHOOK_SECRET_ARN);
  const secretGrants = Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((st) => JSON.stringify(st.Action).includes('secretsmanager:'));
  // Webhooks: alarms, cop, reporter; bot token: cop, reporter, dashboard; signing secret: dashboard.
  assert.equal(secretGrants.length, 7);
  for (const st of secretGrants) {
    assert.equal(st.Action, 'secretsmanager:GetSecretValue');
    assert.ok(secrets.includes(st.Resource.Ref), JSON.stringify(st.Resource));
  }
  // The Slack app: the bot token to those that post or answer its buttons, the signing
  // secret to the dashboard alone, which answers them.
  const named = (variable: string) =>
    functions.filter((f) => f.Environment.Variables[variable]).map((f) => f.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort();
  assert.deepEqual(named('SLACK_BOT_TOKEN_SECRET_ARN'), ['polo-cop', 'polo-dashboard', 'polo-reporter']);
  assert.deepEqual(named('SLACK_SIGNING_SECRET_ARN'), ['polo-dashboard']);
  // The reporter Queries a period's days of history (`by-day`): nothing may Scan a table.
  const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
  assert.ok(!statements.some((s) => s.Action === 'dynamodb:Scan' || (Array.isArray(s.Action) && s.Action.includes('dynamodb:Scan'))));
});

test('IAM grants exact actions: no wildcard action on data, assume-role only into the fleet roles', () => {
  const t = appTemplate({ coreRoleArn: 'arn:aws:iam::999999999999:role/polo-costs' });
  const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
  assert.ok(statements.length > 0);
  for (const s of statements) {
    const actions: string[] = Array.isArray(s.Action) ? s.Action : [s.Action];
    for (const action of actions) {
      assert.ok(!action.includes('*'), `wildcard action ${action}`);
    }
    if (actions.includes('sts:AssumeRole')) {
      const resources: string[] = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const r of resources) assert.ok(roles.includes(r) || r.endsWith(':role/polo-costs'), `assume ${r}`);
    }
  }
});

test('no function is granted what its code never calls', () => {
  const t = appTemplate({ coreRoleArn: 'arn:aws:iam::999999999999:role/polo-costs' });
  const policies = Object.values(t.findResources('AWS::IAM::Policy'));
  const actionsOf = (p: any): string[] =>
    p.Properties.PolicyDocument.Statement.flatMap((s: any) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  const all = policies.flatMap(actionsOf);
  for (const unused of ['dynamodb:DeleteItem', 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable', 'ce:GetCostForecast']) {
    assert.ok(!all.includes(unused), `${unused} is granted`);
  }
  assert.ok(!JSON.stringify(policies).includes('cache/ce'), 'no Cost Explorer cache prefix: the sync keeps costs.json');
  // Assume-role into the Cost Explorer role: the sync's role only.
  const assuming = policies
    .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('role/polo-costs'))
    .flatMap((p) => p.Properties.Roles.map((r: any) => r.Ref as string));
  assert.equal(assuming.length, 1, JSON.stringify(assuming));
  assert.match(assuming[0], /^fnsyncrole|^syncrole/);
  // And only the sync is told the role's ARN.
  const told = Object.values(t.findResources('AWS::Lambda::Function'))
    .filter((f) => f.Properties.Environment?.Variables?.CORE_ROLE_ARN)
    .map((f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME);
  assert.deepEqual(told, ['polo-sync']);
});

test('an issuer given as context replaces the Cognito pool', () => {
  const t = appTemplate({ jwtIssuer: 'https://login.example.com', jwtAudience: ['polo'] });
  t.resourceCountIs('AWS::Cognito::UserPool', 0);
  t.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ OIDC_ISSUER: 'https://login.example.com', OIDC_CLIENT_ID: 'polo' }) },
  });
  appTemplate().resourceCountIs('AWS::Cognito::UserPool', 1);
});

test('the destination stack gives Polo a read-only role, and Cost Explorer only when asked', () => {
  const app = new cdk.App();
  const plain = Template.fromStack(
    new PoloDestinationStack(app, 'Fleet', { poloAccountId: '123456789012', environments: [prod], indexTable: 'marqo-indexes', costExplorer: false, manifest }),
  );
  plain.resourceCountIs('AWS::IAM::Role', 1);
  plain.hasResourceProperties('AWS::IAM::Role', { RoleName: 'polo-read' });
  // Trusted: the sync function's role only, never the whole Polo account.
  const trust = Object.values(plain.findResources('AWS::IAM::Role'))[0].Properties.AssumeRolePolicyDocument.Statement;
  assert.equal(trust.length, 1);
  assert.deepEqual(trust[0].Condition, {
    ArnEquals: { 'aws:PrincipalArn': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:role/prod-polo-sync']] }] },
  });
  const actions = Object.values(plain.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  assert.deepEqual(actions.sort(), [
    'cloudtrail:LookupEvents',
    'cloudwatch:GetMetricData',
    'compute-optimizer:GetEC2InstanceRecommendations',
    'dynamodb:Scan',
    'ec2:DescribeInstances',
  ]);
  const core = Template.fromStack(
    new PoloDestinationStack(new cdk.App(), 'Core', {
      poloAccountId: '123456789012',
      environments: environmentList('staging,prod'),
      indexTable: 'marqo-indexes',
      costExplorer: true,
      manifest,
    }),
  );
  core.resourceCountIs('AWS::IAM::Role', 2);
  const costsTrust = Object.values(core.findResources('AWS::IAM::Role'))
    .find((r) => r.Properties.RoleName === 'polo-cost-explorer')!.Properties.AssumeRolePolicyDocument.Statement[0];
  // The sync of each of the two environments: the only function that asks Cost Explorer.
  const costsTrusted = JSON.stringify(costsTrust.Condition.ArnEquals['aws:PrincipalArn']);
  assert.equal(costsTrust.Condition.ArnEquals['aws:PrincipalArn'].length, 2);
  for (const e of ['staging', 'prod']) assert.ok(costsTrusted.includes(`:role/${e}-polo-sync`), e);
  const costActions = Object.values(core.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  assert.ok(costActions.includes('ce:GetCostAndUsage') && !costActions.includes('ce:GetCostForecast'));
  assert.throws(
    () => new PoloDestinationStack(new cdk.App(), 'Bad', { poloAccountId: '', environments: [prod], indexTable: 't', costExplorer: false, manifest }),
    /poloAccountId must be a 12-digit account id/,
  );
});

/** Every name a resource type requires to be unique in an account or region, as synthesized. */
function physicalNames(t: Template): string[] {
  const keys = ['TableName', 'BucketName', 'FunctionName', 'LogGroupName', 'RoleName', 'Name', 'Domain', 'ApiName', 'AlarmName', 'DashboardName', 'TopicName'];
  return Object.entries(t.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)
    .flatMap(([, r]) => keys.filter((k) => isName(r.Properties?.[k])).map((k) => `${r.Type} ${k} ${JSON.stringify(r.Properties![k])}`));
}

/** A literal or joined name, not a reference to another resource (`Ref`, `Fn::GetAtt`). */
function isName(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'object' && value !== null && 'Fn::Join' in value);
}

test('dev and prod deploy side by side in one account: no physical name in both', () => {
  const app = new cdk.App();
  const assetsDir = fakeAssets();
  const stacks = ['dev', 'prod'].map((name) => {
    const environment = new PoloEnvironment(name);
    return new PoloAppStack(app, environment.stackName('PoloApp'), { environment, assetsDir, manifest, fleetRoleArns: roles, reportTimezone: 'UTC' });
  });
  assert.deepEqual(stacks.map((s) => s.stackName), ['dev-PoloApp', 'prod-PoloApp']);
  const [dev, prd] = stacks.map((s) => physicalNames(Template.fromStack(s)));
  // Tables, 2 buckets, 8 functions and their log groups, the API's log group, 3 named roles, 2 rules,
  // 5 schedules, the API, the sign-in domain, 16 function and 6 job alarms, the alarm topic, the dashboard.
  assert.ok(dev.length >= 2 + 2 + 8 + 8 + 1 + 3 + 2 + 5 + 1 + 1 + 16 + 6 + 1 + 1, `${dev.length} names`);
  for (const n of dev) assert.ok(!prd.includes(n), `${n} in both`);
  for (const n of [...dev].filter((n) => !n.includes('Fn::'))) assert.match(n, /"(\/aws\/(lambda|apigateway)\/)?dev-/, n);
});

test('each environment names its tables, its ENV and its metrics, and its functions read those tables', () => {
  for (const name of ['dev', 'prod']) {
    const environment = new PoloEnvironment(name);
    const t = Template.fromStack(
      new PoloAppStack(new cdk.App(), environment.stackName('PoloApp'), {
        environment, assetsDir: fakeAssets(), manifest, fleetRoleArns: roles, reportTimezone: 'UTC',
      }),
    );
    const tables = t.findResources('AWS::DynamoDB::Table');
    const tableId = (tableName: string) => Object.entries(tables).find(([, r]) => r.Properties.TableName === tableName)?.[0];
    const resourceTable = tableId(`${name}-ResourceTable`);
    const reportTable = tableId(`${name}-ReportTable`);
    assert.ok(resourceTable && reportTable, `${name}: tables ${JSON.stringify(Object.values(tables).map((r) => r.Properties.TableName))}`);
    const functions = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties);
    assert.equal(functions.length, named().length);
    for (const f of functions) {
      const v = f.Environment.Variables;
      assert.equal(v.ENV, name);
      if (v.DATA_BUCKET_NAME === undefined) continue; // the static function reads no data
      assert.deepEqual(v.DYNAMODB_TABLE_NAME, { Ref: resourceTable });
      assert.deepEqual(v.DYNAMODB_REPORT_TABLE_NAME, { Ref: reportTable });
      assert.equal(v.POWERTOOLS_METRICS_NAMESPACE, `Polo/${name}`);
      assert.equal(f.FunctionName, `${name}-polo-${v.POWERTOOLS_SERVICE_NAME.replace('polo-', '')}`);
    }
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/${name}-polo-sync` });
    t.hasResourceProperties('AWS::Scheduler::Schedule', { Name: `${name}-polo-daily-cost` });
  }
});

test('an environment name that cannot name AWS resources is refused', () => {
  for (const bad of ['', 'Prod', 'prod_1', '-prod', 'prod-', 'a-very-long-environment-name']) {
    assert.throws(() => new PoloEnvironment(bad), /expected lower-case letters, digits and inner hyphens, at most 16/, bad);
  }
  for (const reserved of ['xn--a', 'sthree', 'sthree-x', 'amzn-s3-demo-x', 'laws', 'amazonia', 'cognito-test']) {
    assert.throws(() => new PoloEnvironment(reserved), /AWS reserves/, reserved);
  }
  assert.throws(() => environmentList('staging,,staging'), /staging is listed twice/);
  assert.deepEqual(environmentList(' staging, prod ').map((e) => e.name), ['staging', 'prod']);
});

test('the pipeline tests, builds and synthesizes, then deploys its environments in the order given', () => {
  const app = new cdk.App();
  const assetsDir = fakeAssets();
  const environments = environmentList('staging,prod');
  const { PoloStage } = stageModule;
  const stack = new PoloPipelineStack(app, 'PoloPipeline', {
    repository: 'example/polo',
    branch: 'main',
    connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000',
    environments,
    stage: (environment) => new PoloStage(app, { environment, assetsDir, manifest, fleetRoleArns: roles, reportTimezone: 'UTC' }),
  });
  const t = Template.fromStack(stack);
  const pipeline = Object.values(t.findResources('AWS::CodePipeline::Pipeline'))[0].Properties;
  const stages: string[] = pipeline.Stages.map((s: { Name: string }) => s.Name);
  assert.ok(stages.indexOf('Build') < stages.indexOf('staging'), stages.join(' → '));
  assert.ok(stages.indexOf('staging') < stages.indexOf('prod'), stages.join(' → '));
  assert.equal(stages.at(-1), 'prod');
  // Each environment stage deploys that environment's stack, by its environment-qualified name.
  for (const e of ['staging', 'prod']) {
    const stage = pipeline.Stages.find((s: { Name: string }) => s.Name === e);
    assert.ok(JSON.stringify(stage.Actions).includes(`"StackName":"${e}-PoloApp"`), `${e}: ${JSON.stringify(stage.Actions)}`);
  }
  // The tests run in a project of their own, before and apart from the build: the build
  // runs Tailwind, the zips, SAM builds and the synth, in that order, and never the tests.
  const commands = buildCommands(environments);
  const order = ['scripts/just tailwind', 'scripts/just zip', 'scripts/just build -e staging', 'scripts/just build -e prod', 'npx cdk synth'];
  const at = order.map((c) => commands.findIndex((line) => line.includes(c)));
  assert.deepEqual([...at].sort((a, b) => a - b), at, commands.join('; '));
  assert.ok(!at.includes(-1), commands.join('; '));
  assert.ok(!commands.some((c) => c.includes('just test')), 'the build step does not run the tests');
  const projects = Object.values(t.findResources('AWS::CodeBuild::Project')).map((p) => p.Properties);
  const runs = (command: string) => projects.filter((p) => JSON.stringify(p.Source.BuildSpec).includes(command));
  const [testing, building] = [runs(TEST_COMMANDS[0]), runs('scripts/just build -e prod')];
  assert.equal(testing.length, 1, 'one project runs the tests');
  assert.equal(building.length, 1, 'one project builds');
  assert.notDeepEqual(testing[0].ServiceRole, building[0].ServiceRole, 'each its own role');
  // The toolchain is pinned: rustup at a fixed version, the toolchain by rust-toolchain.toml.
  assert.ok(INSTALL_RUST[0].includes('RUSTUP_VERSION=') && INSTALL_RUST[0].includes('--default-toolchain none'));
  for (const p of [...testing, ...building]) assert.ok(JSON.stringify(p.Source.BuildSpec).includes('RUSTUP_VERSION='));
  const stagesInOrder = pipeline.Stages.map((s: { Name: string; Actions: { Name: string; RunOrder?: number }[] }) => `${s.Name}: ${s.Actions.map((a) => `${a.Name}@${a.RunOrder ?? 1}`).join(',')}`);
  const build = pipeline.Stages.find((s: { Name: string }) => s.Name === 'Build');
  const order2 = Object.fromEntries(build.Actions.map((a: { Name: string; RunOrder?: number }) => [a.Name, a.RunOrder ?? 1]));
  assert.ok(order2.Test < order2.BuildSynth, stagesInOrder.join(' | '));
  assert.throws(() => new PoloPipelineStack(new cdk.App(), 'P', { repository: 'r', branch: 'b', connectionArn: 'a', environments: [], stage: () => { throw new Error('unused'); } }), /at least one environment/);
});

test('a missing zip is a clear error', () => {
  const app = new cdk.App();
  assert.throws(
    () => new PoloAppStack(app, 'X', { environment: prod, assetsDir: '/nonexistent', manifest, fleetRoleArns: roles, reportTimezone: 'UTC' }),
    /bootstrap.zip is missing: run `just zip` first/,
  );
});

test('nothing secret in the template: no webhook URL, no secret in any function environment', () => {
  for (const t of [appTemplate(), appTemplate({ jwtIssuer: 'https://login.example.com', jwtAudience: ['polo'] })]) {
    const text = JSON.stringify(t.toJSON());
    assert.ok(!/hooks\.slack\.com/.test(text), 'no Slack webhook URL');
    for (const f of Object.values(t.findResources('AWS::Lambda::Function'))) {
      for (const name of Object.keys(f.Properties.Environment?.Variables ?? {})) {
        assert.ok(!/(SECRET|TOKEN|PASSWORD|WEBHOOK_URL)$/.test(name), `${f.Properties.FunctionName}: ${name}`);
      }
    }
  }
});

test('sessions are read by key only, and the sign-in may return to the public address', () => {
  const t = appTemplate({ publicUrl: 'https://polo.example.com/' });
  const sessionTable = Object.entries(t.findResources('AWS::DynamoDB::Table')).find(([, r]) => r.Properties.TableName === 'prod-SessionTable')?.[0];
  assert.ok(sessionTable);
  const onSessions = Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((st) => JSON.stringify(st.Resource).includes(sessionTable));
  assert.ok(onSessions.length > 0);
  for (const st of onSessions) {
    const actions = [st.Action].flat();
    assert.deepEqual(actions.sort(), ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], 'no Query: no function lists sessions');
  }
  t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    CallbackURLs: Match.arrayWith(['https://polo.example.com/auth/callback']),
    LogoutURLs: Match.arrayWith(['https://polo.example.com/auth/logout']),
  });
  for (const f of Object.values(t.findResources('AWS::SecretsManager::Secret'))) {
    assert.equal(f.DeletionPolicy, 'Retain', 'a re-created stack must not fail on a secret pending deletion');
  }
});
