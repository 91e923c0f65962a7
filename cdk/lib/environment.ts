import * as cdk from 'aws-cdk-lib';

/**
 * A deployment of Polo: `dev`, `staging`, `prod`, … (`just deploy -e NAME`).
 *
 * The one naming rule: every stack and every physical name of environment `E` starts with
 * `E-`, so environments live side by side in one account.
 * - the application stack is `E-PoloApp` (deployed directly, or as stage `E` of the pipeline,
 *   which CDK names the same);
 * - the tables are `E-ResourceTable` and `E-ReportTable`;
 * - functions, their log groups, the roles other accounts trust, schedules and rules are
 *   `E-polo-{name}` (log groups `/aws/lambda/E-polo-{name}`);
 * - the bucket is `E-polo-data-{account}-{region}`, the sign-in domain `E-polo-{account}`.
 *
 * The pipeline stack (`PoloPipeline`) and the fleet accounts' `PoloDestination` serve several
 * environments and keep their plain names.
 */
export class PoloEnvironment {
  /** Lower-case letters, digits and inner hyphens, at most 16: bucket and domain names are
   *  lower case, and the longest derived name must stay within AWS's 63- and 64-character limits. */
  static readonly PATTERN = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;

  readonly name: string;

  /** What AWS refuses at the start of a bucket name (S3 naming rules) or anywhere in a Cognito
   *  domain prefix (reserved words), both of which begin with the environment's name. */
  static readonly RESERVED = /^(xn--|sthree-|sthree$|amzn-s3-demo-)|aws|amazon|cognito/;

  constructor(name: string) {
    if (!PoloEnvironment.PATTERN.test(name)) {
      throw new Error(
        `environment ${JSON.stringify(name)}: expected lower-case letters, digits and inner hyphens, at most 16 (e.g. dev, staging, prod)`,
      );
    }
    const reserved = PoloEnvironment.RESERVED.exec(name);
    if (reserved) {
      throw new Error(`environment ${JSON.stringify(name)}: AWS reserves "${reserved[0]}" in bucket or sign-in domain names`);
    }
    this.name = name;
  }

  /** `E-{base}`: the stack name, also what `cdk deploy` selects. */
  stackName(base: string): string {
    return `${this.name}-${base}`;
  }

  /** `E-{table}`: `E-ResourceTable`, `E-ReportTable`. */
  tableName(table: 'ResourceTable' | 'ReportTable' | 'SessionTable'): string {
    return `${this.name}-${table}`;
  }

  /** `E-polo-{name}`: functions, roles, schedules, rules. */
  resourceName(name: string): string {
    return `${this.name}-polo-${name}`;
  }

  /** The role a function with a known role name runs as, in `account`. */
  roleArn(partition: string, account: string, fn: string): string {
    return `arn:${partition}:iam::${account}:role/${this.resourceName(fn)}`;
  }

  /** `E-{purpose}-{account}-{region}`, by default `E-polo-data-…` (a token until deploy when
   *  the stack is environment-agnostic). At most 16 + 18 + 12 + 15 characters: within S3's 63. */
  bucketName(purpose = 'polo-data'): string {
    return `${this.name}-${purpose}-${cdk.Aws.ACCOUNT_ID}-${cdk.Aws.REGION}`;
  }

  /** The CloudWatch namespace of the functions' metrics, one per environment. */
  metricsNamespace(): string {
    return `Polo/${this.name}`;
  }
}

/** Parses a comma-separated list of environment names (context values such as `staging,prod`). */
export function environmentList(value: string): PoloEnvironment[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new Error(`expected one or more environment names, got ${JSON.stringify(value)}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`environment ${n} is listed twice`);
    seen.add(n);
  }
  return names.map((n) => new PoloEnvironment(n));
}

/**
 * cfn-lint's W3005 flags the `DependsOn` CDK adds from a function to its role, which the
 * function also references: harmless (CloudFormation ignores the duplicate) and not ours to
 * remove. Written into the template so every linter (`cfn-lint`, `sam validate --lint`) reads it.
 */
export function acceptCdkDependsOn(stack: cdk.Stack): void {
  stack.templateOptions.metadata = {
    ...(stack.templateOptions.metadata ?? {}),
    'cfn-lint': { config: { ignore_checks: ['W3005'] } },
  };
}
