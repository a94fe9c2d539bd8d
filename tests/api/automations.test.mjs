// API.md section 7: automations in accounts (create, list, get, update, delete, persisted inputs, execution
// token), under both /blends and /automations, with tenant isolation.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError, createAccount, enc, uniq, GUID_RE, TS_RE } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, runAsync, waitRun } from './lib/automations.mjs';

const ctx = useServer();
let A;
let B;
let account;

const LIST_KEYS = [
    'guid', 'name', 'short_description', 'description', 'type', 'icon', 'icon2', 'icon3', 'status', 'state', 'run_mode',
    'schedule_start_at', 'schedule_stop_at', 'schedule_interval', 'schedule_timezone', 'created_at', 'updated_at',
    'last_run_at', 'has_setup', 'has_settings', 'setup_complete', 'isbundle', 'sub_automations', 'sub_blends',
    'template_guid', 'template_version', 'admin_url', 'admin_sso_url', 'execution_url',
];
const DETAIL_KEYS = [...LIST_KEYS, 'inputs', 'definition', 'execution_token'];
const INTERVALS = [-1, 0, 30, 60, 120, 300, 900, 1800, 3600, 14400, 43200, 86400, 172800, 604800, 1209600, 2592000];

const listForm = (detailed) => Object.fromEntries(LIST_KEYS.map((k) => [k, detailed[k]]));

describe('API.md §7 automations', () => {
    before(async () => {
        const s = ctx.server;
        A = s.client(await s.createPartner({ name: 'auto-a' }));
        B = s.client(await s.createPartner({ name: 'auto-b' }));
        account = await createAccount(A, { name: 'Automations', externalid: 'auto-ext' });
    });

    it('§7 POST creates an automation: 200 + the detailed object with inputs, definition, execution token', async () => {
        const definition = defs.hello();
        const res = await A.post(`/v1/accounts/${account.guid}/blends`, {
            json: { name: 'Say hello', definition, short_description: 'short', description: 'long', icon: 'i1', icon2: 'i2', icon3: 'i3' },
        });
        assert.equal(res.status, 200, res.text);
        const b = res.body;
        assert.deepEqual(Object.keys(b).sort(), [...DETAIL_KEYS].sort());
        assert.match(b.guid, GUID_RE);
        assert.equal(b.name, 'Say hello');
        assert.equal(b.short_description, 'short');
        assert.equal(b.description, 'long');
        assert.deepEqual([b.icon, b.icon2, b.icon3], ['i1', 'i2', 'i3']);
        assert.equal(b.type, 'widget');
        assert.equal(b.status, 'live');
        assert.equal(b.state, 'available');
        assert.equal(b.run_mode, 'manual');
        assert.equal(b.schedule_interval, -1);
        assert.equal(b.schedule_start_at, null);
        assert.equal(b.schedule_stop_at, null);
        assert.equal(b.schedule_timezone, 'UTC');
        assert.match(b.created_at, TS_RE);
        assert.equal(b.updated_at, b.created_at);
        assert.equal(b.last_run_at, null);
        assert.equal(b.has_setup, false);
        assert.equal(b.has_settings, false);
        assert.equal(b.isbundle, false);
        assert.deepEqual(b.sub_automations, []);
        assert.deepEqual(b.sub_blends, []);
        assert.equal(b.template_guid, null);
        assert.equal(b.template_version, null);
        assert.equal(b.admin_url, null);
        assert.equal(b.admin_sso_url, null);
        assert.equal(b.execution_url, `${ctx.server.baseUrl}/v1/widgets/${b.guid}`);
        assert.ok(b.execution_token.length >= 32);
        assert.deepEqual(b.definition, definition);
        assert.equal(b.inputs.length, 1);
        const [input] = b.inputs;
        assert.deepEqual(
            { ...input, id: undefined, created_at: undefined, updated_at: undefined },
            {
                id: undefined, block_id: 'in', label: 'start', prompt: 'Name', field_name: 'name', persisted_value: null,
                is_required: true, is_top_input: true, is_persisted: false, order: 1, created_at: undefined, updated_at: undefined,
            },
        );
        assert.ok(Number.isInteger(input.id));
        assert.match(input.created_at, TS_RE);

        // GET by guid, by name, and under /automations: the same detailed object.
        for (const target of [
            `/v1/accounts/${account.guid}/blends/${b.guid}`,
            `/v1/accounts/auto-ext/blends/${enc('Say hello')}`,
            `/v1/accounts/${account.guid}/automations/${b.guid}`,
            `/v1/accounts/auto-ext/automations/${enc('Say hello')}`,
        ]) {
            const got = await A.get(target);
            assert.equal(got.status, 200, target);
            assert.deepEqual(got.body, b, target);
        }
        // The list shows the list form (no inputs, definition or token).
        const list = await A.get(`/v1/accounts/${account.guid}/blends`);
        assert.equal(list.status, 200);
        const item = list.body.data.find((x) => x.guid === b.guid);
        assert.deepEqual(item, listForm(b));
        const list2 = await A.get(`/v1/accounts/${account.guid}/automations`);
        assert.deepEqual(list2.body.data, list.body.data);
    });

    it('§7 run_mode and has_setup/has_settings follow the definition; POST under /automations works too', async () => {
        const res = await A.post(`/v1/accounts/${account.guid}/automations`, {
            json: { name: uniq('triggered'), definition: { schema: 1, run_mode: 'triggered', flows: { start: [] } } },
        });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.run_mode, 'triggered');
        assert.deepEqual(res.body.inputs, []);
        const sched = await createAutomation(A, account, { schema: 1, run_mode: 'scheduled', flows: { start: [] } });
        assert.equal(sched.run_mode, 'scheduled');
    });

    it('§7 create with state and schedule fields reads them back (local times in the time zone)', async () => {
        const b = await createAutomation(A, account, defs.empty(), {
            state: 'disabled', schedule_interval: 3600, schedule_timezone: 'Europe/Brussels',
            schedule_start_at: '2030-06-01 10:00:00', schedule_stop_at: '2030-07-01 00:00:00',
        });
        assert.equal(b.state, 'disabled');
        assert.equal(b.schedule_interval, 3600);
        assert.equal(b.schedule_timezone, 'Europe/Brussels');
        assert.equal(b.schedule_start_at, '2030-06-01 10:00:00');
        assert.equal(b.schedule_stop_at, '2030-07-01 00:00:00');
    });

    it('§5 create: missing or mistyped fields are 400 validation_failed naming each field', async () => {
        const base = `/v1/accounts/${account.guid}/blends`;
        const cases = [
            [{ definition: defs.empty() }, 'name'],
            [{ name: '', definition: defs.empty() }, 'name'],
            [{ name: 5, definition: defs.empty() }, 'name'],
            [{ name: uniq('n') }, 'definition'],
            [{ name: uniq('n'), definition: 5 }, 'definition'],
            [{ name: uniq('n'), definition: 'text' }, 'definition'],
            [{ name: uniq('n'), definition: defs.empty(), schedule_interval: 31 }, 'schedule_interval'],
            [{ name: uniq('n'), definition: defs.empty(), schedule_timezone: 'Nowhere/Atlantis' }, 'schedule_timezone'],
            [{ name: uniq('n'), definition: defs.empty(), state: 'paused' }, 'state'],
        ];
        const before = (await A.get(base)).body.meta.total;
        for (const [json, field] of cases) {
            const res = await A.post(base, { json });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], `${JSON.stringify(json)} -> errors.${field}: ${res.text}`);
        }
        expectError(assert, await A.post(base, { body: '[1]', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_request');
        expectError(assert, await A.post(base, { body: '{"name":', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_request');
        expectError(assert, await A.post(base, { body: 'x', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
        assert.equal((await A.get(base)).body.meta.total, before, 'nothing was created');
    });

    it('AUTOMATIONS.md §1 an invalid definition is 400 invalid_definition with one fault per JSON path', async () => {
        const base = `/v1/accounts/${account.guid}/blends`;
        const cases = [
            [{ schema: 1, flows: { start: [{ id: 'x', type: 'nope' }] } }, ['flows.start[0].type']],
            [{ schema: 1, flows: {} }, ['flows.start']],
            [{ schema: 1 }, ['flows']],
            [{ schema: 1, flows: { start: [{ id: 'ok', type: 'output', value: 1 }, { id: 'bad', type: 'bogus' }] } }, ['flows.start[1].type']],
            [
                { schema: 1, flows: { start: [{ id: 'a', type: 'nope' }, { id: 'b', type: 'output', value: 1 }, { id: 'c', type: 'also_nope' }] } },
                ['flows.start[0].type', 'flows.start[2].type'],
            ],
        ];
        for (const [definition, paths] of cases) {
            const res = await A.post(base, { json: { name: uniq('bad'), definition } });
            expectError(assert, res, 400, 'invalid_definition');
            for (const p of paths) {
                assert.ok(Array.isArray(res.body.errors?.[p]) && res.body.errors[p].length > 0, `errors[${p}] in ${res.text}`);
            }
        }
    });

    it('§5 a duplicate name in the same account is 409 conflict; another account may use it', async () => {
        const name = uniq('dup');
        await createAutomation(A, account, defs.empty(), { name });
        expectError(assert, await A.post(`/v1/accounts/${account.guid}/blends`, { json: { name, definition: defs.empty() } }), 409, 'conflict');
        expectError(assert, await A.post(`/v1/accounts/${account.guid}/automations`, { json: { name, definition: defs.empty() } }), 409, 'conflict');
        const other = await createAccount(A);
        const again = await createAutomation(A, other, defs.empty(), { name });
        assert.equal(again.name, name);
    });

    it('§3 the list is paged, oldest first, with links under the path used', async () => {
        const acc = await createAccount(A);
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await createAutomation(A, acc, defs.empty(), { name: `p${i}` }));
        const p1 = await A.get(`/v1/accounts/${acc.guid}/automations`, { query: { per_page: 2 } });
        assert.equal(p1.status, 200);
        assert.deepEqual(p1.body.data.map((x) => x.name), ['p0', 'p1']);
        assert.equal(p1.body.meta.total, 5);
        assert.equal(p1.body.meta.last_page, 3);
        assert.equal(p1.body.links.next, `${ctx.server.baseUrl}/v1/accounts/${acc.guid}/automations?per_page=2&page=2`);
        const p3 = await A.get(`/v1/accounts/${acc.guid}/blends`, { query: { per_page: 2, page: 3 } });
        assert.deepEqual(p3.body.data.map((x) => x.name), ['p4']);
        expectError(assert, await A.get(`/v1/accounts/${acc.guid}/blends`, { query: { page: 0 } }), 400, 'validation_failed');
        expectError(assert, await A.get(`/v1/accounts/${acc.guid}/blends`, { query: { per_page: 101 } }), 400, 'validation_failed');
    });

    it('§7 PUT changes only the given fields and bumps updated_at', async () => {
        const b = await createAutomation(A, account, defs.hello());
        await ctx.server.advanceClock(5);
        const res = await A.put(blendPath(account, b), { json: { state: 'disabled' } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.state, 'disabled');
        assert.notEqual(res.body.updated_at, b.updated_at);
        assert.deepEqual({ ...res.body, state: b.state, updated_at: b.updated_at, inputs: null }, { ...b, inputs: null });
        // Empty PUT changes nothing that matters.
        const same = await A.put(blendPath(account, b, 'automations'), { json: {} });
        assert.equal(same.status, 200);
        assert.equal(same.body.state, 'disabled');
        assert.equal((await A.put(blendPath(account, b), { json: { state: 'available' } })).body.state, 'available');
    });

    it('§7 PUT name renames (then reachable by the new name); a taken name is 409 and changes nothing', async () => {
        const b = await createAutomation(A, account, defs.empty());
        const other = await createAutomation(A, account, defs.empty());
        const newName = uniq('renamed');
        const res = await A.put(blendPath(account, b), { json: { name: newName } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.name, newName);
        assert.equal((await A.get(`/v1/accounts/${account.guid}/blends/${enc(newName)}`)).body.guid, b.guid);
        expectError(assert, await A.get(`/v1/accounts/${account.guid}/blends/${enc(b.name)}`), 404, 'not_found');
        expectError(assert, await A.put(blendPath(account, b), { json: { name: other.name } }), 409, 'conflict');
        assert.equal((await A.get(blendPath(account, b))).body.name, newName);
    });

    it('§7 schedule_interval accepts exactly the whitelist; anything else is 400 validation_failed', async () => {
        const b = await createAutomation(A, account, defs.empty());
        for (const v of INTERVALS) {
            const res = await A.put(blendPath(account, b), { json: { schedule_interval: v } });
            assert.equal(res.status, 200, `${v}: ${res.text}`);
            assert.equal(res.body.schedule_interval, v);
        }
        for (const v of [-2, 1, 29, 31, 45, 3601, 2592001, 1.5, 'often', null, true]) {
            const res = await A.put(blendPath(account, b), { json: { schedule_interval: v } });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors.schedule_interval, `${JSON.stringify(v)}: ${res.text}`);
        }
        assert.equal((await A.get(blendPath(account, b))).body.schedule_interval, 2592000);
    });

    it('§7 schedule_start_at/stop_at: local "YYYY-MM-DD HH:MM:SS" in schedule_timezone, or null; bad values and zones are 400', async () => {
        const b = await createAutomation(A, account, defs.empty());
        let res = await A.put(blendPath(account, b), {
            json: { schedule_timezone: 'America/New_York', schedule_start_at: '2030-01-15 08:30:00', schedule_stop_at: '2030-02-01 23:59:59' },
        });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.schedule_timezone, 'America/New_York');
        assert.equal(res.body.schedule_start_at, '2030-01-15 08:30:00');
        assert.equal(res.body.schedule_stop_at, '2030-02-01 23:59:59');
        const got = await A.get(blendPath(account, b));
        assert.equal(got.body.schedule_start_at, '2030-01-15 08:30:00');
        for (const [field, value] of [
            ['schedule_start_at', '2030-13-01 00:00:00'],
            ['schedule_start_at', '2030-01-15T08:30:00Z'],
            ['schedule_start_at', '2030-01-15'],
            ['schedule_stop_at', 'tomorrow'],
            ['schedule_stop_at', 5],
            ['schedule_timezone', 'Mars/Olympus_Mons'],
            ['schedule_timezone', ''],
            ['state', 'paused'],
            ['state', true],
        ]) {
            res = await A.put(blendPath(account, b), { json: { [field]: value } });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], `${field}=${JSON.stringify(value)}: ${res.text}`);
        }
        res = await A.put(blendPath(account, b), { json: { schedule_start_at: null, schedule_stop_at: null } });
        assert.equal(res.status, 200);
        assert.equal(res.body.schedule_start_at, null);
        assert.equal(res.body.schedule_stop_at, null);
        assert.equal(res.body.schedule_timezone, 'America/New_York');
    });

    it('§7 PUT definition replaces it (inputs and run_mode follow); an invalid one is 400 invalid_definition and changes nothing', async () => {
        const b = await createAutomation(A, account, defs.empty());
        const bad = await A.put(blendPath(account, b), { json: { definition: { schema: 1, flows: { start: [{ id: 'a', type: 'bogus' }] } } } });
        expectError(assert, bad, 400, 'invalid_definition');
        assert.ok(bad.body.errors['flows.start[0].type'], bad.text);
        assert.deepEqual((await A.get(blendPath(account, b))).body.definition, defs.empty());
        const def2 = { ...defs.hello(), run_mode: 'triggered' };
        const res = await A.put(blendPath(account, b), { json: { definition: def2 } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.definition, def2);
        assert.equal(res.body.run_mode, 'triggered');
        assert.deepEqual(res.body.inputs.map((i) => i.field_name), ['name']);
        expectError(assert, await A.put(blendPath(account, b), { json: { definition: 'x' } }), 400, 'validation_failed');
    });

    it('§7 set-persisted-inputs: 204; the value shows as persisted_value and runs use it; run inputs override it', async () => {
        const definition = {
            schema: 1,
            inputs: [
                { block_id: 'in', flow: 'start', field_name: 'n', type: 'integer', required: true },
                { block_id: 'in', flow: 'start', field_name: 'p', type: 'string', required: true, persisted: true },
                { block_id: 'in', flow: 'start', field_name: 'q', type: 'object', persisted: true },
            ],
            flows: { start: [{ id: 'o', type: 'output', value: { n: '{$.inputs.n}', p: '{$.inputs.p}', q: '{$.inputs.q}' } }] },
        };
        const b = await createAutomation(A, account, definition);
        assert.deepEqual(b.inputs.map((i) => [i.field_name, i.is_persisted, i.is_required, i.order]), [
            ['n', false, true, 1], ['p', true, true, 2], ['q', true, false, 3],
        ]);
        // Without p, a run is refused.
        const refused = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { n: 1 } } });
        expectError(assert, refused, 400, 'validation_failed');
        assert.ok(refused.body.errors['inputs.p']);

        const set = await A.post(`${blendPath(account, b)}/set-persisted-inputs`, { json: { p: 'kept', q: { deep: [1, 2] } } });
        assert.equal(set.status, 204, set.text);
        const got = await A.get(blendPath(account, b, 'automations'));
        assert.deepEqual(got.body.inputs.map((i) => [i.field_name, i.persisted_value]), [['n', null], ['p', 'kept'], ['q', { deep: [1, 2] }]]);

        const run = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { n: 7 } } });
        assert.equal(run.status, 200, run.text);
        assert.deepEqual(run.body, { n: 7, p: 'kept', q: { deep: [1, 2] } });
        const over = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { n: 8, p: 'mine' } } });
        assert.deepEqual(over.body, { n: 8, p: 'mine', q: { deep: [1, 2] } });
        // The override is for that run only.
        assert.equal((await A.get(blendPath(account, b))).body.inputs[1].persisted_value, 'kept');

        // Faults: not a persisted input, unknown field, required set to null, wrong type, not an object.
        for (const [json, field] of [[{ n: 1 }, 'n'], [{ nope: 1 }, 'nope'], [{ p: null }, 'p'], [{ q: 'text' }, 'q']]) {
            const res = await A.post(`${blendPath(account, b)}/set-persisted-inputs`, { json });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], `${JSON.stringify(json)}: ${res.text}`);
        }
        expectError(assert, await A.post(`${blendPath(account, b)}/set-persisted-inputs`, { json: [1] }), 400, 'invalid_request');
        // A refused call changed nothing.
        assert.equal((await A.get(blendPath(account, b))).body.inputs[1].persisted_value, 'kept');
        // An optional one may be cleared.
        assert.equal((await A.post(`${blendPath(account, b)}/set-persisted-inputs`, { json: { q: null } })).status, 204);
        assert.equal((await A.get(blendPath(account, b))).body.inputs[2].persisted_value, null);
    });

    it('§7 execution-token rotates the token: 200 {execution_token, execution_url}; GET shows the new one', async () => {
        const b = await createAutomation(A, account, defs.empty());
        const r1 = await A.post(`${blendPath(account, b)}/execution-token`);
        assert.equal(r1.status, 200, r1.text);
        assert.notEqual(r1.body.execution_token, b.execution_token);
        assert.equal(r1.body.execution_url, `${ctx.server.baseUrl}/v1/widgets/${b.guid}`);
        const r2 = await A.post(`${blendPath(account, b, 'automations')}/execution-token`, { json: {} });
        assert.equal(r2.status, 200);
        assert.notEqual(r2.body.execution_token, r1.body.execution_token);
        assert.equal((await A.get(blendPath(account, b))).body.execution_token, r2.body.execution_token);
    });

    it('§7 last_run_at is null until a run ended, then the last run\'s starttime', async () => {
        const b = await createAutomation(A, account, defs.empty());
        assert.equal(b.last_run_at, null);
        const run = await runAsync(A, account, b);
        const ended = await waitRun(A, account, b, run.guid);
        const got = await A.get(blendPath(account, b));
        assert.equal(got.body.last_run_at, ended.starttime);
        const listed = (await A.get(`/v1/accounts/${account.guid}/blends`, { query: { per_page: 100 } })).body.data.find((x) => x.guid === b.guid);
        assert.equal(listed.last_run_at, ended.starttime);
    });

    it('§7 DELETE: 204, then 404 on the automation and its runs; the name is free again', async () => {
        const b = await createAutomation(A, account, defs.empty());
        const run = await runAsync(A, account, b);
        await waitRun(A, account, b, run.guid);
        const del = await A.delete(blendPath(account, b, 'automations'));
        assert.equal(del.status, 204, del.text);
        for (const target of [blendPath(account, b), `${blendPath(account, b)}/runs`, `${blendPath(account, b)}/runs/${run.guid}`, `${blendPath(account, b)}/lastrun`]) {
            expectError(assert, await A.get(target), 404, 'not_found');
        }
        expectError(assert, await A.delete(blendPath(account, b)), 404, 'not_found');
        await createAutomation(A, account, defs.empty(), { name: b.name });
    });

    it('§1/§2 unknown automation or account: 404 not_found on every route of both spellings', async () => {
        for (const coll of ['blends', 'automations']) {
            for (const [acc, blend] of [[account.guid, 'no-such-automation'], ['no-such-account', 'x']]) {
                const one = `/v1/accounts/${acc}/${coll}/${blend}`;
                const calls = [
                    ['GET', `/v1/accounts/${acc}/${coll}`, null, acc !== account.guid],
                    ['POST', `/v1/accounts/${acc}/${coll}`, { name: 'x', definition: defs.empty() }, acc !== account.guid],
                    ['GET', one], ['PUT', one, { state: 'disabled' }], ['DELETE', one],
                    ['POST', `${one}/set-persisted-inputs`, {}], ['POST', `${one}/execution-token`],
                    ['POST', `${one}/run`, {}], ['GET', `${one}/runs`], ['GET', `${one}/lastrun`],
                    ['GET', `${one}/runs/x`], ['GET', `${one}/runs/x/logs`], ['POST', `${one}/runs/x/stop`], ['POST', `${one}/runs/x/retry`],
                ];
                for (const [method, target, json, want404 = true] of calls) {
                    if (!want404) continue;
                    expectError(assert, await A.request(method, target, json ? { json } : {}), 404, 'not_found');
                }
            }
        }
    });

    it('§2 another partner gets 404 on every automation and run route, by guid and by name; nothing changes', async () => {
        const b = await createAutomation(A, account, defs.hello(), { name: 'A private automation' });
        const run = await runAsync(A, account, b, { name: 'secret' });
        const ended = await waitRun(A, account, b, run.guid);
        const before = (await A.get(blendPath(account, b))).body;
        await createAccount(B, { externalid: 'auto-ext' }); // B has its own account with the same externalid
        for (const coll of ['blends', 'automations']) {
            for (const acc of [account.guid, 'auto-ext']) {
                for (const blend of [b.guid, enc(b.name)]) {
                    const one = `/v1/accounts/${acc}/${coll}/${blend}`;
                    const calls = [
                        ['GET', one], ['PUT', one, { name: 'hijacked', state: 'disabled' }],
                        ['POST', `${one}/set-persisted-inputs`, {}], ['POST', `${one}/execution-token`],
                        ['POST', `${one}/run`, { inputs: { name: 'x' } }], ['GET', `${one}/runs`], ['GET', `${one}/lastrun`],
                        ['GET', `${one}/runs/${run.guid}`], ['GET', `${one}/runs/${run.guid}/logs`],
                        ['POST', `${one}/runs/${run.guid}/stop`], ['POST', `${one}/runs/${run.guid}/retry`], ['DELETE', one],
                    ];
                    for (const [method, target, json] of calls) {
                        const res = await B.request(method, target, json ? { json } : {});
                        expectError(assert, res, 404, 'not_found');
                        assert.ok(!res.text.includes('secret') && !res.text.includes('private'), `${method} ${target} leaks nothing`);
                    }
                }
            }
            // B's own account with A's externalid lists none of A's automations.
            const list = await B.get(`/v1/accounts/auto-ext/${coll}`);
            assert.equal(list.status, 200);
            assert.equal(list.body.meta.total, 0);
            expectError(assert, await B.get(`/v1/accounts/${account.guid}/${coll}`), 404, 'not_found');
        }
        // A's automation and run are untouched.
        assert.deepEqual((await A.get(blendPath(account, b))).body, before);
        assert.deepEqual((await A.get(`${blendPath(account, b)}/runs/${run.guid}`)).body, ended);
        assert.equal((await A.get(`${blendPath(account, b)}/runs`)).body.meta.total, 1);
    });
});
