"""What can go wrong in the shop's business, as exceptions the edges map to responses."""

from http import HTTPStatus


class DomainError(Exception):
    """A request the business rules refuse."""


class InvalidInput(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class UnknownProduct(DomainError):
    pass


class UnknownOrder(DomainError):
    pass


class DuplicateProduct(DomainError):
    pass


class OutOfStock(DomainError):
    pass


class AlreadyCancelled(DomainError):
    pass
