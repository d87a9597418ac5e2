"""Email reminders for members: sign in with Ethereum (EIP-4361), then read, save or delete one's own subscription;
and the one-click unsubscribe that needs no signature (RFC 8058). An email address is only ever answered to the
member it belongs to, signed in, with Cache-Control: no-store."""

import html
import time
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.deps import ApiError, parse_address
from api.reminders import signin, subscriptions
from api.reminders.confirmation import TooSoon, send_confirmation
from api.reminders.mail import Smtp
from api.reminders.tokens import (
    confirm_valid,
    reminder_secret,
    session_address,
    session_token,
    unsubscribe_reaches,
    unsubscribe_valid,
)
from governance.config import get_settings
from governance.errors import ConfigurationError, InvalidInput
from governance.siwe import SiweRefused

router = APIRouter(prefix="/api/reminders", tags=["reminders"])
PRIVATE = {"Cache-Control": "no-store"}


class MessageRequest(BaseModel):
    address: str = Field(max_length=42)


class SignInRequest(BaseModel):
    message: str = Field(max_length=2000)
    signature: str = Field(max_length=140)


class PreferencesRequest(BaseModel):
    email: str = Field(max_length=254)
    vote_opened: bool = True
    hours_before_close: int = 24
    delegate_not_voted: bool = True


def _origin(request: Request) -> signin.Origin:
    """The page's origin: COMMONS_PUBLIC_URL when set (so a message signed on another site is refused), else the
    address this request came to if that is this machine; ApiError 503 in words otherwise."""
    try:
        return signin.Origin.of_page(get_settings().public_url, str(request.base_url))
    except SiweRefused as exc:
        raise _refused(exc) from None


def _secret() -> bytes:
    """The HMAC secret; ApiError 503 in words when it cannot be read (not the relay's 503)."""
    try:
        return reminder_secret(get_settings())
    except (ConfigurationError, OSError) as exc:
        raise ApiError(503, "reminders_unavailable", f"Email reminders are not set up here: {exc}") from None


def _refused(exc: SiweRefused) -> ApiError:
    return ApiError(exc.status, exc.code, str(exc))


def _member(request: Request, authorization: str | None) -> str:
    """The signed-in member's address from `Authorization: Bearer <session>`, while the account is a member at the
    indexed block; ApiError 401 otherwise, or 403 once it is not a member (its subscription is deleted then)."""
    scheme, _, token = (authorization or "").partition(" ")
    address = session_address(_secret(), token.strip()) if scheme.lower() == "bearer" else None
    if address is None:
        raise ApiError(401, "not_signed_in", "Sign in with your wallet first (the sign-in lasts an hour).")
    engine = request.app.state.engine
    with engine.connect() as conn:
        member = signin.is_member(conn, address)
    if not member:
        subscriptions.delete(engine, address)
        raise ApiError(403, "not_member", f"{address} is no longer a member of this commons: reminders are for members.")
    return address


def _smtp() -> Smtp:
    """The operator's SMTP server; ApiError 503 in words when none is set (nothing could be confirmed or sent)."""
    try:
        return Smtp.from_settings(get_settings())
    except ConfigurationError as exc:
        raise ApiError(503, "reminders_unavailable", f"Email reminders are not set up here: {exc}") from None


def _confirmation(request: Request, address: str) -> dict:
    """Mail the confirmation link to `address`'s unconfirmed email, rate-limited: {"sent": bool, "wait": seconds}."""
    try:
        sent = send_confirmation(request.app.state.engine, _smtp(), _secret(), get_settings().public_url, address)
    except TooSoon as exc:
        return {"sent": False, "wait": exc.wait, "detail": str(exc)}
    except Exception:  # refused or unreachable: the server's words may name the address, so they are not repeated
        raise ApiError(502, "confirmation_not_sent", "The confirmation email could not be sent: try again later.") from None
    return {"sent": sent, "wait": 0}


def _public(subscription: dict | None) -> dict | None:
    if subscription is None:
        return None
    keys = ("address", "email", "vote_opened", "hours_before_close", "delegate_not_voted", "created_at", "updated_at")
    return {key: subscription[key] for key in keys} | {"confirmed": subscription["confirmed_at"] is not None}


@router.post("/sign-in/message")
def sign_in_message(body: MessageRequest, request: Request) -> dict:
    """An EIP-4361 message for `address` to sign with personal_sign: this page's domain and URI, the commons' chain,
    a single-use nonce, valid for ten minutes."""
    address = parse_address(body.address)
    try:
        message = signin.issue(request.app.state.engine, _origin(request), address, _secret())
    except SiweRefused as exc:
        raise _refused(exc) from None
    return {"message": message.text(), "nonce": message.nonce, "expires_at": message.expiration_time}


@router.post("/sign-in")
def sign_in(body: SignInRequest, request: Request, response: Response) -> dict:
    """A session (an hour) for the member who signed the message; 4xx with a sentence for a message that is not for
    this page or chain, expired, used before, signed by someone other than the account it names, or not a member's."""
    engine = request.app.state.engine
    try:
        address = signin.sign_in(engine, _origin(request), body.message, body.signature, _secret())
    except SiweRefused as exc:
        raise _refused(exc) from None
    token, expires = session_token(_secret(), address)
    response.headers.update(PRIVATE)
    return {
        "token": token,
        "address": address,
        "expires_at": expires,
        "subscription": _public(subscriptions.read(engine, address)),
    }


@router.get("/subscription")
def read_subscription(request: Request, response: Response, authorization: Annotated[str | None, Header()] = None) -> dict:
    """The signed-in member's subscription (null when none)."""
    address = _member(request, authorization)
    response.headers.update(PRIVATE)
    return {"address": address, "subscription": _public(subscriptions.read(request.app.state.engine, address))}


@router.put("/subscription")
def save_subscription(
    body: PreferencesRequest, request: Request, response: Response, authorization: Annotated[str | None, Header()] = None
) -> dict:
    """Subscribe the signed-in member, or change what they hear about. A new email address is mailed a confirmation
    link (at most once per RESEND_SECONDS per member) and gets no reminder before it is confirmed."""
    address = _member(request, authorization)
    _smtp()  # before anything is written: an address that could never be confirmed is not kept
    preferences = subscriptions.Preferences(body.email, body.vote_opened, body.hours_before_close, body.delegate_not_voted)
    try:
        saved = subscriptions.save(request.app.state.engine, address, preferences)
    except InvalidInput as exc:
        raise ApiError(400, "invalid_subscription", str(exc)) from None
    confirmation = _confirmation(request, address) if saved["confirmed_at"] is None else {"sent": False, "wait": 0}
    response.headers.update(PRIVATE)
    saved = subscriptions.read(request.app.state.engine, address) or saved
    return {"address": address, "subscription": _public(saved), "confirmation": confirmation}


@router.post("/subscription/confirmation")
def resend_confirmation(request: Request, response: Response, authorization: Annotated[str | None, Header()] = None) -> dict:
    """Mail the confirmation link again; 429 with a sentence when one went less than ten minutes ago."""
    address = _member(request, authorization)
    answer = _confirmation(request, address)
    if answer.get("wait"):
        raise ApiError(429, "too_soon", answer["detail"])
    if not answer["sent"]:
        raise ApiError(409, "nothing_to_confirm", "There is no email address waiting for confirmation.")
    response.headers.update(PRIVATE)
    return {"address": address, "confirmation": answer}


@router.delete("/subscription")
def delete_subscription(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict:
    """Forget the signed-in member's email address and preferences."""
    address = _member(request, authorization)
    return {"address": address, "deleted": subscriptions.delete(request.app.state.engine, address)}


def _unsubscribe_page(title: str, text: str, form: str = "") -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/style.css"></head><body><main id="view">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}"
        '<p><a href="/#/reminders">Reminders</a></p></main></body></html>'
    )
    return HTMLResponse(page, headers=PRIVATE)


def _checked(address: str, token: str) -> str:
    checked = parse_address(address)
    if not unsubscribe_valid(_secret(), checked, token):
        raise ApiError(400, "invalid_unsubscribe", "This unsubscribe link is not valid: use the link from a reminder as it is.")
    return checked


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(address: Annotated[str, Query(max_length=42)], token: Annotated[str, Query(max_length=64)]):
    """The link in every reminder: one button (a GET changes nothing, so a mail scanner following links unsubscribes
    no one)."""
    checked = _checked(address, token)
    form = (
        f'<form method="post" action="/api/reminders/unsubscribe?address={checked}&amp;token={html.escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" id="unsubscribe">Unsubscribe</button></form>'
    )
    return _unsubscribe_page("Stop email reminders", "No more reminders of votes will be sent to this address.", form)


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, address: Annotated[str, Query(max_length=42)], token: Annotated[str, Query(max_length=64)]):
    """Unsubscribe with no signature (RFC 8058 one-click, or the button): the subscription is deleted; doing it again
    changes nothing."""
    checked = _checked(address, token)
    engine = request.app.state.engine
    current = subscriptions.read(engine, checked)
    if current is not None and not unsubscribe_reaches(_secret(), checked, current["email"], token):
        return _unsubscribe_page("Nothing changed", "This link came with reminders to an email address that no longer gets them.")
    if current is not None:
        subscriptions.delete(engine, checked, current["email"])  # not one saved with a new address meanwhile
    return _unsubscribe_page(
        "Unsubscribed", f"You will get no more reminders ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})."
    )


def _confirm_email(engine, address: str, token: str) -> str:
    """The email address `token` confirms for `address` (its current one); ApiError 400 in words otherwise."""
    checked = parse_address(address)
    current = subscriptions.read(engine, checked)
    if current is None or not confirm_valid(_secret(), checked, current["email"], token):
        raise ApiError(
            400,
            "invalid_confirmation",
            "This confirmation link is not valid: it has expired, or the address it was sent to is no longer the one "
            "saved. Save your email address again on the reminders page for a new link.",
        )
    return current["email"]


@router.get("/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, address: Annotated[str, Query(max_length=42)], token: Annotated[str, Query(max_length=64)]):
    """The link in the confirmation email: one button (a GET confirms nothing, so a mail scanner confirms no one)."""
    _confirm_email(request.app.state.engine, address, token)
    form = (
        f'<form method="post" action="/api/reminders/confirm?address={parse_address(address)}&amp;token={html.escape(token)}">'
        '<button type="submit" id="confirm">Confirm</button></form>'
    )
    return _unsubscribe_page(
        "Confirm email reminders",
        "Press Confirm to get reminders of votes at this address; if you did not ask, close this page.",
        form,
    )


@router.post("/confirm", response_class=HTMLResponse)
def confirm(request: Request, address: Annotated[str, Query(max_length=42)], token: Annotated[str, Query(max_length=64)]):
    """Confirm the email address the link was mailed to (doing it again changes nothing)."""
    engine = request.app.state.engine
    email = _confirm_email(engine, address, token)
    subscriptions.confirm(engine, parse_address(address), email)
    return _unsubscribe_page("Confirmed", "Reminders of votes you have not cast will come to this address.")
