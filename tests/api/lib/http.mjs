// HTTP clients for the tests: a request helper over node:http and a raw-socket reader.
import http from 'node:http';
import net from 'node:net';
import { validateResponse } from './openapi.mjs';

function lowerHeaders(raw) {
    const out = {};
    for (const [k, v] of Object.entries(raw)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    return out;
}

/**
 * Sends one request and validates the response against the OpenAPI document.
 * opts: {partner, headers, json, body (string|Buffer), query (object or URLSearchParams), agent, validate=true}
 * Returns {status, headers, text, body}; body is parsed JSON or null.
 */
export function request(port, method, target, opts = {}) {
    const headers = { ...(opts.headers ?? {}) };
    if (opts.partner) {
        headers['X-App-Id'] ??= String(opts.partner.app_id);
        headers['X-Api-Key'] ??= opts.partner.api_key;
    }
    let payload = opts.body;
    if (opts.json !== undefined) {
        payload = JSON.stringify(opts.json);
        headers['Content-Type'] ??= 'application/json';
    }
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    let fullPath = target;
    if (opts.query) {
        const qs = new URLSearchParams(opts.query).toString();
        if (qs) fullPath += (target.includes('?') ? '&' : '?') + qs;
    }
    const pathname = fullPath.split('?')[0];
    return new Promise((resolve, reject) => {
        let responded = false;
        const req = http.request(
            { host: '127.0.0.1', port, method, path: fullPath, headers, agent: opts.agent ?? false },
            (res) => {
                responded = true;
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('error', reject);
                res.on('end', () => {
                    const out = {
                        status: res.statusCode,
                        headers: lowerHeaders(res.headers),
                        text: Buffer.concat(chunks).toString('utf8'),
                        body: null,
                    };
                    try {
                        if (opts.validate === false) {
                            if (out.headers['content-type']?.startsWith('application/json') && out.text) {
                                out.body = JSON.parse(out.text);
                            }
                        } else {
                            out.body = validateResponse(method, pathname, out);
                        }
                    } catch (e) {
                        reject(e);
                        return;
                    }
                    resolve(out);
                });
            },
        );
        req.setTimeout(opts.timeoutMs ?? 30000, () => req.destroy(new Error(`timeout: ${method} ${fullPath}`)));
        req.on('error', (e) => {
            // The server may answer (e.g. 413) and close before it has read the whole body.
            if (!responded) reject(e);
        });
        if (payload !== undefined) req.write(payload);
        req.end();
    });
}

/** Parses as many complete HTTP/1.1 responses as `buf` holds. Returns {responses, rest}. */
export function parseResponses(buf, { headOnlyMethods = [] } = {}) {
    const responses = [];
    let offset = 0;
    for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n', offset);
        if (headEnd < 0) break;
        const head = buf.subarray(offset, headEnd).toString('latin1').split('\r\n');
        const [, statusStr] = head[0].split(' ');
        const headers = {};
        for (const line of head.slice(1)) {
            const i = line.indexOf(':');
            const k = line.slice(0, i).trim().toLowerCase();
            const v = line.slice(i + 1).trim();
            headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
        }
        let pos = headEnd + 4;
        let body;
        const status = Number(statusStr);
        const noBody = status === 204 || status === 304 || headOnlyMethods[responses.length];
        if (noBody) {
            body = Buffer.alloc(0);
        } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
            const parts = [];
            let complete = false;
            for (;;) {
                const lineEnd = buf.indexOf('\r\n', pos);
                if (lineEnd < 0) break;
                const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
                if (Number.isNaN(size) || buf.length < lineEnd + 2 + size + 2) break;
                if (size === 0) {
                    // No trailers are expected: "0\r\n\r\n".
                    pos = lineEnd + 4;
                    complete = true;
                    break;
                }
                parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
                pos = lineEnd + 2 + size + 2;
            }
            if (!complete) break;
            body = Buffer.concat(parts);
        } else {
            const len = Number(headers['content-length'] ?? 0);
            if (buf.length < pos + len) break;
            body = buf.subarray(pos, pos + len);
            pos += len;
        }
        responses.push({ status, headers, text: body.toString('utf8') });
        offset = pos;
    }
    return { responses, rest: buf.subarray(offset) };
}

/**
 * A raw TCP connection to the server. `send` writes bytes; `readResponses(n)` resolves with the next
 * n parsed responses; `waitClosed(ms)` resolves true when the server closes the connection.
 */
export class RawConnection {
    static open(port) {
        return new Promise((resolve, reject) => {
            const sock = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawConnection(sock)));
            sock.once('error', reject);
        });
    }

    constructor(sock) {
        this.sock = sock;
        this.buf = Buffer.alloc(0);
        this.closed = false;
        this.waiters = [];
        sock.on('data', (d) => {
            this.buf = Buffer.concat([this.buf, d]);
            this.#wake();
        });
        const onClose = () => {
            this.closed = true;
            this.#wake();
        };
        sock.on('end', onClose);
        sock.on('close', onClose);
        sock.on('error', onClose);
    }

    #wake() {
        for (const w of this.waiters.splice(0)) w();
    }

    #changed() {
        return new Promise((r) => this.waiters.push(r));
    }

    send(data) {
        this.sock.write(data);
    }

    async readResponses(n, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const { responses } = parseResponses(this.buf);
            if (responses.length >= n) {
                // Every complete response received so far (at least n).
                this.buf = parseResponses(this.buf).rest;
                return responses;
            }
            if (this.closed) throw new Error(`connection closed after ${responses.length} of ${n} responses`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`timed out waiting for ${n} responses (have ${responses.length})`);
            await Promise.race([this.#changed(), new Promise((r) => setTimeout(r, Math.min(left, 250)))]);
        }
    }

    async waitClosed(timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        while (!this.closed) {
            const left = deadline - Date.now();
            if (left <= 0) return false;
            await Promise.race([this.#changed(), new Promise((r) => setTimeout(r, Math.min(left, 250)))]);
        }
        return true;
    }

    destroy() {
        this.sock.destroy();
    }
}

/** A GET request as raw bytes. */
export function rawGet(path, headers = {}) {
    const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    return lines.join('\r\n') + '\r\n\r\n';
}
