"""Fixtures for the tls-mtls stages: the run's certificates, the learner's service, and the grader's clients."""

from __future__ import annotations

import itertools
import random
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from labkit.checks import fail
from labkit.learners import LearnerProcess, RunInfo, learner_fixture
from pki import Leaf, Pki
from service_files import Names, ServerLeaves, ServiceFiles
from tlsclient import Session, client_context, handshake
from tlsready import MutualTlsReady

_folders = itertools.count(1)


@dataclass(frozen=True)
class Clients:
    """Valid client certificates, one per kind of caller."""

    reader: Leaf
    writer: Leaf
    operator: Leaf
    stranger: Leaf


@pytest.fixture(scope="session")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="session")
def names(run_info: RunInfo) -> Names:
    return Names.draw(random.Random(run_info.seed))


@pytest.fixture(scope="session")
def server_leaves(pki: Pki, names: Names) -> ServerLeaves:
    return ServerLeaves(main=pki.issue(names.service), alt=pki.issue(names.alt))


@pytest.fixture(scope="session")
def own_client(pki: Pki, names: Names) -> Leaf:
    """The learner's own client certificate (TLS_CLIENT_CERT)."""
    return pki.issue(names.own_client)


@pytest.fixture(scope="session")
def clients(pki: Pki, names: Names) -> Clients:
    return Clients(
        reader=pki.issue(names.reader),
        writer=pki.issue(names.writer),
        operator=pki.issue(names.operator),
        stranger=pki.issue(names.stranger),
    )


@pytest.fixture(scope="session")
def revoked_client(pki: Pki, names: Names) -> Leaf:
    """A writer's certificate listed in TLS_CRL from the start."""
    return pki.issue(names.writer)


NewFiles = Callable[[], ServiceFiles]


@pytest.fixture(scope="session")
def new_files(
    run_info: RunInfo, pki: Pki, names: Names, server_leaves: ServerLeaves, own_client: Leaf, revoked_client: Leaf
) -> NewFiles:
    """A factory of file folders for one program each, with ``revoked_client`` in the CRL."""

    def make() -> ServiceFiles:
        folder = run_info.run_dir / "tls" / f"service-{next(_folders)}"
        files = ServiceFiles(folder, pki, names, server_leaves, own_client)
        files.write_crl([revoked_client.serial])
        return files

    return make


@pytest.fixture(scope="session")
def shared_files(new_files: NewFiles) -> ServiceFiles:
    return new_files()


# One program for the stages that change none of its files, replaced if a check left it dead.
service = learner_fixture(scope="session", env=lambda shared_files: shared_files.env(), ready=MutualTlsReady())


@dataclass
class Own:
    """A program of a check's own, with files of its own (the stages that rotate or revoke)."""

    process: LearnerProcess
    files: ServiceFiles

    @property
    def port(self) -> int:
        assert self.process.port is not None, "a server program has a port"
        return self.process.port


@pytest.fixture
def own_service(start_learner: Callable[..., LearnerProcess], new_files: NewFiles) -> Own:
    files = new_files()
    return Own(start_learner(env=files.env(), ready=MutualTlsReady()), files)


Connect = Callable[..., Session]
SESSION_HINT = "present TLS_CERT followed by TLS_CHAIN, require a client certificate and trust TLS_CA"


@pytest.fixture
def connector(pki: Pki, names: Names) -> Iterator[Callable[[int], Connect]]:
    """``connector(port)(label, identity=..., server_name=...)``: verified sessions, all closed after the check."""
    sessions: list[Session] = []

    def for_port(port: int) -> Connect:
        def connect(
            label: str,
            identity: Leaf | None,
            *,
            server_name: str | None = None,
            version: ssl.TLSVersion | None = None,
            hint: str = SESSION_HINT,
        ) -> Session:
            name = server_name or names.service
            context = client_context(pki.root_pem, identity, version=version)
            shake = handshake(port, context, name, label)
            shake.expect_connected(label)
            if shake.session is None:
                fail(f"{label} could not open a TLS session with your service ({name})", got=shake.error, hint=hint)
            sessions.append(shake.session)
            return shake.session

        return connect

    yield for_port
    for session in sessions:
        session.close()


@pytest.fixture
def connect(service: LearnerProcess, connector: Callable[[int], Connect]) -> Connect:
    """Verified sessions with the shared service, closed after the check."""
    assert service.port is not None, "a server program has a port"
    return connector(service.port)
