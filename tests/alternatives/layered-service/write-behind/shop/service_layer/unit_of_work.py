import abc


class AbstractUnitOfWork(abc.ABC):
    products = None
    orders = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.rollback()

    @abc.abstractmethod
    def commit(self): ...

    @abc.abstractmethod
    def rollback(self): ...
