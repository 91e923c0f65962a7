import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { acceptCdkDependsOn, PoloEnvironment } from './environment.js';
import { Manifest } from './manifest.js';
import { suppressDestinationFindings } from './nag.js';

export interface PoloDestinationStackProps extends cdk.StackProps {
  /** The account Polo runs in: its functions assume the roles made here. */
  poloAccountId: string;
  /** The Polo environments that read this account: their functions' named roles are trusted. */
  environments: PoloEnvironment[];
  /** The registry table each region of this account has. */
  indexTable: string;
  /** Also make the Cost Explorer role (deploy so in the core/payer account). */
  costExplorer: boolean;
  /** Polo's functions (`cdk/manifest.json`): those that declare they assume these roles are trusted. */
  manifest: Manifest;
}

/** What each fleet account deploys for Polo: a read-only role Polo may assume. */
export class PoloDestinationStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: PoloDestinationStackProps) {
    super(scope, id, props);
    acceptCdkDependsOn(this);
    if (!/^\d{12}$/.test(props.poloAccountId)) {
      throw new Error(`poloAccountId must be a 12-digit account id, not ${JSON.stringify(props.poloAccountId)}`);
    }
    // Trust only the named roles of the functions that assume these roles, by principal ARN
    // condition: unlike a role-ARN principal, it needs no role to exist yet and survives the
    // role being recreated.
    if (props.environments.length === 0) throw new Error('the destination stack needs at least one Polo environment to trust');
    const trusted = (functions: string[]) =>
      new iam.AccountPrincipal(props.poloAccountId).withConditions({
        ArnEquals: {
          'aws:PrincipalArn': props.environments.flatMap((e) =>
            functions.map((f) => e.roleArn(this.partition, props.poloAccountId, f)),
          ),
        },
      });
    const assuming = (role: 'fleet-roles' | 'core-role') =>
      props.manifest.functions.filter((f) => f.assumes.includes(role)).map((f) => f.name);
    const read = new iam.Role(this, 'PoloRead', {
      roleName: 'polo-read',
      assumedBy: trusted(assuming('fleet-roles')),
      description: 'Read-only access for Polo: EC2 inventory, the index registry, who changed an instance (CloudTrail), utilization (CloudWatch, Compute Optimizer)',
      maxSessionDuration: cdk.Duration.hours(1),
    });
    read.addToPolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
    // Who launched, stopped, resized or terminated an instance behind a cost change: free
    // management events, asked only for the events the cost pages show (docs/costs.md).
    read.addToPolicy(new iam.PolicyStatement({ actions: ['cloudtrail:LookupEvents'], resources: ['*'] }));
    // Each running instance's CPU, network (and the agent's memory and GPU) and each index's
    // traffic over the last days, once a day: utilization (docs/cop.md). Billed per metric.
    read.addToPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    // Compute Optimizer's EC2 advice, shown beside Polo's where the account has opted in
    // (free; it also needs ec2:DescribeInstances, granted above).
    read.addToPolicy(
      new iam.PolicyStatement({ actions: ['compute-optimizer:GetEC2InstanceRecommendations'], resources: ['*'] }),
    );
    read.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Scan'],
        resources: [`arn:${this.partition}:dynamodb:*:${this.account}:table/${props.indexTable}`],
      }),
    );
    if (props.costExplorer) {
      const costs = new iam.Role(this, 'PoloCosts', {
        roleName: 'polo-cost-explorer',
        // Only the sync asks Cost Explorer; the other functions read the cost store it keeps.
        assumedBy: trusted(assuming('core-role')),
        description: 'Cost Explorer reads for Polo',
        maxSessionDuration: cdk.Duration.hours(1),
      });
      costs.addToPolicy(
        new iam.PolicyStatement({ actions: ['ce:GetCostAndUsage'], resources: ['*'] }),
      );
    }
    suppressDestinationFindings(this);
  }
}
