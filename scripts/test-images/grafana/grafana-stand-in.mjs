// STAND-IN for Grafana (tests only): answers GET /api/health like Grafana does, 404 otherwise.
import { createServer } from 'node:http';

createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/api/health') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ database: 'ok', version: 'stand-in', commit: 'stand-in' }));
    return;
  }
  response.writeHead(404).end();
}).listen(3000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
