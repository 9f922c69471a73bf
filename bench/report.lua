-- wrk reporter for bench/run.py: one line of JSON after the run, latencies in microseconds.
-- Usage: wrk -t2 -c8 -d10s -s bench/report.lua http://127.0.0.1:8000/path

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, "
      .. "\"connect_errors\": %d, \"read_errors\": %d, \"write_errors\": %d, "
      .. "\"status_errors\": %d, \"timeouts\": %d, "
      .. "\"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"mean_us\": %.1f}\n",
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean
  ))
end
