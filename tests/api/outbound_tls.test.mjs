// `http` blocks over TLS end to end: a local HTTPS server whose certificate comes from a CA made here with the
// openssl CLI (nothing secret is committed), trusted by the server through the testing-only --test-ca-file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { useServer, createAccount, expectError } from './lib/harness.mjs';
import { createAutomation, blendPath } from './lib/automations.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-tls-'));
const file = (name) => path.join(dir, name);
const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

// A CA, a certificate it signs for localhost, and a self-signed one for localhost that nobody trusts.
openssl('req', '-x509', ...ecKey, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=Weft Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
openssl('req', ...ecKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
writeFileSync(file('server.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n');
openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '1', '-extfile', file('server.ext'), '-out', file('server.pem'));
openssl('req', '-x509', ...ecKey, '-keyout', file('self.key'), '-out', file('self.pem'), '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost');

/** An HTTPS server on 127.0.0.1 answering {method, path, body} as JSON. */
function startHttps(certFile, keyFile) {
    const server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
        let body = '';
        req.on('data', (chunk) => {
            body += chunk;
        });
        req.on('end', () => {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ method: req.method, path: req.url, body }));
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const ctx = useServer({ args: ['--allow-private-network', '--test-ca-file', file('ca.pem')] });
let A;
let account;
let trusted;
let untrusted;

const httpBlock = (url, extra = {}) => ({ schema: 1, flows: { start: [
    { id: 'call', type: 'http', url, ...extra },
    { id: 'out', type: 'output', value: '{$.call}' },
] } });

describe('http blocks over TLS (--test-ca-file)', () => {
    before(async () => {
        trusted = await startHttps(file('server.pem'), file('server.key'));
        untrusted = await startHttps(file('self.pem'), file('self.key'));
        A = ctx.server.client(await ctx.server.createPartner({ name: 'tls', rateLimit: 100000 }));
        account = await createAccount(A);
    });

    after(() => {
        trusted?.close();
        untrusted?.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it('POST to https://localhost with a certificate from the trusted CA: status and body come back', async () => {
        const url = `https://localhost:${trusted.address().port}/items?x=1`;
        const blend = await createAutomation(A, account, httpBlock(url, { method: 'POST', body: { name: 'ada' } }));
        const res = await A.post(`${blendPath(account, blend)}/run`, { json: {} });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.status, 200);
        assert.deepEqual(res.body.body, { method: 'POST', path: '/items?x=1', body: '{"name":"ada"}' });
    });

    it('a self-signed certificate fails the block with a message saying why', async () => {
        const url = `https://localhost:${untrusted.address().port}/items`;
        const blend = await createAutomation(A, account, httpBlock(url));
        const res = await A.post(`${blendPath(account, blend)}/run`, { json: {} });
        expectError(assert, res, 422, 'run_failed');
        assert.equal(res.body.run.error.block_id, 'call');
        assert.match(res.body.run.error.message,
            /TLS handshake with localhost:\d+ failed: the server's certificate was refused \(self[- ]signed certificate\)/);
    });
});
