"""Stage 1: the server speaks gRPC on $PORT and its standard health service reports SERVING."""

import grpc
from grpc_health.v1 import health_pb2

from grpcwire import RpcClient
from inventory import SERVICE
from labkit.checks import fail

SERVING = health_pb2.HealthCheckResponse.SERVING


def expect_serving(health: RpcClient, service: str) -> None:
    reply = health.call(
        "Check",
        health_pb2.HealthCheckRequest(service=service),
        hint="register grpc_health.v1's HealthServicer on your server (no token needed for it)",
    )
    if reply.status != SERVING:
        names = health_pb2.HealthCheckResponse.ServingStatus
        status = names.Name(reply.status) if reply.status in names.values() else f"status number {reply.status}"
        fail(
            f"the health service reports {status} for service {service!r}",
            expected="SERVING",
            got=status,
            hint="once your server is ready, set SERVING for both '' and 'labkit.inventory.v1.Inventory'",
        )


def check_server_as_a_whole_is_serving(health):
    """grpc.health.v1 Check for the whole server answers SERVING"""
    expect_serving(health, "")


def check_inventory_service_is_serving(health):
    """grpc.health.v1 Check for labkit.inventory.v1.Inventory answers SERVING"""
    expect_serving(health, SERVICE)


def check_unknown_service_is_not_found(health):
    """A health check for a service that does not exist is NOT_FOUND"""
    health.expect_status(
        "Check",
        health_pb2.HealthCheckRequest(service="labkit.nothing.v1.Missing"),
        grpc.StatusCode.NOT_FOUND,
        hint="set a status only for '' and the services your server really has",
        require_details=False,  # the standard servicer answers NOT_FOUND without a message
    )
