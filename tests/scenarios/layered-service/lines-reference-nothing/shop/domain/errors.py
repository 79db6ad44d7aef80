"""What can go wrong in the shop's business, as exceptions the edges map to responses."""


class DomainError(Exception):
    """A request the business rules refuse."""


class InvalidInput(DomainError):
    pass


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
