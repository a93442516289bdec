/**
 * The stack's properties, concern by concern (test/infra/stack/*.ts), and the security review at
 * synth. One file so that one process loads aws-cdk-lib (seconds) and synthesizes each
 * configuration once for all of them: a synth costs seconds too.
 */
import './stack/storage';
import './stack/queues';
import './stack/functions';
import './stack/permissions';
import './stack/api';
import './stack/database';
import './stack/observability';
import './stack/localstack-profile';
import './stack/cdn';
import './stack/security-review';
import './stack/operations-figures';
import './stack/faces';
