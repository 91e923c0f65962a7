import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { PoloAppStack, PoloAppStackProps } from './app-stack.js';

/** One environment as a pipeline stage: the stage is named after the environment and holds
 *  the stack `PoloApp`, so CloudFormation names it `{env}-PoloApp`. */
export class PoloStage extends cdk.Stage {
  readonly app: PoloAppStack;

  constructor(scope: Construct, props: PoloAppStackProps) {
    super(scope, props.environment.name, { env: props.env });
    this.app = new PoloAppStack(this, 'PoloApp', props);
  }
}
