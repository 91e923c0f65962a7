import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface PoloDestinationStackProps extends cdk.StackProps {
  /** The account Polo runs in: its functions assume the roles made here. */
  poloAccountId: string;
  /** The registry table each region of this account has. */
  indexTable: string;
  /** Also make the Cost Explorer role (deploy so in the core/payer account). */
  costExplorer: boolean;
}

/** What each fleet account deploys for Polo: a read-only role Polo may assume. */
export class PoloDestinationStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: PoloDestinationStackProps) {
    super(scope, id, props);
    const read = new iam.Role(this, 'PoloRead', {
      roleName: 'polo-read',
      assumedBy: new iam.AccountPrincipal(props.poloAccountId),
      description: 'Read-only access for Polo: EC2 inventory and the index registry',
      maxSessionDuration: cdk.Duration.hours(1),
    });
    read.addToPolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
    read.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Scan', 'dynamodb:DescribeTable'],
        resources: [`arn:${this.partition}:dynamodb:*:${this.account}:table/${props.indexTable}`],
      }),
    );
    if (props.costExplorer) {
      const costs = new iam.Role(this, 'PoloCosts', {
        roleName: 'polo-costs',
        assumedBy: new iam.AccountPrincipal(props.poloAccountId),
        description: 'Cost Explorer reads for Polo',
        maxSessionDuration: cdk.Duration.hours(1),
      });
      costs.addToPolicy(
        new iam.PolicyStatement({ actions: ['ce:GetCostAndUsage', 'ce:GetCostForecast'], resources: ['*'] }),
      );
    }
  }
}
