INSERT INTO sources (id, name, api_key_hash, api_key_prefix, postback_url, updated_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'mb', repeat('a', 64), 'mb', 'http://127.0.0.1:1/pb', now());
INSERT INTO partners (id, name, url, updated_at)
VALUES ('00000000-0000-7000-8000-000000000002', 'mbp', 'http://127.0.0.1:1/p', now());
