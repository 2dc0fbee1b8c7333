import { dirname, resolve } from 'node:path';
import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ANSIBLE_RUNNER_OPTIONS, AnsibleRunner, type AnsibleRunnerOptions } from './ansible-runner';
import { BrokerManagement } from './broker-management';
import { HostChecks } from './host-checks';
import { PLATFORM_HOST_OPTIONS, PlatformHost, type PlatformHostOptions } from './platform-host';
import { ProcessorDebugging } from './processor-debugging';
import { SshClient } from './ssh-client';

/** The repository's playbooks (next to backend/, from src/ and from dist/ alike). */
const PLAYBOOKS_DIR = resolve(__dirname, '../../../playbooks');

/** SSH and Ansible for the job handlers: inject {@link PlatformHost} (and {@link SshClient}). */
@Module({
  providers: [
    SshClient,
    AnsibleRunner,
    BrokerManagement,
    HostChecks,
    PlatformHost,
    ProcessorDebugging,
    {
      provide: ANSIBLE_RUNNER_OPTIONS,
      useValue: { playbooksDir: PLAYBOOKS_DIR } satisfies AnsibleRunnerOptions,
    },
    {
      provide: PLATFORM_HOST_OPTIONS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): PlatformHostOptions => ({
        processorPackageDir: dirname(require.resolve('@fieldstation/processor/package.json')),
        dockerHost: config.hostDockerHost,
        manageDockerService: config.hostManageDockerService,
      }),
    },
  ],
  exports: [SshClient, PlatformHost, BrokerManagement, HostChecks, ProcessorDebugging],
})
export class ProvisionModule {}
