// STAND-IN for Grafana (tests only): answers GET /api/health like Grafana does, 404 otherwise.
// Like Grafana, it serves HTTPS with the given certificate when GF_SERVER_PROTOCOL is https (a
// platform launched with TLS), so that stack's health check passes too.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

function answer(request, response) {
  if (request.method === 'GET' && request.url === '/api/health') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ database: 'ok', version: 'stand-in', commit: 'stand-in' }));
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
