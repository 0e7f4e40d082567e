"""Domain errors of the store. Callers map them to what a customer or operator reads, in one place."""


class StoreError(Exception):
    """Base of every store error."""


class InvalidInput(StoreError):
    """A value is malformed (empty, too long, unknown kind); the message names it."""


class CustomerNotFound(StoreError):
    """No such customer (or it was erased)."""


class IdentityAlreadyLinked(StoreError):
    """This channel user is already linked to another customer."""


class OrderNotFound(StoreError):
    """No such order for this customer. Also raised for other customers' orders, to hide that they exist."""


class OrderLineNotFound(StoreError):
    """The item is not part of the order."""


class NotEligibleForReturn(StoreError):
    """The item cannot be returned; `reason` is a code: not_delivered, window_expired, condition."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class AlreadyReturned(StoreError):
    """A return for this item exists already."""


class CannotCancel(StoreError):
    """The order has shipped or is already cancelled."""


class CannotChangeAddress(StoreError):
    """The order has shipped or is cancelled, so its address is fixed."""


class TicketNotFound(StoreError):
    """No such ticket."""


class ReturnNotFound(StoreError):
    """No such return."""
