"""The shop's store: customers, orders, shipments, returns, tickets and interactions (Python 3.11).

`store.models` holds the tables, `store.database` the connection and migrations, and one service
module per responsibility holds the business rules (`store.orders`, `store.returns`, ...). Every
service function takes a session inside one transaction (`ShopDatabase.transaction()`) and raises
the domain errors of `store.errors`.
"""
