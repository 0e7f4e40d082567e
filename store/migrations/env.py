"""Alembic environment: runs our migrations on the URL given by store.database.alembic_config."""

from alembic import context

from settings import load_settings
from store.database import create_shop_engine, normalise_url
from store.models import Base

config = context.config
# Given by store.database.alembic_config; from the alembic command line, the settings' URL.
url = config.get_main_option("sqlalchemy.url") or normalise_url(load_settings().shop_database_url)

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_shop_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
