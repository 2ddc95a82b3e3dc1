"""An `eventsourcing` application whose events live in Logbook.

    PERSISTENCE_MODULE=logbook_client.eventsourcing LOGBOOK_SOCKET=./logbook.sock python examples/bank_accounts.py

Each account is an aggregate: its events go to the stream `BankAccounts.events-<id>`, so
`logbook read --category BankAccounts.events` shows them beside everything else.
"""

from __future__ import annotations

import os
from decimal import Decimal
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Account(Aggregate):
    @event("Opened")
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = Decimal("0")

    @event("Credited")
    def credit(self, amount: Decimal) -> None:
        self.balance += amount

    @event("Debited")
    def debit(self, amount: Decimal) -> None:
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount


class BankAccounts(Application):
    def open(self, owner: str) -> UUID:
        account = Account(owner)
        self.save(account)
        return account.id

    def deposit(self, account_id: UUID, amount: Decimal) -> None:
        account: Account = self.repository.get(account_id)
        account.credit(amount)
        self.save(account)

    def withdraw(self, account_id: UUID, amount: Decimal) -> None:
        account: Account = self.repository.get(account_id)
        account.debit(amount)
        self.save(account)

    def balance(self, account_id: UUID) -> Decimal:
        account: Account = self.repository.get(account_id)
        return account.balance


def main() -> None:
    os.environ.setdefault("PERSISTENCE_MODULE", "logbook_client.eventsourcing")
    app = BankAccounts()
    alice = app.open("alice")
    app.deposit(alice, Decimal("100.00"))
    app.withdraw(alice, Decimal("30.00"))
    print(f"alice {alice}: {app.balance(alice)}")
    notifications = app.notification_log.select(start=1, limit=10)
    print(f"{len(notifications)} notifications, ids {[n.id for n in notifications]}")


if __name__ == "__main__":
    main()
