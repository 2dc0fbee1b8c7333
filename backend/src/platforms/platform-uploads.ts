import { join } from 'node:path';

/**
 * Where an uploaded restore file waits for its job: in the data dir, named by the deployment
 * (= job) id, mode 0600; the job deletes it when the deployment ends. The worker must share
 * the data dir with the API (true for one machine; multi-node installs mount it).
 */
export function restoreUploadPath(dataDir: string, deploymentId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(deploymentId)) throw new Error('invalid deployment id');
  return join(dataDir, 'uploads', `${deploymentId}.restore`);
}
