import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { PoloAppStack, ROUTE_FUNCTIONS, SCHEDULED_FUNCTIONS } from '../lib/app-stack.js';
import { PoloDestinationStack } from '../lib/destination-stack.js';
import { fleetRoleArns, loadRoutes } from '../lib/routes.js';

const here = dirname(fileURLToPath(import.meta.url));
const routes = loadRoutes(resolve(here, '..', 'routes.json'));
const roles = fleetRoleArns(readFileSync(resolve(here, '..', '..', 'config', 'polo.toml'), 'utf8'));

/** Placeholder zips: the assertions are about the template, not the code. */
function fakeAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'polo-assets-'));
  for (const name of [...ROUTE_FUNCTIONS, ...SCHEDULED_FUNCTIONS]) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'bootstrap.zip'), 'placeholder');
  }
  return dir;
}

function appTemplate(extra: Partial<ConstructorParameters<typeof PoloAppStack>[2]> = {}): Template {
  const app = new cdk.App();
  const stack = new PoloAppStack(app, 'PoloApp', {
    assetsDir: fakeAssets(),
    routes,
    fleetRoleArns: roles,
    logoutUrl: 'https://auth.example.com/logout',
    reportTimezone: 'Europe/Paris',
    ...extra,
  });
  return Template.fromStack(stack);
}

test('every route of `polo routes --json` exists, with the JWT authorizer where it needs a user', () => {
  const t = appTemplate();
  const authorizers = t.findResources('AWS::ApiGatewayV2::Authorizer');
  assert.equal(Object.keys(authorizers).length, 1);
  assert.equal(Object.values(authorizers)[0].Properties.AuthorizerType, 'JWT');
  const apiRoutes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
  assert.equal(apiRoutes.length, routes.length);
  for (const route of routes) {
    const found = apiRoutes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
    assert.ok(found, `route ${route.method} ${route.path}`);
    assert.equal(found.AuthorizationType, route.authorized ? 'JWT' : 'NONE', route.path);
  }
});

test('every function exists, from its zip, with its environment', () => {
  const t = appTemplate();
  t.resourceCountIs('AWS::Lambda::Function', ROUTE_FUNCTIONS.length + SCHEDULED_FUNCTIONS.length);
  for (const name of [...ROUTE_FUNCTIONS, ...SCHEDULED_FUNCTIONS]) {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: `polo-${name}`,
          ENV: 'prod',
          LOGOUT_URL: 'https://auth.example.com/logout',
          REPORT_TIMEZONE: 'Europe/Paris',
          DYNAMODB_TABLE_NAME: Match.anyValue(),
          DYNAMODB_REPORT_TABLE_NAME: Match.anyValue(),
          DATA_BUCKET_NAME: Match.anyValue(),
        }),
      },
    });
  }
  t.resourceCountIs('AWS::Logs::LogGroup', ROUTE_FUNCTIONS.length + SCHEDULED_FUNCTIONS.length);
  t.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
});

test('both tables expire items on `ttl`, and the resource table has its access-pattern indexes', () => {
  const t = appTemplate();
  t.resourceCountIs('AWS::DynamoDB::Table', 2);
  t.allResourcesProperties('AWS::DynamoDB::Table', {
    TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    BillingMode: 'PAY_PER_REQUEST',
  });
  t.hasResourceProperties('AWS::DynamoDB::Table', {
    GlobalSecondaryIndexes: Match.arrayWith([
      Match.objectLike({ IndexName: 'by-kind' }),
      Match.objectLike({ IndexName: 'by-index' }),
    ]),
  });
  t.hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
  });
});

test('sync, reporter and cop run on schedules', () => {
  const t = appTemplate();
  const rules = Object.values(t.findResources('AWS::Events::Rule')).map((r) => r.Properties);
  assert.equal(rules.length, 3);
  const expressions = rules.map((r) => r.ScheduleExpression).sort();
  assert.deepEqual(expressions, ['cron(15 6 * * ? *)', 'rate(1 hour)', 'rate(15 minutes)']);
  for (const rule of rules) assert.equal(rule.Targets.length, 1);
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

test('an issuer given as context replaces the Cognito pool', () => {
  const t = appTemplate({ jwtIssuer: 'https://login.example.com', jwtAudience: ['polo'] });
  t.resourceCountIs('AWS::Cognito::UserPool', 0);
  t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    JwtConfiguration: { Issuer: 'https://login.example.com', Audience: ['polo'] },
  });
  appTemplate().resourceCountIs('AWS::Cognito::UserPool', 1);
});

test('the destination stack gives Polo a read-only role, and Cost Explorer only when asked', () => {
  const app = new cdk.App();
  const plain = Template.fromStack(
    new PoloDestinationStack(app, 'Fleet', { poloAccountId: '123456789012', indexTable: 'marqo-indexes', costExplorer: false }),
  );
  plain.resourceCountIs('AWS::IAM::Role', 1);
  plain.hasResourceProperties('AWS::IAM::Role', { RoleName: 'polo-read' });
  const actions = Object.values(plain.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  assert.deepEqual(actions.sort(), ['dynamodb:DescribeTable', 'dynamodb:Scan', 'ec2:DescribeInstances']);
  const core = Template.fromStack(
    new PoloDestinationStack(new cdk.App(), 'Core', { poloAccountId: '123456789012', indexTable: 'marqo-indexes', costExplorer: true }),
  );
  core.resourceCountIs('AWS::IAM::Role', 2);
});

test('a missing zip is a clear error', () => {
  const app = new cdk.App();
  assert.throws(
    () => new PoloAppStack(app, 'X', { assetsDir: '/nonexistent', routes, fleetRoleArns: roles, logoutUrl: 'x', reportTimezone: 'UTC' }),
    /bootstrap.zip is missing: run `just zip` first/,
  );
});
