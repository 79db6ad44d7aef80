"""The environment the service gets: the standard OpenTelemetry variables and the downstream's address."""

from __future__ import annotations

from collector import Collector
from downstream import Downstream

FAST_EXPORT_MS = 100  # grading stays fast; the shutdown stage raises it so that spans wait for SIGTERM


def telemetry_env(
    collector: Collector, downstream: Downstream, service_name: str, schedule_delay_ms: int = FAST_EXPORT_MS
) -> dict[str, str]:
    return {
        "DOWNSTREAM_URL": downstream.url,
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": str(schedule_delay_ms),
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
