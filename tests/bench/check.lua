-- wrk script: POSTs one GraphQL request and checks every response.
-- A response passes only with HTTP 200 and a body byte-for-byte equal to the expected body,
-- which the harness has already checked against the oracle's data.
-- Env: BENCH_REQUEST_FILE (request body), BENCH_EXPECTED_FILE (expected response body),
--      BENCH_SAMPLE_FILE (where each thread writes its first failing response).

local function slurp(path)
  local file = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
  local text = file:read("*a")
  file:close()
  return text
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_REQUEST_FILE"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

local expected = slurp(os.getenv("BENCH_EXPECTED_FILE"))
local sample_file = os.getenv("BENCH_SAMPLE_FILE")

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

bad_status = 0
mismatched = 0
local sampled = false

local function keep_sample(status, body)
  if sampled or not sample_file then return end
  sampled = true
  local file = io.open(sample_file .. "." .. tostring(id), "wb")
  if file then
    file:write("HTTP ", tostring(status), "\n\n", body or "")
    file:close()
  end
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
    keep_sample(status, body)
  elseif body ~= expected then
    mismatched = mismatched + 1
    keep_sample(status, body)
  end
end

function done(summary, latency, requests)
  local non_200, body_mismatch = 0, 0
  for _, thread in ipairs(threads) do
    non_200 = non_200 + thread:get("bad_status")
    body_mismatch = body_mismatch + thread:get("mismatched")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us":%d,"requests":%d,"non_200":%d,"body_mismatch":%d,' ..
    '"socket_errors":%d,"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d}}\n',
    summary.duration, summary.requests, non_200, body_mismatch,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
