-- Shared by the soak scripts (bench/soak.py): pacing to a rate with wrk's delay(), status counts and a
-- machine-readable summary. Debian's wrk has no -R, so each thread hands out send times ("slots") at
-- rate/threads per second; a connection that is ready waits for the next free slot.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_usec; } soak_timeval;
int gettimeofday(soak_timeval *tv, void *tz);
]])
local timeval = ffi.new("soak_timeval")

function soak_now_ms()
  ffi.C.gettimeofday(timeval, nil)
  return tonumber(timeval.tv_sec) * 1000 + tonumber(timeval.tv_usec) / 1000
end

-- Per thread (each wrk thread runs its own copy of the script).
statuses = {}
local interval_ms, next_slot = 1000, nil

-- args: rate (requests/s over all threads), threads, then the script's own.
function soak_init(args, id)
  local rate, threads = tonumber(args[1]), tonumber(args[2])
  interval_ms = 1000 * threads / rate
  math.randomseed(os.time() * 1000 + id * 7919)
  -- Stagger the threads' slots so that together they send evenly.
  next_slot = soak_now_ms() + interval_ms * (id - 1) / threads
end

function delay()
  local now = soak_now_ms()
  -- Behind by more than a second (a stall): start again from now rather than send a burst.
  if next_slot < now - 1000 then
    next_slot = now
  end
  local wait = next_slot - now
  next_slot = next_slot + interval_ms
  if wait < 0 then
    return 0
  end
  return math.floor(wait)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

-- One line for bench/soak.py: statuses, socket errors and 1,000 latency quantiles (µs), so that runs can be
-- merged into exact-enough percentiles over the whole soak.
function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local quantiles = {}
  for i = 0, 999 do
    table.insert(quantiles, tostring(latency:percentile((i + 0.5) / 10)))
  end
  local errors = summary.errors
  io.write(string.format(
    'SOAK {"requests": %d, "statuses": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d},'
      .. ' "max_us": %d, "quantiles_us": [%s]}\n',
    summary.requests, table.concat(parts, ", "), errors.connect, errors.read, errors.write, errors.timeout,
    latency.max, table.concat(quantiles, ",")
  ))
end
