"""Proving who a customer is: signed customer tokens, email + order number, verified links only."""

import datetime as dt

import pytest
from sqlalchemy import select

from store.customers import create_customer, link_identity
from store.database import ShopDatabase
from store.errors import InvalidInput
from store.identity import (
    CODE_ATTEMPTS,
    CODE_LIFETIME,
    InvalidToken,
    VerificationFailed,
    check_login_code,
    customer_by_email_and_order,
    prove_identity,
    read_customer_token,
    send_login_code,
    sign_customer_token,
    verified_customer,
)
from store.models import LoginCode, OutboxMessage
from store.outbox import queue_email, unsent
from tests.store.conftest import ANCHOR
from tests.store.factories import add_customer, add_order

SECRET = "test-secret"


def test_a_signed_token_proves_its_customer_until_it_expires() -> None:
    token = sign_customer_token(42, SECRET, dt.timedelta(hours=1), now=ANCHOR)
    assert read_customer_token(token, SECRET, now=ANCHOR + dt.timedelta(minutes=59)) == 42
    with pytest.raises(InvalidToken, match="expired"):
        read_customer_token(token, SECRET, now=ANCHOR + dt.timedelta(minutes=61))


@pytest.mark.parametrize(
    "token",
    ["", "no-dot", "a.b.c", "x" * 2000, "eyJjdXN0b21lcl9pZCI6NDJ9.deadbeef", "%%%.%%%"],
)
def test_malformed_or_forged_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        read_customer_token(token, SECRET, now=ANCHOR)


def test_a_token_signed_with_another_secret_or_edited_is_refused() -> None:
    token = sign_customer_token(42, "other-secret", dt.timedelta(hours=1), now=ANCHOR)
    with pytest.raises(InvalidToken, match="signature"):
        read_customer_token(token, SECRET, now=ANCHOR)
    _, signature = sign_customer_token(42, SECRET, dt.timedelta(hours=1), now=ANCHOR).split(".")
    forged = sign_customer_token(7, SECRET, dt.timedelta(hours=1), now=ANCHOR).split(".")[0]
    with pytest.raises(InvalidToken):
        read_customer_token(f"{forged}.{signature}", SECRET, now=ANCHOR)


def test_email_and_order_number_prove_the_customer_only_together(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        bob = add_customer(session, name="Bob Lin", email="bob@example.com", web_id="web-bob")
        add_order(session, ada, "SO-100001", ANCHOR)
        add_order(session, bob, "SO-200002", ANCHOR)
    with db.transaction() as session:
        assert customer_by_email_and_order(session, " ADA@example.com ", "so-100001").id == ada
        for email, number in [("ada@example.com", "SO-200002"), ("bob@example.com", "SO-100001"),
                              ("nobody@example.com", "SO-100001"), ("ada@example.com", "SO-999999")]:  # fmt: skip
            with pytest.raises(VerificationFailed):
                customer_by_email_and_order(session, email, number)
        with pytest.raises(InvalidInput):
            customer_by_email_and_order(session, "ada@example.com", "S" * 100)


def test_only_verified_links_count(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        link_identity(session, ada, "telegram", "tg-1", verified=False)
    with db.transaction() as session:
        assert verified_customer(session, "telegram", "tg-1") is None
        assert verified_customer(session, "web", "web-ada") is not None
        assert verified_customer(session, "carrier-pigeon", "web-ada") is None
        assert prove_identity(session, ada, "telegram", "tg-1").id == ada
    with db.transaction() as session:
        profile = verified_customer(session, "telegram", "tg-1")
        assert profile is not None and profile.id == ada


def emailed_code(db: ShopDatabase) -> str:
    with db.transaction() as session:
        body = session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id.desc())).first()
    assert body is not None
    return body.split("Your code is ")[1][:6]


def test_a_one_time_code_goes_to_the_outbox_and_proves_the_chat_user_once(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session, web_id="web-ada-own")
        assert send_login_code(session, "ADA@example.com ", "telegram", "tg-1", now=ANCHOR)
    code = emailed_code(db)
    with db.transaction() as session:
        (stored,) = session.scalars(select(LoginCode)).all()
        assert code not in stored.code_hash and len(stored.code_hash) == 64  # only the hash is kept
        assert check_login_code(session, "telegram", "tg-OTHER", code, now=ANCHOR) is None  # another chat
        proven = check_login_code(session, "telegram", "tg-1", f" {code[:3]} {code[3:]} ", now=ANCHOR)
        assert proven is not None and proven.id == ada
        assert verified_customer(session, "telegram", "tg-1") is not None
        assert check_login_code(session, "telegram", "tg-1", code, now=ANCHOR) is None  # used up


def test_codes_expire_run_out_of_attempts_and_are_rate_limited(db: ShopDatabase) -> None:
    with db.transaction() as session:
        add_customer(session)
        assert not send_login_code(session, "nobody@example.com", "web", "w-1", now=ANCHOR)  # same answer to the user
        assert send_login_code(session, "ada@example.com", "web", "w-1", now=ANCHOR)
    code = emailed_code(db)
    later = ANCHOR + CODE_LIFETIME + dt.timedelta(seconds=1)
    with db.transaction() as session:
        assert check_login_code(session, "web", "w-1", code, now=later) is None
        assert send_login_code(session, "ada@example.com", "web", "w-1", now=ANCHOR + dt.timedelta(minutes=1))
    code = emailed_code(db)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(CODE_ATTEMPTS):
        with db.transaction() as session:  # each wrong try is committed
            assert check_login_code(session, "web", "w-1", wrong, now=ANCHOR + dt.timedelta(minutes=2)) is None
    with db.transaction() as session:
        assert check_login_code(session, "web", "w-1", code, now=ANCHOR + dt.timedelta(minutes=2)) is None
        assert send_login_code(session, "ada@example.com", "web", "w-2", now=ANCHOR + dt.timedelta(minutes=3))
        assert not send_login_code(session, "ada@example.com", "web", "w-3", now=ANCHOR + dt.timedelta(minutes=4))
        assert send_login_code(session, "ada@example.com", "web", "w-3", now=ANCHOR + dt.timedelta(minutes=61))


def test_mail_goes_only_to_an_address_on_file(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        nobody = create_customer(session, name="No Mail").id
        queue_email(session, ada, "Hello", "Body")
        with pytest.raises(InvalidInput, match="no email address"):
            queue_email(session, nobody, "Hello", "Body")
        assert [(m.to_address, m.subject) for m in unsent(session)] == [("ada@example.com", "Hello")]
