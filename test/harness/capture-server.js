import { createServer } from 'node:http';
export async function startCaptureServer(initial) {
    let responder = initial;
    const requests = [];
    const server = createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            const type = String(req.headers['content-type'] ?? '');
            const captured = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw };
            if (type.includes('json') && raw) {
                try {
                    captured.json = JSON.parse(raw);
                }
                catch {
                    // leave json unset: the test will see the raw text
                }
            }
            if (type.includes('x-www-form-urlencoded'))
                captured.form = new URLSearchParams(raw);
            requests.push(captured);
            const out = responder(captured);
            if (out.hang)
                return;
            res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
            res.end(out.body ?? '');
        });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    return {
        url: `http://127.0.0.1:${port}`,
        requests,
        respond(next) {
            responder = next;
        },
        close: () => new Promise((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
//# sourceMappingURL=capture-server.js.map