// First-start initialisation of the InfluxDB stand-in (tests only): waits for the loopback
// influxd, then creates INFLUXDB_DB and the INFLUXDB_ADMIN_USER. Statements go in a POST body,
// so the password appears in no process's argv.
const base = 'http://127.0.0.1:8086';
const escapeString = (value) => value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
const escapeName = (value) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

async function query(statement) {
  const response = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q: statement }),
  });
  const body = await response.text();
  if (!response.ok || body.includes('"error"')) throw new Error(`influxdb init: ${body}`);
}

for (let attempt = 0; ; attempt += 1) {
  try {
    if ((await fetch(`${base}/ping`)).status === 204) break;
  } catch {
    // Not listening yet.
  }
  if (attempt > 300) throw new Error('influxdb init: influxd did not start within 60 s');
  await new Promise((done) => setTimeout(done, 200));
}
const {
  INFLUXDB_DB: database,
  INFLUXDB_ADMIN_USER: admin,
  INFLUXDB_ADMIN_PASSWORD: password,
} = process.env;
if (database) await query(`CREATE DATABASE "${escapeName(database)}"`);
if (admin && password) {
  await query(
    `CREATE USER "${escapeName(admin)}" WITH PASSWORD '${escapeString(password)}' WITH ALL PRIVILEGES`,
  );
}
