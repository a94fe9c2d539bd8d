// Starts the real `weft` binary on port 0 with a fresh data folder, and drives its CLI.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { after, before } from 'node:test';
import { WEFT_BIN } from './paths.mjs';
import { request } from './http.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function makeDataDir() {
    return mkdtempSync(path.join(os.tmpdir(), 'weft-api-'));
}

/** Runs `weft ARGS...`; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
export function runWeft(args, { timeoutMs = 30000, env } = {}) {
    return new Promise((resolve) => {
        execFile(WEFT_BIN, args, { timeout: timeoutMs, env: env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            let code = 0;
            if (err) code = typeof err.code === 'number' ? err.code : (err.signal ?? -1);
            resolve({ code, stdout, stderr });
        });
    });
}

async function runWeftOk(args) {
    const r = await runWeft(args);
    if (r.code !== 0) throw new Error(`weft ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
}

function parseJsonOutput(r, what) {
    try {
        return JSON.parse(r.stdout);
    } catch {
        throw new Error(`${what}: stdout is not JSON: ${r.stdout}\nstderr: ${r.stderr}`);
    }
}

export class WeftServer {
    constructor(dataDir, child, port, logPath) {
        this.dataDir = dataDir;
        this.child = child;
        this.port = port;
        this.logPath = logPath;
        this.baseUrl = `http://127.0.0.1:${port}`;
        this.exit = null;
        this.exited = new Promise((resolve) => {
            child.on('exit', (code, signal) => {
                this.exit = { code, signal };
                resolve(this.exit);
            });
        });
        this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
        this.partnerSeq = 0;
    }

    static async start({ args = [], dataDir = makeDataDir(), testClock = true } = {}) {
        const portFile = path.join(dataDir, 'port');
        const logPath = path.join(dataDir, 'server.log');
        rmSync(portFile, { force: true }); // a restart on the same folder must not read the old port
        const logFd = openSync(logPath, 'a');
        const argv = ['serve', '--data', dataDir, '--listen', '127.0.0.1:0', '--port-file', portFile];
        if (testClock) argv.push('--test-clock');
        argv.push(...args);
        const child = spawn(WEFT_BIN, argv, { stdio: ['ignore', logFd, logFd] });
        closeSync(logFd);
        let spawnError = null;
        child.on('error', (e) => {
            spawnError = e;
        });
        let exited = null;
        child.on('exit', (code, signal) => {
            exited = { code, signal };
        });
        const deadline = Date.now() + 20000;
        for (;;) {
            if (spawnError) throw new Error(`cannot start ${WEFT_BIN}: ${spawnError.message}`);
            if (exited) throw new Error(`weft serve exited early (${JSON.stringify(exited)}):\n${tail(logPath)}`);
            if (existsSync(portFile)) {
                const text = readFileSync(portFile, 'utf8').trim();
                if (/^\d+$/.test(text) && Number(text) > 0) return new WeftServer(dataDir, child, Number(text), logPath);
            }
            if (Date.now() > deadline) {
                child.kill('SIGKILL');
                throw new Error(`no port file after 20 s:\n${tail(logPath)}`);
            }
            await sleep(25);
        }
    }

    /** SIGTERM, wait for exit; returns {code, signal}. */
    async stop({ timeoutMs = 20000 } = {}) {
        this.agent.destroy();
        if (!this.exit) {
            this.child.kill('SIGTERM');
            let timer;
            const timeout = new Promise((resolve) => {
                timer = setTimeout(() => resolve(null), timeoutMs);
            });
            const r = await Promise.race([this.exited, timeout]);
            clearTimeout(timer);
            if (!r) {
                this.child.kill('SIGKILL');
                await this.exited;
                throw new Error(`weft serve did not exit within ${timeoutMs} ms of SIGTERM`);
            }
        }
        return this.exit;
    }

    /** SIGKILL (a crash): no graceful shutdown. Resolves with {code, signal}. */
    async kill() {
        this.agent.destroy();
        if (!this.exit) this.child.kill('SIGKILL');
        return this.exited;
    }

    log() {
        return tail(this.logPath, 60);
    }

    cleanup() {
        if (!process.env.WEFT_KEEP_DATA) rmSync(this.dataDir, { recursive: true, force: true });
    }

    // ---- HTTP ----

    /** request(method, path, opts): see http.mjs; uses a keep-alive agent unless opts.agent is given. */
    request(method, target, opts = {}) {
        return request(this.port, method, target, { agent: this.agent, ...opts });
    }

    /** A client bound to one partner's credentials. */
    client(partner) {
        const r = (method) => (target, opts = {}) => this.request(method, target, { partner, ...opts });
        return { get: r('GET'), post: r('POST'), put: r('PUT'), delete: r('DELETE'), request: (m, t, o = {}) => this.request(m, t, { partner, ...o }) };
    }

    /** Moves the server's clock forward (needs --test-clock). Returns the total offset. */
    async advanceClock(seconds) {
        const res = await this.request('POST', '/_test/clock', { json: { advance_seconds: seconds } });
        if (res.status !== 200) throw new Error(`POST /_test/clock -> ${res.status}: ${res.text}`);
        return res.body.offset_seconds;
    }

    // ---- CLI (works while the server runs) ----

    async createPartner({ name, rateLimit, queueCap, concurrency } = {}) {
        const args = ['partner', 'create', '--data', this.dataDir, '--name', name ?? `partner-${++this.partnerSeq}`, '--json'];
        if (rateLimit !== undefined) args.push('--rate-limit', String(rateLimit));
        if (queueCap !== undefined) args.push('--queue-cap', String(queueCap));
        if (concurrency !== undefined) args.push('--concurrency', String(concurrency));
        const p = parseJsonOutput(await runWeftOk(args), 'partner create');
        if (!Number.isInteger(p.app_id) || typeof p.api_key !== 'string' || typeof p.guid !== 'string') {
            throw new Error(`partner create printed ${JSON.stringify(p)}`);
        }
        return p;
    }

    async updatePartner(appId, { rateLimit }) {
        await runWeftOk(['partner', 'update', '--data', this.dataDir, '--app-id', String(appId), '--rate-limit', String(rateLimit)]);
    }

    async addKey(appId) {
        return parseJsonOutput(
            await runWeftOk(['partner', 'key-add', '--data', this.dataDir, '--app-id', String(appId), '--json']),
            'partner key-add',
        );
    }

    async revokeKey(appId, keyId) {
        await runWeftOk(['partner', 'key-revoke', '--data', this.dataDir, '--app-id', String(appId), '--key-id', String(keyId)]);
    }

    async listPartners() {
        const r = await runWeftOk(['partner', 'list', '--data', this.dataDir, '--json']);
        return { parsed: parseJsonOutput(r, 'partner list'), stdout: r.stdout };
    }
}

function tail(file, lines = 40) {
    try {
        return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
        return '(no log)';
    }
}

/**
 * Registers before/after hooks that run one server for the calling test file. The returned object's
 * `server` is set once the `before` hook ran. The `after` hook asserts that SIGTERM makes it exit 0.
 */
export function useServer(options = {}) {
    const holder = { server: null };
    before(async () => {
        holder.server = await WeftServer.start(options);
    });
    after(async () => {
        const s = holder.server;
        if (!s) return;
        const exit = await s.stop();
        if (exit.code !== 0) {
            throw new Error(`weft serve exited with ${JSON.stringify(exit)} after SIGTERM (want 0):\n${s.log()}`);
        }
        s.cleanup();
    });
    return holder;
}
