// STAND-IN for Grafana (tests only): answers GET /api/health like Grafana does, 404 otherwise.
// Like Grafana, it serves HTTPS with the given certificate when GF_SERVER_PROTOCOL is https (a
// platform launched with TLS), so that stack's health check passes too.
// It also takes Grafana's alerting provisioning reload (POST /api/admin/provisioning/alerting/reload)
// with Grafana's admin login check (HTTP basic, GF_SECURITY_ADMIN_USER/_PASSWORD: 401 otherwise)
// and records each call, with the reading alerts file it then sees in its provisioning mount, as
// one JSON line in /var/lib/grafana/stand-in-alerting-reloads.jsonl. It evaluates nothing.
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

const RELOADS = '/var/lib/grafana/stand-in-alerting-reloads.jsonl';
const READING_ALERTS = '/etc/grafana/provisioning/alerting/fieldstation-readings.yaml';

function isAdmin(request) {
  const expected = `${process.env.GF_SECURITY_ADMIN_USER ?? 'admin'}:${process.env.GF_SECURITY_ADMIN_PASSWORD ?? 'admin'}`;
  const header = request.headers.authorization ?? '';
  return header === `Basic ${Buffer.from(expected).toString('base64')}`;
}

function readingAlerts() {
  try {
    return readFileSync(READING_ALERTS, 'utf8');
  } catch {
    return null;
  }
}

function answer(request, response) {
  if (request.method === 'GET' && request.url === '/api/health') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ database: 'ok', version: 'stand-in', commit: 'stand-in' }));
    return;
  }
  if (request.method === 'POST' && request.url === '/api/admin/provisioning/alerting/reload') {
    const authorized = isAdmin(request);
    appendFileSync(
      RELOADS,
      `${JSON.stringify({ at: new Date().toISOString(), authorized, file: authorized ? readingAlerts() : null })}\n`,
    );
    response.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({ message: authorized ? 'Alerting config reloaded' : 'Unauthorized' }),
    );
    return;
  }
  response.writeHead(404).end();
}

const server =
  process.env.GF_SERVER_PROTOCOL === 'https'
    ? createHttpsServer(
        {
          cert: readFileSync(process.env.GF_SERVER_CERT_FILE),
          key: readFileSync(process.env.GF_SERVER_CERT_KEY),
        },
        answer,
      )
    : createHttpServer(answer);
server.listen(3000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
