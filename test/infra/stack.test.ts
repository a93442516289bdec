/**
 * The stack's properties, concern by concern (test/infra/stack/*.ts). One file so that one process
 * synthesizes each configuration once for all of them: a synth costs seconds.
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
