-- Shared by the bench scripts (loaded with dofile): status codes counted per thread in the
-- `response` hook, and one line of figures at the end that bench/submit.py reads:
--   BENCH_RESULT {"requests": ..., "duration_us": ..., "p50_us": ..., "statuses": {"201": ...}, ...}
-- Each thread gets an id (0, 1, ...) for the scripts that number their requests.

local threads = {}
statuses = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
      '"max_us": %d, "statuses": {%s}, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, table.concat(parts, ", "),
    errors.connect, errors.read, errors.write, errors.timeout
  ))
end
