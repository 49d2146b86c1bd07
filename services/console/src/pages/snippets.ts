/** A ready lead post for a source's integration page, in curl, Python (requests) and JavaScript (fetch). */
const LEAD = {
  name: 'John Doe',
  phone: '+1 415 555 0100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42 },
};

export function snippets(origin: string, key: string): { curl: string; python: string; javascript: string } {
  const url = `${origin}/v1/leads`;
  const body = JSON.stringify(LEAD, null, 2);
  return {
    curl: `curl -X POST ${url} \\
  -H 'Authorization: Bearer ${key}' \\
  -H 'Content-Type: application/json' \\
  -H 'Idempotency-Key: order-1234' \\
  -d '${JSON.stringify(LEAD)}'`,
    python: `import requests

lead = ${body.replace(/\n/g, '\n')}

res = requests.post(
    "${url}",
    json=lead,
    headers={"Authorization": "Bearer ${key}", "Idempotency-Key": "order-1234"},
    timeout=10,
)
print(res.status_code, res.json())  # 202 {'id': ..., 'status': 'accepted'}`,
    javascript: `const res = await fetch('${url}', {
  method: 'POST',
  headers: {
    Authorization: 'Bearer ${key}',
    'Content-Type': 'application/json',
    'Idempotency-Key': 'order-1234',
  },
  body: JSON.stringify(${body.replace(/\n/g, '\n  ')}),
});
console.log(res.status, await res.json()); // 202 { id, status: 'accepted' }`,
  };
}
