// The same-run baseline: the least an Express 5 JSON endpoint costs on this
// machine (parse the body with express.json(), answer 202), in its own process.
'use strict';
const express = require('express');

const app = express();
app.disable('x-powered-by');
app.post('/v1/leads', express.json({ limit: '64kb' }), (req, res) => {
  res.status(202).json({ status: 'accepted', id: '00000000-0000-4000-8000-000000000000' });
});
const server = app.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('disconnect', () => process.exit(0));
