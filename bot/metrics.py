"""Prometheus metrics, served at GET /metrics."""

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("aiwins_http_requests_total", "HTTP requests served", ["path", "status"])
HTTP_LATENCY = Histogram(
    "aiwins_http_request_duration_seconds", "Time to answer an HTTP request", ["path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
WINS_RECORDED = Counter("aiwins_wins_recorded_total", "AI wins recorded", ["source"])
SLACK_API_ERRORS = Counter("aiwins_slack_api_errors_total", "Slack Web API calls that failed", ["method", "error"])
JOBS = Counter("aiwins_jobs_total", "Background jobs finished", ["kind", "outcome"])
