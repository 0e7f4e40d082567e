"""The console's commands: create the first admin, serve the console, sync conversations once."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import typer

from console.models import ROLES
from console.security import AccountError, create_user
from console.sync import prune_missing, sync_once
from console.tracker import TrackerReader
from console.web import ConsoleConfig
from settings import PROJECT_ROOT, load_settings, read_or_create_secret
from store.database import ShopDatabase
from store.masking import mask_pii_in_logs

app = typer.Typer(help="The staff console: accounts, serving, syncing conversations.", no_args_is_help=True)
PASSWORD_VARIABLE = "CONSOLE_ADMIN_PASSWORD"
TRAINING_DATA_OPTION = typer.Option(PROJECT_ROOT / "data", help="the Rasa training data the NLU inbox exports to")
DOMAIN_OPTION = typer.Option(PROJECT_ROOT / "domain.yml", help="the Rasa domain (intents and entities)")
TEST_STORIES_OPTION = typer.Option(
    PROJECT_ROOT / "tests" / "stories" / "console", help='the folder "save as test story" writes new test stories to'
)


def console_config(sync_interval_seconds: float | None = 5.0) -> ConsoleConfig:
    """The console's configuration from the settings (its signing secret generated once in the data folder)."""
    settings = load_settings()
    secret = os.environ.get("CONSOLE_SECRET") or read_or_create_secret(settings.data_dir / "console_secret")
    return ConsoleConfig(
        shop_database_url=settings.shop_database_url,
        tracker_database_url=settings.tracker_database_url,
        secret=secret,
        sync_interval_seconds=sync_interval_seconds,
        # agents write to customers through Rasa's HTTP API (the handoff chat); the token as the run command's
        rasa_url=settings.rasa_url,
        rasa_token=settings.rasa_auth_token or read_or_create_secret(settings.generated_token_file),
    )


def _create(email: str, role: str, password: str | None) -> None:
    password = (
        password
        or os.environ.get(PASSWORD_VARIABLE)
        or typer.prompt("Password (12+ characters)", hide_input=True, confirmation_prompt=True)
    )
    db = ShopDatabase(load_settings().shop_database_url)
    try:
        db.upgrade()
        with db.transaction() as session:
            user = create_user(session, email, password, role)
            typer.echo(f"created {user.role} {user.email}")
    except AccountError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()


@app.command("create-admin")
def create_admin(
    email: str = typer.Option(..., help="the admin's email, used to log in"),
) -> None:
    """Create an admin account; the password comes from CONSOLE_ADMIN_PASSWORD or a hidden prompt."""
    _create(email, "admin", None)


@app.command("create-user")
def create_staff(
    email: str = typer.Option(..., help="the email, used to log in"),
    role: str = typer.Option(..., help=f"one of {', '.join(ROLES)}"),
) -> None:
    """Create a staff account with a role (password as for create-admin)."""
    _create(email, role, None)


@app.command("sync")
def sync() -> None:
    """Fold the tracker store's new events into the console once, and drop erased conversations."""
    config = console_config(None)
    db, reader = ShopDatabase(config.shop_database_url), TrackerReader(config.tracker_database_url)
    try:
        db.upgrade()
        report = sync_once(db, reader)
        removed = prune_missing(db, reader)
        typer.echo(f"{report.events} new events in {report.conversations} conversations; {removed} removed")
    finally:
        db.dispose()
        reader.dispose()


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8090, help="port to listen on"),
    training_data: Path = TRAINING_DATA_OPTION,
    domain: Path = DOMAIN_OPTION,
    test_stories: Path = TEST_STORIES_OPTION,
    rasa_url: str = typer.Option("", help="the Rasa server's URL (default: from the settings, RASA_PORT)"),
) -> None:
    """Serve the console (and keep its conversations in sync with the tracker store)."""
    import uvicorn

    from console.app import create_app

    logging.basicConfig(level=load_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mask_pii_in_logs()
    config = replace(
        console_config(), training_data_dir=training_data, domain_file=domain, test_stories_dir=test_stories
    )
    if rasa_url:
        config = replace(config, rasa_url=rasa_url)
    uvicorn.run(create_app(config), host=host, port=port, proxy_headers=True, log_config=None)
