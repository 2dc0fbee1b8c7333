/** Cloud credentials as stored (decrypted) by the credentials module. */
export type CloudCredentials =
  | { type: 'aws'; accessKeyId: string; secretAccessKey: string }
  | { type: 'gcp'; serviceAccountJson: string }
  | {
      type: 'openstack';
      authUrl: string;
      username: string;
      password: string;
      projectName: string;
      domain: string;
      region?: string;
    };

/**
 * The environment variables each Terraform provider reads its credentials from. Pass the
 * result as `credentials` to the runner: it is the only way credentials reach Terraform, so
 * they never appear in a synthesized file or an argument list.
 */
export function providerEnvironment(credentials: CloudCredentials): Record<string, string> {
  switch (credentials.type) {
    case 'aws':
      return {
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      };
    case 'gcp':
      return { GOOGLE_CREDENTIALS: credentials.serviceAccountJson };
    case 'openstack':
      return {
        OS_AUTH_URL: credentials.authUrl,
        OS_USERNAME: credentials.username,
        OS_PASSWORD: credentials.password,
        OS_PROJECT_NAME: credentials.projectName,
        OS_USER_DOMAIN_NAME: credentials.domain,
        OS_PROJECT_DOMAIN_NAME: credentials.domain,
        ...(credentials.region ? { OS_REGION_NAME: credentials.region } : {}),
      };
  }
}
