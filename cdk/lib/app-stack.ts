import { existsSync } from 'node:fs';
import { join } from 'node:path';

import * as cdk from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

import { acceptCdkDependsOn, PoloEnvironment } from './environment.js';
import { PoloMonitoring } from './monitoring/monitoring.js';
import { suppressAppFindings } from './nag.js';
import { RouteSpec } from './routes.js';

/** The functions a route can name, and the scheduled ones. */
export const ROUTE_FUNCTIONS = ['dashboard', 'inventory', 'costs', 'reports', 'static'] as const;
export const SCHEDULED_FUNCTIONS = ['sync', 'reporter', 'cop'] as const;
/** Polo's own operations: the alarm forwarder to Slack (monitoring.ts). */
export const OPS_FUNCTIONS = ['alarms'] as const;
/** Every function `just zip` builds. */
export const ALL_FUNCTIONS = [...ROUTE_FUNCTIONS, ...SCHEDULED_FUNCTIONS, ...OPS_FUNCTIONS] as const;
/** How often the sync runs (also what the "no data yet" page tells people). */
export const SYNC_INTERVAL_MINUTES = 15;

export interface PoloAppStackProps extends cdk.StackProps {
  /** The environment this stack is: it names every physical resource (environment.ts). */
  environment: PoloEnvironment;
  /** Where `just zip` put `{function}/bootstrap.zip`. */
  assetsDir: string;
  routes: RouteSpec[];
  /** The roles the sync function may assume, one per fleet account. */
  fleetRoleArns: string[];
  /** Where the logout link points (default `/auth/logout`, which also signs out at the issuer). */
  logoutUrl?: string;
  reportTimezone: string;
  /** The dashboard's address for links in messages (a custom domain); default the API's URL. */
  publicUrl?: string;
  /** The Slack incoming webhook reports (and the Cop) post to; without it they wait in the outbox. */
  slackWebhookUrl?: string;
  /** The Slack incoming webhook Polo's own alarms go to (default `slackWebhookUrl`); without
   *  either, alarms reach only the SNS topic's other subscribers (`AlarmTopicArn`). */
  opsSlackWebhookUrl?: string;
  /** An existing OIDC issuer and its client id for the browser sign-in; else a Cognito pool is created. */
  jwtIssuer?: string;
  jwtAudience?: string[];
  /** A sign-out URL the issuer's discovery document does not name. */
  oidcLogoutEndpoint?: string;
  /** The Cognito hosted UI's domain prefix (globally unique per region); default `{env}-polo-{account}`. */
  authDomainPrefix?: string;
  /** Origins besides the API's own the sign-in may return to (a custom domain). */
  extraOrigins?: string[];
  /** Reserve one concurrent execution for each scheduled function (default true). Accounts whose
   *  Lambda concurrency quota is under 103 cannot (100 must stay unreserved); the sync's lease
   *  still keeps runs from overlapping there. */
  reserveConcurrency?: boolean;
  /** The Cost Explorer role in the core (payer) account. */
  coreRoleArn?: string;
}

/** Polo itself: functions, HTTP API, sign-in (Cognito hosted UI or a given issuer), tables, bucket, schedules. */
export class PoloAppStack extends cdk.Stack {
  readonly api: apigw.HttpApi;
  readonly functions: Record<string, lambda.Function> = {};
  readonly monitoring: PoloMonitoring;

  constructor(scope: Construct, id: string, props: PoloAppStackProps) {
    super(scope, id, props);
    // Log delivery by bucket policy, not the legacy log-delivery ACL (the log bucket then
    // enforces bucket-owner ownership, with ACLs off).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const env = props.environment;
    acceptCdkDependsOn(this);

    // Both tables: pk/sk strings, on demand, items expire on `ttl`, kept on stack deletion.
    const table = (id: string, tableName: string) =>
      new dynamodb.Table(this, id, {
        tableName,
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: 'ttl',
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
    const resources = table('Resources', env.tableName('ResourceTable'));
    resources.addGlobalSecondaryIndex({
      indexName: 'by-kind',
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
    });
    resources.addGlobalSecondaryIndex({
      indexName: 'by-index',
      partitionKey: { name: 'gsi2pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi2sk', type: dynamodb.AttributeType.STRING },
    });
    const reports = table('Reports', env.tableName('ReportTable'));
    // Who read what from the data bucket (CSV exports are fetched by presigned URL): its
    // server access logs, kept 90 days.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      bucketName: env.bucketName('polo-access-logs'),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: cdk.Duration.days(90) }],
    });
    const data = new s3.Bucket(this, 'Data', {
      bucketName: env.bucketName(),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data/',
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [
        { noncurrentVersionExpiration: cdk.Duration.days(30) },
        // CSV exports too large for one Lambda answer, fetched by a 15-minute presigned URL.
        { prefix: 'exports/', expiration: cdk.Duration.days(1), noncurrentVersionExpiration: cdk.Duration.days(1) },
      ],
    });

    // The HTTP API first: the sign-in client's callback URL names it. No API Gateway
    // authorizer: a browser carries a session cookie, not a bearer header, so every route
    // function checks identity itself (cookie, bearer token, or claims) before reading data.
    this.api = new apigw.HttpApi(this, 'Api', { apiName: env.resourceName('api'), description: `Polo dashboard (${env.name})` });
    // One access log line per request, beside the functions' own.
    const apiLogs = new logs.LogGroup(this, 'api-logs', {
      logGroupName: `/aws/apigateway/${env.resourceName('api')}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const defaultStage = this.api.defaultStage?.node.defaultChild as apigw.CfnStage | undefined;
    if (defaultStage) defaultStage.accessLogSettings = {
      destinationArn: apiLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId', ip: '$context.identity.sourceIp', requestTime: '$context.requestTime',
        method: '$context.httpMethod', path: '$context.path', status: '$context.status',
        responseLength: '$context.responseLength', latency: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    const origins = [this.api.apiEndpoint, ...(props.extraOrigins ?? [])];

    // Identity: the issuer given as context, or a Cognito pool with its hosted UI.
    let issuer = props.jwtIssuer;
    let clientId = props.jwtAudience?.[0];
    let logoutEndpoint = props.oidcLogoutEndpoint;
    if (!issuer) {
      const pool = new cognito.UserPool(this, 'Users', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        // Staff sign in to see every account's fleet and costs: a strong password, and a
        // one-time code from an authenticator app offered to everyone (lib/nag.ts says why
        // it is not required by the stack).
        mfa: cognito.Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
      const domain = pool.addDomain('SignIn', {
        cognitoDomain: { domainPrefix: props.authDomainPrefix ?? `${env.resourceName(this.account)}` },
      });
      const client = pool.addClient('Dashboard', {
        generateSecret: false,
        authFlows: {},
        preventUserExistenceErrors: true,
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
          callbackUrls: origins.map((o) => `${o}/auth/callback`),
          logoutUrls: origins.map((o) => `${o}/auth/logout`),
        },
        // A working day; the session cookie is the ID token and ends with it.
        idTokenValidity: cdk.Duration.hours(8),
        accessTokenValidity: cdk.Duration.hours(8),
      });
      issuer = `https://cognito-idp.${this.region}.amazonaws.com/${pool.userPoolId}`;
      clientId = client.userPoolClientId;
      logoutEndpoint = `${domain.baseUrl()}/logout`;
      new cdk.CfnOutput(this, 'UserPoolId', { value: pool.userPoolId });
      new cdk.CfnOutput(this, 'SignInUrl', { value: domain.baseUrl() });
    }
    if (!clientId) throw new Error('jwtIssuer needs jwtAudience (the client id browsers sign in with)');

    const environment: Record<string, string> = {
      ENV: env.name,
      // REST (payload 1.0) events carry the stage in the path; routes do not.
      AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true',
      DYNAMODB_TABLE_NAME: resources.tableName,
      DYNAMODB_REPORT_TABLE_NAME: reports.tableName,
      DATA_BUCKET_NAME: data.bucketName,
      POWERTOOLS_METRICS_NAMESPACE: env.metricsNamespace(),
      LOGOUT_URL: props.logoutUrl ?? '/auth/logout',
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: clientId,
      ...(logoutEndpoint ? { OIDC_LOGOUT_ENDPOINT: logoutEndpoint } : {}),
      SYNC_INTERVAL_MINUTES: String(SYNC_INTERVAL_MINUTES),
      REPORT_TIMEZONE: props.reportTimezone,
    };

    const make = (name: string, memoryMb: number, timeout: cdk.Duration, options: Partial<lambda.FunctionProps> = {}) => {
      const zip = join(props.assetsDir, name, 'bootstrap.zip');
      if (!existsSync(zip)) {
        throw new Error(`${zip} is missing: run \`just zip\` first`);
      }
      const functionName = env.resourceName(name);
      const logGroup = new logs.LogGroup(this, `${name}-logs`, {
        logGroupName: `/aws/lambda/${functionName}`,
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: cdk.RemovalPolicy.DESTROY,
      });
      // Each function writes its own log group and nothing else's (no AWSLambdaBasicExecutionRole:
      // that one may write every log group of the account).
      const role = (options.role as iam.Role | undefined) ?? new iam.Role(this, `${name}-service-role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
      const fn = new lambda.Function(this, `fn-${name}`, {
        functionName,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.X86_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(zip),
        memorySize: memoryMb,
        timeout,
        logGroup,
        // X-Ray: Lambda's segment per invocation; the function adds a subsegment per AWS call.
        tracing: lambda.Tracing.ACTIVE,
        environment: { ...environment, POWERTOOLS_SERVICE_NAME: `polo-${name}` },
        description: `Polo ${name} (${env.name})`,
        ...options,
        role,
      });
      this.functions[name] = fn;
      return fn;
    };
    // Functions that assume roles in other accounts get a role with a known name, so those
    // accounts can trust exactly it (destination-stack.ts), not the whole Polo account.
    const namedRole = (name: string) =>
      new iam.Role(this, `${name}-role`, {
        roleName: env.resourceName(name),
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
    // Memory buys CPU on Lambda (1,769 MB = one vCPU). Route functions parse the S3 snapshot
    // on a cold start: 250-350 ms of one core for the large sample measured here, so at the old
    // 256 MB (~0.15 vCPU) a first page took seconds. 1,024 MB (~0.58 vCPU) keeps it near
    // half a second until the cost rows leave the snapshot; size again from `just bench`.
    const ROUTE_MEMORY_MB = 1024;
    for (const name of ROUTE_FUNCTIONS) {
      make(name, name === 'static' ? 256 : ROUTE_MEMORY_MB, cdk.Duration.seconds(10), {});
    }
    // One run at a time: reserved concurrency 1, and no retries that could overlap the next
    // scheduled run (a sync run also takes a lease; the reporter marks a report sent only once,
    // conditionally, so an overlapping invocation cannot mark it twice).
    const scheduled = (name: string, memoryMb: number, timeout: cdk.Duration, role?: iam.Role) => {
      const reserved = props.reserveConcurrency === false ? {} : { reservedConcurrentExecutions: 1 };
      const fn = make(name, memoryMb, timeout, { ...reserved, ...(role ? { role } : {}) });
      fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: cdk.Duration.minutes(SYNC_INTERVAL_MINUTES) });
      return fn;
    };
    const sync = scheduled('sync', 1024, cdk.Duration.minutes(5), namedRole('sync'));
    // The Cost Explorer role: only the sync asks Cost Explorer, so only it is told the role.
    if (props.coreRoleArn) sync.addEnvironment('CORE_ROLE_ARN', props.coreRoleArn);
    scheduled('reporter', 512, cdk.Duration.minutes(2));
    scheduled('cop', 512, cdk.Duration.minutes(2));

    // Least privilege, with exact actions: no wildcard action on data.
    const allow = (fn: lambda.Function, actions: string[], resourceArns: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: resourceArns }));
    const tableArns = (t: dynamodb.Table) => [t.tableArn, `${t.tableArn}/index/*`];
    // What the code calls, no more (TransactWriteItems needs the actions of its parts: puts).
    const readTable = ['dynamodb:GetItem', 'dynamodb:Query'];
    const writeTable = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'];
    // s3:ListBucket makes a missing key answer 404 (NoSuchKey) rather than 403, so a fresh
    // bucket reads as "no snapshot yet" instead of failing.
    const listBucket = (fn: lambda.Function) => allow(fn, ['s3:ListBucket'], [data.bucketArn]);
    for (const name of ['dashboard', 'inventory', 'costs', 'reports'] as const) {
      allow(this.functions[name], readTable, tableArns(resources));
      allow(this.functions[name], ['s3:GetObject'], [data.arnForObjects('snapshot.json'), data.arnForObjects('costs.json')]);
      listBucket(this.functions[name]);
      // Large CSV exports: written, then read through the presigned URL this role signs.
      allow(this.functions[name], ['s3:PutObject', 's3:GetObject'], [data.arnForObjects('exports/*')]);
    }
    allow(this.functions.reports, readTable, tableArns(reports));
    allow(this.functions.dashboard, readTable, tableArns(reports));
    // Instance and index pages show the Cop's findings, kept in the report table.
    allow(this.functions.inventory, readTable, tableArns(reports));
    allow(this.functions.sync, [...readTable, ...writeTable], tableArns(resources));
    // The sync also keeps the cost store (`costs.json`), asking Cost Explorer in the payer account.
    allow(this.functions.sync, ['s3:GetObject', 's3:PutObject'], [data.arnForObjects('sync/*'), data.arnForObjects('snapshot.json'), data.arnForObjects('costs.json')]);
    listBucket(this.functions.sync);
    allow(this.functions.sync, ['sts:AssumeRole'], props.fleetRoleArns);
    for (const name of ['reporter', 'cop'] as const) {
      allow(this.functions[name], readTable, tableArns(resources));
      allow(this.functions[name], [...readTable, ...writeTable], tableArns(reports));
      allow(this.functions[name], ['s3:GetObject'], [data.arnForObjects('snapshot.json'), data.arnForObjects('costs.json')]);
      listBucket(this.functions[name]);
    }
    // inventory-changes and weekly-summary read the period's history with a Scan (docs/reports.md).
    allow(this.functions.reporter, ['dynamodb:Scan'], [resources.tableArn]);
    // Only the sync asks Cost Explorer (it keeps the cost store the others read).
    if (props.coreRoleArn) allow(this.functions.sync, ['sts:AssumeRole'], [props.coreRoleArn]);

    const integrations: Record<string, HttpLambdaIntegration> = {};
    for (const route of props.routes) {
      const fn = this.functions[route.function];
      if (!fn) throw new Error(`route ${route.path} names unknown function ${route.function}`);
      integrations[route.function] ??= new HttpLambdaIntegration(`${route.function}-integration`, fn);
      this.api.addRoutes({
        path: route.path,
        methods: [route.method as apigw.HttpMethod],
        integration: integrations[route.function],
      });
    }

    // Schedules.
    const schedule = (name: string, expression: events.Schedule) =>
      new events.Rule(this, `${name}-schedule`, {
        ruleName: env.resourceName(name),
        schedule: expression,
        targets: [new targets.LambdaFunction(this.functions[name], { retryAttempts: 0 })],
      });
    schedule('sync', events.Schedule.rate(cdk.Duration.minutes(SYNC_INTERVAL_MINUTES)));
    // The Cop judges each new snapshot: every sync interval, five minutes after the sync starts.
    schedule('cop', events.Schedule.cron({ minute: `5/${SYNC_INTERVAL_MINUTES}` }));
    // Each report type on its own cadence, in the report time zone (EventBridge Scheduler
    // keeps the zone's DST), in the morning after Cost Explorer has had the night to settle:
    // the reporter builds each type's last complete period there. A run also sends
    // whatever earlier runs left in the Slack outbox.
    const REPORT_SCHEDULES: [string, string][] = [
      ['daily-cost', 'cron(15 6 * * ? *)'],
      ['inventory-changes', 'cron(20 6 * * ? *)'],
      ['idle-resources', 'cron(25 6 * * ? *)'],
      ['weekly-summary', 'cron(30 6 ? * MON *)'],
      ['monthly-close', 'cron(45 6 2 * ? *)'],
    ];
    const schedulerRole = new iam.Role(this, 'reporter-scheduler-role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
    });
    this.functions.reporter.grantInvoke(schedulerRole);
    for (const [type, expression] of REPORT_SCHEDULES) {
      new scheduler.CfnSchedule(this, `reporter-${type}-schedule`, {
        name: env.resourceName(type),
        scheduleExpression: expression,
        scheduleExpressionTimezone: props.reportTimezone,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: this.functions.reporter.functionArn,
          roleArn: schedulerRole.roleArn,
          input: JSON.stringify({ type }),
          retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 15 * 60 },
        },
      });
    }
    // Links in Slack messages point at the dashboard.
    for (const name of ['reporter', 'cop'] as const) this.functions[name].addEnvironment('PUBLIC_URL', props.publicUrl ?? this.api.apiEndpoint);
    if (props.slackWebhookUrl) {
      for (const name of ['reporter', 'cop'] as const) this.functions[name].addEnvironment('SLACK_WEBHOOK_URL', props.slackWebhookUrl);
    }

    // Polo's own alarms go to Slack through the forwarder, when there is a webhook for them.
    const opsWebhook = props.opsSlackWebhookUrl ?? props.slackWebhookUrl;
    // It reads no table or bucket: only what names it and where to post.
    const forwarder = opsWebhook
      ? make('alarms', 128, cdk.Duration.seconds(30), {
          environment: { ENV: env.name, POWERTOOLS_SERVICE_NAME: 'polo-alarms', SLACK_WEBHOOK_URL: opsWebhook },
        })
      : undefined;
    this.monitoring = new PoloMonitoring(this, 'Monitoring', {
      environment: env,
      functions: this.functions,
      routeFunctions: ROUTE_FUNCTIONS,
      scheduledFunctions: SCHEDULED_FUNCTIONS,
      syncIntervalMinutes: SYNC_INTERVAL_MINUTES,
    });
    if (forwarder) this.monitoring.topic.addSubscription(new subscriptions.LambdaSubscription(forwarder));
    suppressAppFindings(this);

    new cdk.CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new cdk.CfnOutput(this, 'HealthDashboard', { value: this.monitoring.dashboard.dashboardName });
    new cdk.CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new cdk.CfnOutput(this, 'DataBucket', { value: data.bucketName });
    new cdk.CfnOutput(this, 'ResourceTable', { value: resources.tableName });
    new cdk.CfnOutput(this, 'ReportTable', { value: reports.tableName });
    new cdk.CfnOutput(this, 'Environment', { value: env.name });
  }
}
