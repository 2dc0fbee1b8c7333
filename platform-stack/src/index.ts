/** What the backend's provisioning code uses to describe and render one platform's stack. */
export { ONE_SHOT_SERVICES } from './compose/render-compose';
export { renderStack, PROCESSOR_BUILD_FILES } from './render-stack';
export { readScriptTemplate } from './spec/script-template';
export type { RenderedFile, RenderedStack } from './render-stack';
export {
  createStackSpec,
  validateStackSpec,
  generateSecret,
  generateStackSecrets,
  InvalidStackSpecError,
  DATABASE_CHOICES,
  ADMIN_USER,
  PROCESSOR_USER,
  DATABASE_NAME,
  PROCESSOR_DATABASE_ROLE,
  GRAFANA_DATABASE_ROLE,
} from './spec/stack-spec';
export {
  renderPostgresSetup,
  renderInfluxSetup,
  renderMongoSetup,
  MONGO_PROCESSOR_ROLE,
} from './database/render-database-setup';
export type {
  StackSpec,
  StackSpecInput,
  StackPorts,
  StackSecrets,
  DeviceUser,
  BrokerTls,
  ProcessorSpec,
  DatabaseChoice,
} from './spec/stack-spec';
export {
  READINGS_RETENTION_DAYS,
  InvalidRetentionError,
  checkRetentionDays,
  readingsRetentionCommand,
} from './database/readings-retention';
export { STANDARD_PORTS, defaultStackPorts } from './spec/ports';
export type { StackPortName } from './spec/ports';
export { DEFAULT_IMAGES } from './spec/images';
export type { StackImages } from './spec/images';
export {
  createCertificateAuthority,
  issueServerCertificate,
  issueDeviceCertificate,
  signDeviceCsr,
  certificateExpiry,
  certificateSerialNumber,
  createRevocationList,
  revocationListFileName,
  CsrRejectedError,
  DEVICE_CERTIFICATE_DAYS,
  MAX_CSR_PEM_LENGTH,
} from './rabbitmq/certificates';
export type {
  CertificateAuthority,
  IssuedCertificate,
  RevokedCertificate,
} from './rabbitmq/certificates';
export { hashRabbitPassword } from './rabbitmq/password-hash';
export {
  TELEMETRY_QUEUE,
  DEAD_LETTER_QUEUE,
  MYT_FANOUT_EXCHANGE,
  deviceBrokerAccess,
  MAX_MESSAGE_BYTES,
  revocationListStackPath,
} from './rabbitmq/render-rabbitmq';
export type { DeviceBrokerAccess, TopicPermission } from './rabbitmq/render-rabbitmq';
export {
  READING_ALERTS_STACK_PATH,
  READING_ALERT_OPERATORS,
  READING_ALERT_VALUE_LIMIT,
  READING_NAME_PATTERN,
  READING_NAME_MAX_LENGTH,
  InvalidReadingAlertError,
  checkReadingAlertRule,
  grafanaText,
  readingAlertUid,
  renderReadingAlerts,
  renderReadingAlertsFile,
  supportsReadingAlerts,
} from './grafana/render-alerting';
export type { ReadingAlertRule, ReadingAlertOperator } from './grafana/render-alerting';
