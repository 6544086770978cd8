-- Example data for Sluice's PostgreSQL walkthrough (examples/postgres/README.md).
--
-- Three tables an application might already have, filled with generate_series so that every
-- dashboard range up to 30 days shows something: shop orders (region, product, amount), sensor
-- readings from five devices (one a minute, with gaps), and deploy events (some with an end time).
-- Times end at the next full hour and reach back from there, so "last 6 hours" is always full.
-- Values are deterministic functions of the row number (no random()), so tests can check them.
--
--   psql "$SLUICE_PG_DSN" -v ON_ERROR_STOP=1 -f examples/postgres/schema.sql
--
-- Re-running it replaces the tables.

BEGIN;

DROP TABLE IF EXISTS orders, readings, deploys;

-- The anchor: the next full hour (UTC), so the data covers "now".
CREATE TEMP TABLE anchor AS SELECT date_trunc('hour', now()) + interval '1 hour' AS t;

-- Orders: one every 2 minutes per region over 30 days (86,400 rows).
CREATE TABLE orders (
  id         bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL,
  region     text NOT NULL,
  product    text NOT NULL,
  amount     numeric(10, 2) NOT NULL
);
INSERT INTO orders (created_at, region, product, amount)
SELECT a.t - i * interval '2 minutes' - r.n * interval '17 seconds',
       r.region,
       (ARRAY['widget', 'gadget', 'gizmo'])[1 + (i + r.n) % 3],
       round((10 + r.n * 15 + 40 * abs(sin(i * 0.05 + r.n)) + (i % 7))::numeric, 2)
FROM anchor a,
     generate_series(0, 30 * 24 * 30 - 1) AS i,
     (VALUES (0, 'eu'), (1, 'us'), (2, 'apac'), (3, 'latam')) AS r(n, region);
CREATE INDEX orders_created_at ON orders (created_at);

-- Sensor readings: five devices, one reading a minute for 7 days (50,400 rows). The time is kept
-- three ways, as applications do: a timestamptz, epoch seconds and epoch milliseconds. Every 97th
-- humidity is NULL (a sensor that did not answer).
CREATE TABLE readings (
  ts       timestamptz NOT NULL,
  ts_s     bigint NOT NULL,
  ts_ms    bigint NOT NULL,
  device   text NOT NULL,
  celsius  double precision NOT NULL,
  humidity double precision
);
INSERT INTO readings (ts, ts_s, ts_ms, device, celsius, humidity)
SELECT ts, extract(epoch FROM ts)::bigint, (extract(epoch FROM ts) * 1000)::bigint, device,
       round((18 + d * 1.5 + 4 * sin(extract(epoch FROM ts) / 86400 * 2 * pi()) +
              0.5 * sin(i * 0.7 + d))::numeric, 2)::double precision,
       CASE WHEN (i + d) % 97 = 0 THEN NULL
            ELSE round((45 + 10 * cos(i * 0.01 + d))::numeric, 1)::double precision END
FROM anchor a,
     generate_series(0, 7 * 24 * 60 - 1) AS i,
     generate_series(1, 5) AS d,
     LATERAL (SELECT a.t - i * interval '1 minute' AS ts, 'dev-' || d AS device) AS x;
CREATE INDEX readings_device_ts ON readings (device, ts);
CREATE INDEX readings_ts ON readings (ts);

-- Deploy events: every 6 hours a service ships a version; every third deploy is a window with an
-- end time (a canary rollout).
CREATE TABLE deploys (
  id          serial PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  service     text NOT NULL,
  version     text NOT NULL,
  author      text NOT NULL,
  tags        text[] NOT NULL
);
INSERT INTO deploys (started_at, finished_at, service, version, author, tags)
SELECT a.t - i * interval '6 hours' + interval '13 minutes',
       CASE WHEN i % 3 = 0 THEN a.t - i * interval '6 hours' + interval '43 minutes' END,
       s.service,
       format('v1.%s.0', 120 - i),
       (ARRAY['ana', 'bo', 'chen'])[1 + i % 3],
       ARRAY['deploy', s.service] || CASE WHEN i % 3 = 0 THEN ARRAY['canary'] ELSE '{}' END
FROM anchor a,
     generate_series(0, 4 * 30 - 1) AS i,
     LATERAL (SELECT (ARRAY['api', 'web', 'worker'])[1 + i % 3] AS service) AS s;
CREATE INDEX deploys_started_at ON deploys (started_at);

COMMIT;

ANALYZE orders;
ANALYZE readings;
ANALYZE deploys;
