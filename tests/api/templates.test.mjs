// API.md section 7: templates (versions, bundles, groups, activation_url), install into accounts (Setup flow,
// schedule, template_prevent_duplicates), push of a new version, set-persisted-inputs on bundles with the
// Settings flow, and delete running the Delete flow; with tenant isolation.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError, createAccount, uniq, GUID_RE, TS_RE } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, runAsync, waitRun, allRuns, until, FINAL } from './lib/automations.mjs';

const ctx = useServer();
let A;
let B;
let account;
let accountB;

const LIST_KEYS = [
    'guid', 'name', 'description', 'short_description', 'icon', 'icon2', 'icon3', 'status', 'has_setup', 'has_settings',
    'isbundle', 'sub_blends', 'groups', 'activation_url', 'version', 'schedule_interval', 'schedule_timezone', 'created_at',
    'updated_at',
];
const DETAIL_KEYS = [...LIST_KEYS, 'inputs', 'definition'];

/** A definition with Setup, Settings and Delete flows; `region` (setup, persisted, required), `limit` (settings, persisted). */
function flowsDef({ runMode = 'manual', start = 'v1', failDelete = false, noDelete = false } = {}) {
    const flows = {
        start: [{ id: 'out', type: 'output', value: { version: start, region: '{$.inputs.region}', limit: '{$.inputs.limit}' } }],
        setup: [{ id: 'setup_out', type: 'output', value: { configured: '{$.inputs.region}' } }],
        settings: [{ id: 'settings_out', type: 'output', value: { limit: '{$.inputs.limit}' } }],
    };
    if (!noDelete) {
        flows.delete = failDelete
            ? [{ id: 'cleanup_failed', type: 'error', message: 'cannot unregister the webhook' }]
            : [{ id: 'cleanup', type: 'output', value: { removed: '{$.inputs.region}' } }];
    }
    return {
        schema: 1,
        run_mode: runMode,
        inputs: [
            { block_id: 'in', flow: 'setup', field_name: 'region', prompt: 'Region', type: 'string', required: true, persisted: true },
            { block_id: 'in', flow: 'settings', field_name: 'limit', prompt: 'Limit', type: 'integer', persisted: true },
        ],
        flows,
    };
}

async function createTemplate(client, fields) {
    const res = await client.post('/v1/templates', { json: { name: uniq('tpl'), ...fields } });
    if (res.status !== 200) throw new Error(`create template -> ${res.status}: ${res.text}`);
    return res.body;
}

async function install(client, tpl, body, query = {}) {
    const res = await client.post(`/v1/templates/${tpl.guid}/install`, { json: body, query });
    if (res.status !== 200) throw new Error(`install -> ${res.status}: ${res.text}`);
    return res.body;
}

/** The runs of an automation with the given context, once `count` of them are final. */
async function finalRunsOf(client, acc, blend, context, count = 1) {
    return until(async () => {
        const runs = (await allRuns(client, acc, blend)).filter((r) => r.context === context);
        return runs.length >= count && runs.every((r) => FINAL.has(r.status)) ? runs : null;
    }, { what: `${count} final ${context} run(s)` });
}

describe('API.md §7 templates', () => {
    before(async () => {
        const s = ctx.server;
        A = s.client(await s.createPartner({ name: 'tpl-a', rateLimit: 100000 }));
        B = s.client(await s.createPartner({ name: 'tpl-b', rateLimit: 100000 }));
        account = await createAccount(A, { name: 'Templates', externalid: 'tpl-ext' });
        accountB = await createAccount(B, { name: 'Other partner', externalid: 'tpl-ext-b' });
    });

    it('§7 POST /templates creates version 1: the detailed object with inputs, definition, groups and activation_url', async () => {
        const definition = flowsDef();
        const res = await A.post('/v1/templates', {
            json: {
                name: 'CRM sync', definition, short_description: 'short', description: 'long', icon: 'i1', status: 'hidden',
                groups: [{ group_id: 3, group_name: 'CRM' }], schedule_interval: 3600, schedule_timezone: 'Europe/Brussels',
            },
        });
        assert.equal(res.status, 200, res.text);
        const t = res.body;
        assert.deepEqual(Object.keys(t).sort(), [...DETAIL_KEYS].sort());
        assert.match(t.guid, GUID_RE);
        assert.equal(t.name, 'CRM sync');
        assert.equal(t.status, 'hidden');
        assert.equal(t.version, 1);
        assert.equal(t.has_setup, true);
        assert.equal(t.has_settings, true);
        assert.equal(t.isbundle, false);
        assert.deepEqual(t.sub_blends, []);
        assert.deepEqual(t.groups, [{ group_id: 3, group_name: 'CRM' }]);
        assert.equal(t.activation_url, `${ctx.server.baseUrl}/sso/templates/${t.guid}/install`);
        assert.equal(t.schedule_interval, 3600);
        assert.equal(t.schedule_timezone, 'Europe/Brussels');
        assert.match(t.created_at, TS_RE);
        assert.deepEqual(t.definition, definition);
        assert.deepEqual(t.inputs.map((i) => [i.field_name, i.label, i.is_required, i.is_persisted]), [
            ['region', 'setup', true, true], ['limit', 'settings', false, true],
        ]);

        const got = await A.get(`/v1/templates/${t.guid}`);
        assert.equal(got.status, 200, got.text);
        assert.deepEqual(got.body, t);

        const list = await A.get('/v1/templates', { query: { status: 'hidden' } });
        assert.equal(list.status, 200, list.text);
        const listed = list.body.data.find((x) => x.guid === t.guid);
        assert.deepEqual(Object.keys(listed).sort(), [...LIST_KEYS].sort());
        const live = await A.get('/v1/templates', { query: { status: 'live' } });
        assert.ok(!live.body.data.some((x) => x.guid === t.guid), 'the status filter leaves hidden templates out');
    });

    it('§7 a definition change makes a new version; older versions stay readable with ?version=N', async () => {
        const t = await createTemplate(A, { definition: flowsDef({ start: 'v1' }) });
        // Not a definition change: same version (a reordered but equal definition counts as equal).
        const renamed = await A.put(`/v1/templates/${t.guid}`, { json: { name: `${t.name}-renamed`, definition: flowsDef({ start: 'v1' }) } });
        assert.equal(renamed.status, 200, renamed.text);
        assert.equal(renamed.body.version, 1);
        assert.equal(renamed.body.name, `${t.name}-renamed`);
        const v2 = await A.put(`/v1/templates/${t.guid}`, { json: { definition: flowsDef({ start: 'v2' }) } });
        assert.equal(v2.status, 200, v2.text);
        assert.equal(v2.body.version, 2);
        assert.equal(v2.body.definition.flows.start[0].value.version, 'v2');
        const v3 = await A.put(`/v1/templates/${t.guid}`, { json: { definition: flowsDef({ start: 'v3' }) } });
        assert.equal(v3.body.version, 3);

        for (const [n, start] of [[1, 'v1'], [2, 'v2'], [3, 'v3']]) {
            const old = await A.get(`/v1/templates/${t.guid}`, { query: { version: n } });
            assert.equal(old.status, 200, old.text);
            assert.equal(old.body.version, n);
            assert.equal(old.body.definition.flows.start[0].value.version, start);
        }
        const latest = await A.get(`/v1/templates/${t.guid}`);
        assert.equal(latest.body.version, 3);
        expectError(assert, await A.get(`/v1/templates/${t.guid}`, { query: { version: 4 } }), 404, 'not_found');
        expectError(assert, await A.get(`/v1/templates/${t.guid}`, { query: { version: 'x' } }), 400, 'validation_failed');
        expectError(assert, await A.get(`/v1/templates/${t.guid}`, { query: { version: 0 } }), 400, 'validation_failed');
    });

    it('§5 template writes with bad fields are 400 naming each field; an invalid definition is invalid_definition', async () => {
        const cases = [
            [{ definition: defs.empty() }, 'name'],
            [{ name: '', definition: defs.empty() }, 'name'],
            [{ name: uniq('t') }, 'definition'],
            [{ name: uniq('t'), definition: 5 }, 'definition'],
            [{ name: uniq('t'), definition: defs.empty(), status: 'gone' }, 'status'],
            [{ name: uniq('t'), definition: defs.empty(), groups: [{ group_id: 'x', group_name: 'G' }] }, 'groups[0].group_id'],
            [{ name: uniq('t'), definition: defs.empty(), groups: 'crm' }, 'groups'],
            [{ name: uniq('t'), definition: defs.empty(), sub_blends: ['0190a0b0-0000-7000-8000-000000000000'] }, 'sub_blends'],
            [{ name: uniq('t'), isbundle: true, sub_blends: ['0190a0b0-0000-7000-8000-000000000000'] }, 'sub_blends'],
            [{ name: uniq('t'), isbundle: true, sub_blends: [5] }, 'sub_blends'],
            [{ name: uniq('t'), definition: defs.empty(), schedule_interval: 7 }, 'schedule_interval'],
            [{ name: uniq('t'), definition: defs.empty(), schedule_timezone: 'Mars/Olympus' }, 'schedule_timezone'],
        ];
        for (const [json, field] of cases) {
            const res = await A.post('/v1/templates', { json });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], `${JSON.stringify(json)}: errors.${field} in ${res.text}`);
        }
        const bad = await A.post('/v1/templates', { json: { name: uniq('t'), definition: { schema: 1, flows: { start: [{ id: 'x', type: 'nope' }] } } } });
        expectError(assert, bad, 400, 'invalid_definition');
        assert.ok(Object.keys(bad.body.errors).some((k) => k.startsWith('flows.start[0]')), bad.text);
        expectError(assert, await A.post('/v1/templates', { body: 'not json', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request');

        const t = await createTemplate(A, { definition: defs.empty() });
        expectError(assert, await A.put(`/v1/templates/${t.guid}`, { json: { definition: { schema: 1, flows: {} } } }), 400, 'invalid_definition');
        expectError(assert, await A.put(`/v1/templates/${t.guid}`, { json: { status: 'gone' } }), 400, 'validation_failed');
        const unchanged = await A.get(`/v1/templates/${t.guid}`);
        assert.equal(unchanged.body.version, 1, 'a refused update changes nothing');
        assert.equal(unchanged.body.status, 'live');
    });

    it('§7 install: 200 + the automation at the template version, inputs persisted, Setup flow run, setup_complete', async () => {
        const t = await createTemplate(A, { name: uniq('Installable'), definition: flowsDef(), icon: 'ico' });
        const b = await install(A, t, { account: account.externalid, inputs: { region: 'eu', limit: 5 } });
        assert.match(b.guid, GUID_RE);
        assert.equal(b.name, t.name);
        assert.equal(b.icon, 'ico');
        assert.equal(b.template_guid, t.guid);
        assert.equal(b.template_version, 1);
        assert.equal(b.has_setup, true);
        assert.equal(b.isbundle, false);
        assert.deepEqual(b.definition, t.definition);
        const persisted = Object.fromEntries(b.inputs.map((i) => [i.field_name, i.persisted_value]));
        assert.deepEqual(persisted, { region: 'eu', limit: 5 });

        const [setup] = await finalRunsOf(A, account, b, 'setup');
        assert.equal(setup.status, 'finished');
        const detail = await A.get(`${blendPath(account, b)}/runs/${setup.guid}`);
        assert.deepEqual(detail.body.output, { configured: 'eu' });
        const after = await A.get(blendPath(account, b));
        assert.equal(after.body.setup_complete, true);

        // The installed automation runs with its persisted inputs.
        const run = await runAsync(A, account, b);
        const done = await waitRun(A, account, b, run.guid);
        const out = await A.get(`${blendPath(account, b)}/runs/${done.guid}`);
        assert.deepEqual(out.body.output, { version: 'v1', region: 'eu', limit: 5 });
    });

    it('§7 install of a template without a Setup flow: setup_complete at once, no setup run', async () => {
        const t = await createTemplate(A, { definition: defs.hello() });
        const b = await install(A, t, { account: account.guid });
        assert.equal(b.has_setup, false);
        assert.equal(b.setup_complete, true);
        assert.deepEqual(await allRuns(A, account, b), []);
    });

    it('§7 install activates the template schedule: the installed automation fires on it', async () => {
        const t = await createTemplate(A, { definition: { ...defs.empty(), run_mode: 'scheduled' }, schedule_interval: 60 });
        const b = await install(A, t, { account: account.guid });
        assert.equal(b.run_mode, 'scheduled');
        assert.equal(b.schedule_interval, 60);
        assert.equal(b.state, 'available');
        await ctx.server.advanceClock(61);
        const runs = await until(async () => {
            const all = await allRuns(A, account, b);
            return all.some((r) => r.context === 'scheduled') ? all : null;
        }, { what: 'a scheduled run of the installed automation' });
        assert.ok(runs.length >= 1);
    });

    it('§7 template_prevent_duplicates: equal persisted inputs update that instance; otherwise a new one (with a free name)', async () => {
        const acc = await createAccount(A, { name: 'Dupes', externalid: uniq('dupes') });
        const t = await createTemplate(A, { name: uniq('Dup'), definition: flowsDef() });
        const first = await install(A, t, { account: acc.guid, inputs: { region: 'eu' } });
        const again = await install(A, t, { account: acc.guid, inputs: { region: 'eu' } }, { template_prevent_duplicates: 'true' });
        assert.equal(again.guid, first.guid, 'the equal instance is reused');
        const other = await install(A, t, { account: acc.guid, inputs: { region: 'us' } }, { template_prevent_duplicates: true });
        assert.notEqual(other.guid, first.guid, 'different persisted inputs: a new instance');
        assert.equal(other.name, `${t.name} (2)`);
        const plain = await install(A, t, { account: acc.guid, inputs: { region: 'eu' } });
        assert.notEqual(plain.guid, first.guid, 'without the flag: always a new instance');
        assert.equal(plain.name, `${t.name} (3)`);
        const list = await A.get(`/v1/accounts/${acc.guid}/blends`);
        assert.equal(list.body.meta.total, 3);

        // The reused instance moved to the latest version, and ran its Setup flow again.
        await A.put(`/v1/templates/${t.guid}`, { json: { definition: flowsDef({ start: 'v2' }) } });
        const updated = await install(A, t, { account: acc.guid, inputs: { region: 'eu' } }, { template_prevent_duplicates: 1 });
        assert.ok([first.guid, plain.guid].includes(updated.guid));
        assert.equal(updated.template_version, 2);
        await finalRunsOf(A, acc, updated, 'setup', updated.guid === first.guid ? 3 : 2);
        expectError(assert, await A.post(`/v1/templates/${t.guid}/install`, { json: { account: acc.guid }, query: { template_prevent_duplicates: 'maybe' } }), 400, 'validation_failed');
    });

    it('§5 install refusals: missing account, unknown input, missing required setup input, wrong type, expired account', async () => {
        const t = await createTemplate(A, { definition: flowsDef() });
        const path = `/v1/templates/${t.guid}/install`;
        const before = (await A.get(`/v1/accounts/${account.guid}/blends`)).body.meta.total;
        const cases = [
            [{ inputs: { region: 'eu' } }, 'account'],
            [{ account: 5, inputs: { region: 'eu' } }, 'account'],
            [{ account: account.guid, inputs: { region: 'eu', colour: 'red' } }, 'inputs.colour'],
            [{ account: account.guid, inputs: {} }, 'inputs.region'],
            [{ account: account.guid, inputs: { region: 'eu', limit: 'lots' } }, 'inputs.limit'],
            [{ account: account.guid, inputs: 'eu' }, 'inputs'],
            [{ account: account.guid, inputs: { region: 'eu' }, datasources: 'x' }, 'datasources'],
        ];
        for (const [json, field] of cases) {
            const res = await A.post(path, { json });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], `${JSON.stringify(json)}: errors.${field} in ${res.text}`);
        }
        expectError(assert, await A.post(path, { json: { account: 'no-such-account', inputs: { region: 'eu' } } }), 404, 'not_found');
        expectError(assert, await A.post('/v1/templates/0190a0b0-0000-7000-8000-000000000000/install', { json: { account: account.guid } }), 404, 'not_found');
        expectError(assert, await A.post(path, { body: '', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request');

        const expired = await createAccount(A, { name: 'Expired', externalid: uniq('expired') });
        assert.equal((await A.put(`/v1/accounts/${expired.guid}/expire`)).status, 200);
        expectError(assert, await A.post(path, { json: { account: expired.guid, inputs: { region: 'eu' } } }), 400, 'account_expired');
        assert.equal((await A.get(`/v1/accounts/${expired.guid}/blends`)).body.meta.total, 0);
        assert.equal((await A.get(`/v1/accounts/${account.guid}/blends`)).body.meta.total, before, 'nothing was created');
    });

    it('§7 bundles: install creates the bundle and one sub-automation per sub-template; set-persisted-inputs reaches every member', async () => {
        const acc = await createAccount(A, { name: 'Bundles', externalid: uniq('bundles') });
        const one = await createTemplate(A, { name: uniq('Part one'), definition: flowsDef({ start: 'one', noDelete: true }) });
        const two = await createTemplate(A, { name: uniq('Part two'), definition: flowsDef({ start: 'two', noDelete: true }) });
        const three = await createTemplate(A, { name: uniq('Part three'), definition: defs.hello() });
        const bundle = await createTemplate(A, { name: uniq('Suite'), isbundle: true, sub_blends: [one.guid, two.guid, three.guid] });
        assert.equal(bundle.isbundle, true);
        assert.deepEqual(bundle.sub_blends.map((s) => s.guid), [one.guid, two.guid, three.guid]);
        assert.equal(bundle.sub_blends[0].name, one.name);
        const nested = await A.post('/v1/templates', { json: { name: uniq('Nested'), isbundle: true, sub_blends: [bundle.guid] } });
        expectError(assert, nested, 400, 'validation_failed');

        const b = await install(A, bundle, { account: acc.guid, inputs: { region: 'eu', name: 'Ann' } });
        assert.equal(b.isbundle, true);
        assert.equal(b.template_guid, bundle.guid);
        assert.equal(b.sub_automations.length, 3);
        assert.deepEqual(b.sub_automations.map((s) => s.template_guid), [one.guid, two.guid, three.guid]);
        assert.deepEqual(b.sub_blends, b.sub_automations);
        const [m1, m2, m3] = b.sub_automations;
        await finalRunsOf(A, acc, m1, 'setup');
        await finalRunsOf(A, acc, m2, 'setup');
        const member = await A.get(blendPath(acc, m1));
        assert.equal(member.body.setup_complete, true);
        assert.equal(member.body.inputs.find((i) => i.field_name === 'region').persisted_value, 'eu');
        const list = await A.get(`/v1/accounts/${acc.guid}/blends`);
        assert.equal(list.body.meta.total, 4);
        assert.equal(list.body.data.find((x) => x.guid === b.guid).sub_automations.length, 3);

        const set = await A.post(`${blendPath(acc, b)}/set-persisted-inputs`, { json: { limit: 9 } });
        assert.equal(set.status, 204, set.text);
        for (const m of [m1, m2]) {
            const got = await A.get(blendPath(acc, m));
            assert.equal(got.body.inputs.find((i) => i.field_name === 'limit').persisted_value, 9);
            const [settings] = await finalRunsOf(A, acc, m, 'settings');
            const detail = await A.get(`${blendPath(acc, m)}/runs/${settings.guid}`);
            assert.deepEqual(detail.body.output, { limit: 9 });
        }
        assert.deepEqual((await A.get(blendPath(acc, m3))).body.inputs.map((i) => i.persisted_value), [null]);
        const unknown = await A.post(`${blendPath(acc, b)}/set-persisted-inputs`, { json: { colour: 'red' } });
        expectError(assert, unknown, 400, 'validation_failed');
        assert.ok(unknown.body.errors.colour);
        const wrongType = await A.post(`${blendPath(acc, b)}/set-persisted-inputs`, { json: { limit: 'lots' } });
        expectError(assert, wrongType, 400, 'validation_failed');
        assert.equal((await A.get(blendPath(acc, m1))).body.inputs.find((i) => i.field_name === 'limit').persisted_value, 9);

        // Deleting the bundle removes its members too (no Delete flows here).
        assert.equal((await A.delete(blendPath(acc, b, 'automations'))).status, 204);
        assert.equal((await A.get(`/v1/accounts/${acc.guid}/blends`)).body.meta.total, 0);
    });

    it('§7 push from template: the latest definition, keeping persisted inputs, schedule and state; 400 for another template', async () => {
        const t = await createTemplate(A, { name: uniq('Pushed'), definition: flowsDef() });
        const b = await install(A, t, { account: account.guid, inputs: { region: 'eu', limit: 2 } });
        const changed = await A.put(blendPath(account, b), {
            json: { state: 'disabled', schedule_interval: 3600, schedule_timezone: 'Europe/Brussels', schedule_start_at: '2031-01-01 09:00:00' },
        });
        assert.equal(changed.status, 200, changed.text);
        await A.put(`/v1/templates/${t.guid}`, { json: { definition: flowsDef({ start: 'v2' }) } });
        assert.equal((await A.get(blendPath(account, b))).body.template_version, 1, 'installed automations keep their version until pushed');

        for (const coll of ['blends', 'automations']) {
            const res = await A.put(`/v1/accounts/${account.externalid}/${coll}/${t.guid}/${encodeURIComponent(b.name)}`);
            assert.equal(res.status, 200, res.text);
            const p = res.body;
            assert.equal(p.guid, b.guid);
            assert.equal(p.template_version, 2);
            assert.equal(p.definition.flows.start[0].value.version, 'v2');
            assert.equal(p.state, 'disabled');
            assert.equal(p.schedule_interval, 3600);
            assert.equal(p.schedule_timezone, 'Europe/Brussels');
            assert.equal(p.schedule_start_at, '2031-01-01 09:00:00');
            assert.equal(p.execution_token, changed.body.execution_token);
            assert.deepEqual(Object.fromEntries(p.inputs.map((i) => [i.field_name, i.persisted_value])), { region: 'eu', limit: 2 });
        }
        const other = await createTemplate(A, { definition: defs.empty() });
        expectError(assert, await A.put(`/v1/accounts/${account.guid}/blends/${other.guid}/${b.guid}`), 400, 'invalid_request');
        const plain = await createAutomation(A, account, defs.empty());
        expectError(assert, await A.put(`/v1/accounts/${account.guid}/blends/${t.guid}/${plain.guid}`), 400, 'invalid_request');
        expectError(assert, await A.put(`/v1/accounts/${account.guid}/blends/0190a0b0-0000-7000-8000-000000000000/${b.guid}`), 404, 'not_found');
        expectError(assert, await A.put(`/v1/accounts/${account.guid}/blends/${t.guid}/no-such-blend`), 404, 'not_found');
    });

    it('§7 set-persisted-inputs on an automation with a Settings flow queues a Settings run with the new values', async () => {
        const t = await createTemplate(A, { definition: flowsDef() });
        const b = await install(A, t, { account: account.guid, inputs: { region: 'eu' } });
        const res = await A.post(`${blendPath(account, b)}/set-persisted-inputs`, { json: { limit: 42 } });
        assert.equal(res.status, 204, res.text);
        const [settings] = await finalRunsOf(A, account, b, 'settings');
        assert.equal(settings.status, 'finished');
        const detail = await A.get(`${blendPath(account, b)}/runs/${settings.guid}`);
        assert.equal(detail.body.inputs.limit, 42);
        assert.deepEqual(detail.body.output, { limit: 42 });
    });

    it('§7 DELETE runs the Delete flow, then the automation is gone; a failing Delete flow keeps it (422) unless ?force=true', async () => {
        const t = await createTemplate(A, { definition: flowsDef() });
        const b = await install(A, t, { account: account.guid, inputs: { region: 'eu' } });
        await finalRunsOf(A, account, b, 'setup');
        const del = await A.delete(blendPath(account, b));
        assert.equal(del.status, 204, del.text);
        expectError(assert, await A.get(blendPath(account, b)), 404, 'not_found');

        const failing = await createTemplate(A, { definition: flowsDef({ failDelete: true }) });
        const f = await install(A, failing, { account: account.guid, inputs: { region: 'eu' } });
        const refused = await A.delete(blendPath(account, f, 'automations'));
        expectError(assert, refused, 422, 'run_failed');
        assert.equal(refused.body.run.context, 'delete');
        assert.equal(refused.body.run.status, 'failed');
        assert.match(refused.body.error, /cannot unregister the webhook/);
        assert.equal((await A.get(blendPath(account, f))).status, 200, 'the automation is kept');
        expectError(assert, await A.delete(blendPath(account, f), { query: { force: 'nope' } }), 400, 'validation_failed');
        assert.equal((await A.delete(blendPath(account, f), { query: { force: 'true' } })).status, 204);
        expectError(assert, await A.get(blendPath(account, f)), 404, 'not_found');
    });

    it('§7 DELETE /templates/{template}: 204, the template is gone, installed automations stay', async () => {
        const t = await createTemplate(A, { definition: defs.hello() });
        const b = await install(A, t, { account: account.guid });
        assert.equal((await A.delete(`/v1/templates/${t.guid}`)).status, 204);
        expectError(assert, await A.get(`/v1/templates/${t.guid}`), 404, 'not_found');
        expectError(assert, await A.delete(`/v1/templates/${t.guid}`), 404, 'not_found');
        const kept = await A.get(blendPath(account, b));
        assert.equal(kept.status, 200);
        assert.equal(kept.body.template_guid, t.guid);
        expectError(assert, await A.put(`/v1/accounts/${account.guid}/blends/${t.guid}/${b.guid}`), 404, 'not_found');
    });

    it('§2 another partner\'s template or automation is a 404 on every template route; nothing changes', async () => {
        const t = await createTemplate(A, { name: uniq('Private'), definition: flowsDef() });
        const b = await install(A, t, { account: account.guid, inputs: { region: 'eu' } });
        const calls = [
            ['GET', `/v1/templates/${t.guid}`],
            ['PUT', `/v1/templates/${t.guid}`, { name: 'hijacked' }],
            ['DELETE', `/v1/templates/${t.guid}`],
            ['POST', `/v1/templates/${t.guid}/install`, { account: accountB.guid, inputs: { region: 'eu' } }],
            ['PUT', `/v1/accounts/${account.guid}/blends/${t.guid}/${b.guid}`],
        ];
        for (const [method, path, json] of calls) {
            expectError(assert, await B.request(method, path, json ? { json } : {}), 404, 'not_found');
        }
        // A cannot install into B's account either, nor use B's templates as bundle members.
        expectError(assert, await A.post(`/v1/templates/${t.guid}/install`, { json: { account: accountB.guid, inputs: { region: 'eu' } } }), 404, 'not_found');
        const theirs = await createTemplate(B, { definition: defs.empty() });
        expectError(assert, await A.post('/v1/templates', { json: { name: uniq('b'), isbundle: true, sub_blends: [theirs.guid] } }), 400, 'validation_failed');
        const listB = await B.get('/v1/templates');
        assert.deepEqual(listB.body.data.map((x) => x.guid), [theirs.guid]);
        const still = await A.get(`/v1/templates/${t.guid}`);
        assert.equal(still.body.name, t.name);
        assert.equal((await B.get(`/v1/accounts/${accountB.guid}/blends`)).body.meta.total, 0);
    });
});

describe('API.md §4 flow runs and the queue cap', () => {
    const qctx = useServer();

    it('§4 an install whose Setup run cannot be queued is 400 queue_full and creates nothing; so is a Delete run (automation kept)', async () => {
        const s = qctx.server;
        const P = s.client(await s.createPartner({ name: 'tpl-cap', queueCap: 1, concurrency: 1, rateLimit: 100000 }));
        const acc = await createAccount(P, { name: 'Full', externalid: 'full' });
        const t = await createTemplate(P, { definition: flowsDef() });
        const installed = await install(P, t, { account: acc.guid, inputs: { region: 'eu' } });
        await finalRunsOf(P, acc, installed, 'setup');
        const slow = await createAutomation(P, acc, defs.sleep(60));
        const running = await runAsync(P, acc, slow);
        await waitRun(P, acc, slow, running.guid, (r) => r.status === 'running');
        const queued = await runAsync(P, acc, slow);

        const res = await P.post(`/v1/templates/${t.guid}/install`, { json: { account: acc.guid, inputs: { region: 'us' } } });
        expectError(assert, res, 400, 'queue_full');
        assert.equal((await P.get(`/v1/accounts/${acc.guid}/blends`)).body.meta.total, 2, 'nothing was created');
        expectError(assert, await P.delete(blendPath(acc, installed)), 400, 'queue_full');
        assert.equal((await P.get(blendPath(acc, installed))).status, 200, 'the automation is kept');
        expectError(assert, await P.post(`${blendPath(acc, installed)}/set-persisted-inputs`, { json: { limit: 3 } }), 400, 'queue_full');
        const kept = await P.get(blendPath(acc, installed));
        assert.equal(kept.body.inputs.find((i) => i.field_name === 'limit').persisted_value, null, 'a refused settings call changes nothing');

        for (const r of [queued, running]) await P.post(`${blendPath(acc, slow)}/runs/${r.guid}/stop`);
        await waitRun(P, acc, slow, running.guid);
    });
});
