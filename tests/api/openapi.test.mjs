// The OpenAPI document itself (src/api/openapi.json): lint-clean, and consistent with API.md's rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openapiDoc as doc, OPENAPI_PATH } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const isPartnerPath = (p) => p.startsWith('/v1/accounts') || p.startsWith('/v1/templates') || p.startsWith('/v1/connectors');

function operations() {
    const out = [];
    for (const [p, item] of Object.entries(doc.paths)) {
        for (const m of METHODS) if (item[m]) out.push({ path: p, method: m, op: item[m] });
    }
    return out;
}

function deref(obj) {
    while (obj?.$ref) obj = obj.$ref.slice(2).split('/').reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    return obj;
}

describe('src/api/openapi.json', () => {
    it('is OpenAPI 3.1 with relative server / and full paths', () => {
        assert.match(doc.openapi, /^3\.1\.\d+$/);
        assert.deepEqual(doc.servers.map((s) => s.url), ['/']);
        const automationPaths = (coll) =>
            ['', '/{blend}', '/{blend}/set-persisted-inputs', '/{blend}/execution-token', '/{blend}/run', '/{blend}/runs',
                '/{blend}/lastrun', '/{blend}/runs/{run}', '/{blend}/runs/{run}/logs', '/{blend}/runs/{run}/stop',
                '/{blend}/runs/{run}/retry', '/{blend}/runs/{run}/export', '/{template}/{blend}'].map((s) => `/v1/accounts/{account}/${coll}${s}`);
        assert.deepEqual(Object.keys(doc.paths).sort(), [
            '/healthz', '/metrics', '/readyz', '/v1/accounts', '/v1/accounts/{account}',
            ...automationPaths('automations'), ...automationPaths('blends'), '/v1/accounts/{account}/expire',
            '/v1/accounts/{account}/users', '/v1/accounts/{account}/users/{user}', '/v1/openapi.json',
            '/v1/templates', '/v1/templates/{template}', '/v1/templates/{template}/install',
            '/v1/connectors', '/v1/connectors/{connector}', '/v1/accounts/{account}/datasources',
            '/v1/accounts/{account}/datasources/{datasource}',
            '/v1/widgets/{blend}', '/v1/exports/runs/{run}/{kind}',
            '/datasources/{datasource}/link', '/datasources/oauth/callback',
        ].sort());
        assert.ok(!JSON.stringify(doc).includes('_test'), 'the test clock is not part of the public API');
    });

    it('lints clean with @redocly/cli', { skip: !existsSync(path.join(here, 'node_modules', '.bin', 'redocly')) }, async () => {
        const bin = path.join(here, 'node_modules', '.bin', 'redocly');
        const { code, out } = await new Promise((resolve) => {
            execFile(bin, ['lint', '--config', path.join(here, 'redocly.yaml'), '--format', 'stylish', OPENAPI_PATH], { timeout: 60000 }, (err, stdout, stderr) =>
                resolve({ code: err ? err.code ?? 1 : 0, out: stdout + stderr }),
            );
        });
        assert.equal(code, 0, out);
        assert.doesNotMatch(out, /You have \d+ warnings?/, out);
    });

    it('§2 every /v1 call needs X-App-Id + X-Api-Key and documents 401; the rest is public', () => {
        assert.deepEqual(doc.security, [{ AppId: [], ApiKey: [] }]);
        for (const { path: p, method, op } of operations()) {
            const isPublic = !isPartnerPath(p);
            assert.equal(op.security?.length === 0, isPublic, `${method} ${p} security`);
            if (!isPublic) assert.ok(op.responses['401'], `${method} ${p} documents 401`);
        }
    });

    it('§4/§5 every partner operation documents 429 (with retry-after and the rate-limit headers), 413 and 500; bodies also 400 and 415', () => {
        for (const { path: p, method, op } of operations()) {
            for (const status of ['413', '500']) assert.ok(op.responses[status], `${method} ${p} documents ${status}`);
            if (!isPartnerPath(p)) continue;
            const r429 = deref(op.responses['429']);
            assert.ok(r429, `${method} ${p} documents 429`);
            for (const h of ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'X-Request-Id']) {
                assert.ok(deref(r429.headers[h])?.required, `${method} ${p} 429 requires ${h}`);
            }
            const ok = Object.entries(op.responses).find(([s]) => s.startsWith('2'));
            for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining']) {
                assert.ok(deref(deref(ok[1]).headers[h])?.required, `${method} ${p} ${ok[0]} requires ${h}`);
            }
            if (op.requestBody) {
                for (const status of ['400', '415']) assert.ok(op.responses[status], `${method} ${p} documents ${status}`);
            }
            if (p.includes('{account}')) assert.ok(op.responses['404'], `${method} ${p} documents 404`);
        }
    });

    it('every operation documents a 2xx response, except the datasource link (a 302 to the authorization server)', () => {
        for (const { path: p, method, op } of operations()) {
            const has2xx = Object.keys(op.responses).some((s) => s.startsWith('2'));
            assert.equal(has2xx, p !== '/datasources/{datasource}/link', `${method} ${p}`);
        }
        assert.ok(doc.paths['/datasources/{datasource}/link'].get.responses['302']);
    });

    it('§1 every response documents X-Request-Id', () => {
        for (const { path: p, method, op } of operations()) {
            for (const [status, r] of Object.entries(op.responses)) {
                assert.ok(deref(deref(r).headers?.['X-Request-Id'])?.required, `${method} ${p} ${status}`);
            }
        }
    });

    it('response objects forbid unknown properties so drift is caught', () => {
        for (const name of ['Account', 'User', 'PageLinks', 'PageMeta', 'AccountPage', 'UserPage', 'Error', 'Health', 'Ready',
            'Automation', 'AutomationDetailed', 'AutomationInput', 'AutomationPage', 'ExecutionToken', 'Run', 'RunDetailed',
            'RunError', 'RunPage', 'RunLogEntry', 'RunLogPage', 'ErrorRunFailed', 'Template', 'TemplateDetailed', 'TemplatePage',
            'TemplateGroup', 'Connector', 'ConnectorDetailed', 'ConnectorParam', 'ConnectorEndpoint', 'ConnectorPage', 'Datasource',
            'DatasourceDetailed', 'DatasourcePage', 'ErrorDatasourceInUse']) {
            assert.equal(doc.components.schemas[name].additionalProperties, false, name);
        }
    });

    it('§1 /blends and /automations document the same operations with the same responses', () => {
        for (const [p, item] of Object.entries(doc.paths)) {
            if (!p.includes('/blends')) continue;
            const twin = doc.paths[p.replace('/blends', '/automations')];
            assert.ok(twin, `${p} has an /automations twin`);
            for (const m of METHODS) {
                assert.equal(!!twin[m], !!item[m], `${m} ${p}`);
                if (!item[m]) continue;
                assert.deepEqual(Object.keys(twin[m].responses), Object.keys(item[m].responses), `${m} ${p} statuses`);
                assert.deepEqual(twin[m].responses, item[m].responses, `${m} ${p} responses`);
            }
        }
    });

    it('§7 run responses document Location (202), X-Run-Guid (200) and the 422 run_failed body', () => {
        for (const coll of ['blends', 'automations']) {
            const run = doc.paths[`/v1/accounts/{account}/${coll}/{blend}/run`].post;
            assert.ok(deref(deref(run.responses['202']).headers.Location).required);
            assert.ok(deref(deref(run.responses['200']).headers['X-Run-Guid']).required);
            assert.ok(run.responses['422']);
            assert.equal(run.requestBody.required, false, 'the run body may be empty');
            const retry = doc.paths[`/v1/accounts/{account}/${coll}/{blend}/runs/{run}/retry`].post;
            assert.ok(deref(deref(retry.responses['202']).headers.Location).required);
        }
    });
});
