// Probes MariaDB once before the e2e suites: they run on SQLite and on MariaDB. Outside CI an
// unreachable MariaDB skips that half, loudly; under CI=true it is a failure.
'use strict';
const mysql = require('mysql2/promise');

module.exports = async function globalSetup() {
  const url = process.env.TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';
  process.env.TEST_MYSQL_URL = url;
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    await connection.query('SELECT 1');
    await connection.end();
    process.env.TEST_MARIADB = 'up';
  } catch (error) {
    process.env.TEST_MARIADB = 'down';
    const message = `MariaDB is not reachable at ${url} (${error.message})`;
    if (process.env.CI === 'true') {
      throw new Error(`${message}: the e2e suite needs it under CI`, { cause: error });
    }
    const line = '!'.repeat(100);
    console.warn(`\n${line}\n${message}.\nSKIPPING the MariaDB half of the e2e suite.\n${line}\n`);
  }
};
