"""Mastodon: an account's public statuses through its server's REST API.

Most servers need no token: ``/api/v1/accounts/lookup`` turns the address
into the server's account id, ``/api/v1/accounts/:id/statuses`` pages through
the statuses newest first, the next page named by the ``Link`` header.
Servers that require a login (``DISALLOW_UNAUTHENTICATED_API_ACCESS``,
limited federation mode, GoToSocial) answer 401/403; a token from an account
on that server can then be given in the environment variable
``MASTODON_TOKEN``. It is sent as a Bearer header and stored nowhere.

Decisions (docs/platforms/mastodon.md says more):

* ``native_id`` is the status's web URL (``url``, else ``uri``): the same on
  every server that shows the status, unlike the server-local ``id``, which is
  kept in ``extra["local_id"]`` because paging (since_id/max_id) needs it.
* A boost is a post of its own, by the booster, with ``repost_of`` set and
  empty text: the boosted text is not copied into it.
* Status ids are strings beyond 2**53 (ULIDs on GoToSocial); they are compared
  by length then text and never turned into numbers.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from ..errors import ParseFailure, SourceError
from ..model import FetchedPage, Post, RawItem
from ..normalise import html_to_text, loads_json, to_utc_iso, tombstone_item
from ..shapes import describe_text, guess_shape, not_this_shape
from . import RecheckTarget, ScrapeRequest, Unparsed
from .decoding import loads, read_whole

PLATFORM = "mastodon"
STATUS_FORMAT = "mastodon-status"
STATUSES_FILE_FORMAT = "mastodon-statuses"
TOKEN_VARIABLE = "MASTODON_TOKEN"
TOKEN_HOST_VARIABLE = "MASTODON_TOKEN_HOST"
PAGE_LIMIT = 40  # the most /accounts/:id/statuses returns per page
REFUSED = (401, 403)
GONE = (404, 410)  # 410: suspended account, Mastodon 2.4 to 3.3
ANSWERS = REFUSED + GONE  # returned by the client, worded here


# --- account addresses and tokens ----------------------------------------------


@dataclass(frozen=True)
class AccountAddress:
    username: str
    domain: str

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.domain}"


_PROFILE_PATH = re.compile(r"/(?:@|users/)([^/@]+)(?:@([^/@]+))?/?")


def parse_account_address(text: str) -> AccountAddress | None:
    """``@user@server.example``, ``user@server.example``,
    ``https://server.example/@user`` (or ``/users/user``) to an address."""
    text = (text or "").strip()
    if text.startswith(("https://", "http://")):
        parts = urlsplit(text)
        match = _PROFILE_PATH.fullmatch(parts.path)
        if match and parts.netloc:
            return AccountAddress(match.group(1), (match.group(2) or parts.netloc).lower())
        return None
    username, _, domain = text.removeprefix("@").partition("@")
    if username and domain and not re.search(r"[@/\s]", domain):
        return AccountAddress(username, domain.lower())
    return None


def account_address(request: ScrapeRequest) -> AccountAddress:
    account = request.account
    for candidate in (account.handle, account.url, account.platform_id):
        address = parse_account_address(candidate or "")
        if address:
            return address
    raise SourceError(
        f"{request.source_id}: no Mastodon address for account "
        f"{account.handle or account.url or account.platform_id!r} "
        "(expected @user@server.example or https://server.example/@user)"
    )


def auth_headers(url: str) -> dict[str, str]:
    """The Bearer header for the one server named in MASTODON_TOKEN_HOST,
    when MASTODON_TOKEN is set. A token only works on the server that issued
    it, and sending it elsewhere would hand it to other servers' operators,
    so without MASTODON_TOKEN_HOST it is sent nowhere."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    only_host = os.environ.get(TOKEN_HOST_VARIABLE, "").strip().lower()
    if not token or not only_host or urlsplit(url).netloc.lower() != only_host:
        return {}
    return {"Authorization": f"Bearer {token}"}


# --- network -------------------------------------------------------------------


def fetch_account(client, base_url: str, address: AccountAddress) -> FetchedPage:
    url = f"{base_url}/api/v1/accounts/lookup"
    return client.get(
        url, params={"acct": address.acct}, headers=auth_headers(url), kind=PLATFORM, ok_statuses=ANSWERS
    )


def fetch_statuses_page(client, url: str, params: dict | None = None) -> FetchedPage:
    return client.get(url, params=params, headers=auth_headers(url), kind=PLATFORM, ok_statuses=ANSWERS)


def fetch_status(client, base_url: str, local_id: str) -> FetchedPage:
    url = f"{base_url}/api/v1/statuses/{local_id}"
    return client.get(url, headers=auth_headers(url), kind=PLATFORM, ok_statuses=ANSWERS)


def check_answer(page: FetchedPage, address: AccountAddress) -> None:
    """Turn a refusal or a missing account into a message a person can act on."""
    host = urlsplit(page.url).netloc
    said = _server_error(page)
    if page.status in REFUSED:
        if auth_headers(page.url):
            advice = (
                f"it refused the token in {TOKEN_VARIABLE}; the token must come from an "
                f"account on {host} and allow read:statuses"
            )
        else:
            advice = (
                "the server requires login for its API (DISALLOW_UNAUTHENTICATED_API_ACCESS, "
                f"limited federation mode or GoToSocial); set {TOKEN_VARIABLE} to an access token "
                f"from an account on {host} and {TOKEN_HOST_VARIABLE}={host}"
            )
            if os.environ.get(TOKEN_VARIABLE) and os.environ.get(TOKEN_HOST_VARIABLE):
                advice += f" ({TOKEN_HOST_VARIABLE} names another server, so no token was sent)"
            elif os.environ.get(TOKEN_VARIABLE):
                advice += f" ({TOKEN_HOST_VARIABLE} is not set, so the token was sent nowhere)"
        raise SourceError(
            f"Mastodon server {host} refused @{address.acct}: "
            f"HTTP {page.status}{said} from {page.url}; {advice}"
        )
    if page.status in GONE:
        raise SourceError(
            f"Mastodon account @{address.acct} not found on {host}: HTTP {page.status}{said} from {page.url}"
        )


def _server_error(page: FetchedPage) -> str:
    try:
        message = loads(page.body).get("error")
    except (ValueError, AttributeError):
        return ""
    return f' ("{message}")' if isinstance(message, str) else ""


def lookup_account_id(client, base_url: str, address: AccountAddress) -> str:
    page = fetch_account(client, base_url, address)
    check_answer(page, address)
    try:
        account = loads_json(page.body, f"account lookup {page.url}")
    except ParseFailure as exc:
        raise SourceError(f"Mastodon account @{address.acct}: {exc}") from exc
    if account.get("suspended"):
        raise SourceError(f"Mastodon account @{address.acct} is suspended on {urlsplit(page.url).netloc}")
    if not account.get("id"):
        raise SourceError(f"Mastodon account @{address.acct}: lookup at {page.url} gave no account id")
    return str(account["id"])


def next_page_url(page: FetchedPage) -> str | None:
    """The rel="next" target of the Link header (it carries max_id)."""
    header = next((v for k, v in page.headers.items() if k.lower() == "link"), "")
    for match in re.finditer(r"<([^>]*)>([^<]*)", header):
        rel = re.search(r'rel\s*=\s*"?([^";,]*)', match.group(2))
        if rel and "next" in rel.group(1).split():
            return match.group(1)
    return None


# --- pages and files to raw items (pure) ---------------------------------------


def statuses_from_text(text: str, where: str) -> list:
    try:
        value = loads(text)
    except json.JSONDecodeError as exc:
        raise ParseFailure(f"{where}: not JSON ({exc})") from exc
    if not isinstance(value, list):
        raise ParseFailure(f"{where}: a JSON {type(value).__name__}, not an array of statuses")
    return value


def check_status(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ParseFailure(f"{where}: a JSON {type(value).__name__}, not a status object")
    missing = [key for key in ("id", "created_at", "account") if not value.get(key)]
    if not (value.get("url") or value.get("uri")):
        missing.append("url/uri")
    if missing:
        raise ParseFailure(f"{where}: status without {', '.join(missing)}")
    if not isinstance(value["account"], dict) or not value["account"].get("acct"):
        raise ParseFailure(f"{where}: status account has no acct")
    try:
        to_utc_iso(value["created_at"])
    except (ValueError, TypeError, AttributeError) as exc:
        raise ParseFailure(f"{where}: unreadable created_at {value['created_at']!r}") from exc
    return value


def page_statuses(page: FetchedPage) -> list[dict]:
    """A page's statuses, or ParseFailure if any of them is unreadable."""
    values = statuses_from_text(page.body, page.url)
    return [check_status(value, f"{page.url}#{index}") for index, value in enumerate(values)]


def local_id(status: dict) -> str:
    return str(status["id"])


def status_url(status: dict) -> str:
    return status.get("url") or status["uri"]


def same_thread_reply_url(status: dict) -> str | None:
    """The parent's URL when an account answers itself on its own server:
    both statuses are local there, so the parent's URL is the reply's URL with
    the parent's id in place of its own."""
    parent = status.get("in_reply_to_id")
    account_id = status["account"].get("id")
    if not parent or not account_id or str(status.get("in_reply_to_account_id")) != str(account_id):
        return None
    own_url, own_suffix = status.get("url") or "", "/" + local_id(status)
    if own_url.endswith(own_suffix):
        return own_url[: -len(own_suffix)] + "/" + str(parent)
    return None


def status_context(status: dict, known_urls: dict[str, str], local_domain: str | None = None,
                   local_accounts: dict[str, str] | None = None) -> dict:
    """What the transform needs besides the status: the domain of the server's
    own accounts (their acct has none) and the URL of the status replied to
    (in_reply_to_id is a local id that means nothing on other servers).
    ``local_accounts`` (account id -> profile URL, see :func:`local_account_urls`)
    names the parent when only its author is known: a thread's focal status,
    which its context answer leaves out."""
    context: dict[str, Any] = {}
    if local_domain:
        context["local_domain"] = local_domain
    parent = status.get("in_reply_to_id")
    reply_url = known_urls.get(str(parent)) if parent else None
    reply_url = reply_url or same_thread_reply_url(status)
    parent_author = str(status.get("in_reply_to_account_id") or "")
    if not reply_url and parent and local_accounts and parent_author in local_accounts:
        reply_url = f"{local_accounts[parent_author]}/{parent}"
    if reply_url:
        context["in_reply_to_url"] = reply_url
    return context


def local_account_urls(statuses: list[dict]) -> dict[str, str]:
    """Account id -> profile URL for the answering server's own accounts
    (acct without a domain) whose statuses here are named
    ``<profile URL>/<local id>``: on that server, any status of theirs is."""
    found = {}
    for status in statuses:
        account = status.get("account")
        if not isinstance(account, dict) or "@" in str(account.get("acct", "@")) or not account.get("url"):
            continue
        if status.get("url") == f"{account['url']}/{status.get('id')}":
            found[str(account.get("id"))] = account["url"]
    return found


def raw_item(
    status: dict,
    source_id: str,
    location: str,
    context: dict,
    page: FetchedPage | None = None,
) -> RawItem:
    payload = json.dumps(status, ensure_ascii=False, sort_keys=True)
    return RawItem.from_page(STATUS_FORMAT, payload, source_id, location, page, context)


def items_from_page(page: FetchedPage, source_id: str, local_domain: str | None = None) -> list[RawItem]:
    """One RawItem per status of a statuses page; ParseFailure if malformed."""
    statuses = page_statuses(page)
    known = {local_id(status): status_url(status) for status in statuses}
    return [
        raw_item(status, source_id, f"{page.url}#{index}", status_context(status, known, local_domain), page)
        for index, status in enumerate(statuses)
    ]


def read_statuses_file(path: str, source_id: str) -> Iterator[RawItem | Unparsed]:
    """Saved REST API answers: a JSON array of statuses (an account's
    statuses, a timeline), one Status, a ``statuses/:id/context`` answer
    (``ancestors`` and ``descendants``: the replies of other accounts too,
    linked to what they answer by reply_to) or a v2 search answer
    (``statuses``). A bad record is yielded as Unparsed (``file[index]``,
    ``file#descendants[2]``); the rest go on."""
    text = read_whole(path)
    try:
        value = loads(text)
    except json.JSONDecodeError as exc:
        yield Unparsed(f"{path}: not JSON ({exc}): {describe_text(text)}", str(path), text, source_id)
        return
    found = list(_statuses_in(value, str(path)))
    statuses = [status for _where, status in found if _looks_like_status(status)]
    known = {
        str(status["id"]): status.get("url") or status["uri"]
        for status in statuses
        if status.get("id") and (status.get("url") or status.get("uri"))
    }
    accounts = local_account_urls(statuses)
    for where, candidate in found:
        if isinstance(candidate, _NotStatuses):
            yield Unparsed(candidate.reason, where, json.dumps(candidate.value, ensure_ascii=False), source_id)
            continue
        try:
            status = check_status(candidate, where)
        except ParseFailure as exc:
            other = guess_shape(candidate)
            reason = not_this_shape(candidate, STATUSES_FILE_FORMAT) if other and other[0] != STATUSES_FILE_FORMAT else str(exc)
            yield Unparsed(reason, where, json.dumps(candidate, ensure_ascii=False), source_id)
            continue
        yield raw_item(status, source_id, where, status_context(status, known, local_accounts=accounts))


class _NotStatuses(NamedTuple):
    reason: str
    value: Any


def _looks_like_status(value: Any) -> bool:
    return isinstance(value, dict) and (
        isinstance(value.get("account"), dict) or "content" in value or ("id" in value and "created_at" in value)
    )


def _statuses_in(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """(location, status) for each status a saved answer holds, by its shape."""
    if isinstance(value, list):
        for index, element in enumerate(value):
            if isinstance(element, dict) and not _looks_like_status(element) and _answer_lists(element):
                yield from _statuses_in(element, f"{where}[{index}]")
            else:
                yield f"{where}[{index}]", element
        return
    lists = _answer_lists(value) if isinstance(value, dict) else []
    if lists:
        joint = "." if "#" in where else "#"
        for key in lists:
            for index, element in enumerate(value[key]):
                yield f"{where}{joint}{key}[{index}]", element
    elif _looks_like_status(value):
        yield where, value
    else:
        yield where, _NotStatuses(not_this_shape(value, STATUSES_FILE_FORMAT), value)


def _answer_lists(value: dict) -> list[str]:
    """The keys holding statuses in a context answer (ancestors, descendants)
    or a v2 search answer (statuses)."""
    if "ancestors" in value or "descendants" in value:
        return [key for key in ("ancestors", "descendants") if isinstance(value.get(key), list)]
    if isinstance(value.get("statuses"), list) and not _looks_like_status(value):
        return ["statuses"]
    return []


# --- raw item to post (pure) ----------------------------------------------------


def transform_status(item: RawItem) -> Post:
    status = loads_json(item.payload, "Mastodon status")
    account = status["account"]
    local_domain = item.context.get("local_domain") or urlsplit(account.get("url") or "").netloc
    reblog = status.get("reblog")
    return Post(
        platform=PLATFORM,
        native_id=status_url(status),
        url=status_url(status),
        # A boost is a reference, not a copy: its text stays empty.
        text="" if reblog else html_to_text(_without_quote_fallback(status)),
        author_handle=full_acct(account["acct"], local_domain),
        author_display_name=account.get("display_name") or None,
        author_platform_id=account.get("url") or account.get("uri"),
        created_at=to_utc_iso(status["created_at"]),
        language=status.get("language") or None,
        reply_to=_post_key(item.context.get("in_reply_to_url")),
        quote_of=_post_key(quoted_status_url(status)),
        repost_of=_post_key(status_url(reblog)) if reblog else None,
        hashtags=[tag["name"] for tag in status.get("tags") or [] if tag.get("name")],
        mentions=[full_acct(m["acct"], local_domain) for m in status.get("mentions") or [] if m.get("acct")],
        links=content_links(status),
        media=[media_entry(attachment) for attachment in status.get("media_attachments") or []],
        reply_count=status.get("replies_count"),
        repost_count=status.get("reblogs_count"),
        like_count=status.get("favourites_count"),
        quote_count=status.get("quotes_count"),
        edited_at=to_utc_iso(status.get("edited_at")),
        extra=status_extra(status, item.context),
    )


def _post_key(url: str | None) -> str | None:
    return f"{PLATFORM}:{url}" if url else None


def full_acct(acct: str, local_domain: str | None) -> str:
    """Accounts of the answering server come without a domain; add it so that
    a handle means the same whichever server was asked."""
    acct = acct.removeprefix("@")
    return acct if "@" in acct or not local_domain else f"{acct}@{local_domain}"


def _without_quote_fallback(status: dict) -> str:
    """Mastodon 4.5 puts a "RE: <url>" paragraph (class quote-inline) in a
    quote post's content for old clients; the quote is kept as quote_of."""
    content = status.get("content") or ""
    if not status.get("quote") or "quote-inline" not in content:
        return content
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    for fallback in soup.select(".quote-inline"):
        fallback.decompose()
    return str(soup)


def quoted_status_url(status: dict) -> str | None:
    """Mastodon 4.4+ wraps quotes as {state, quoted_status}; a shallow quote
    carries only a local id, which is kept in extra instead."""
    quoted = (status.get("quote") or {}).get("quoted_status")
    if isinstance(quoted, dict) and (quoted.get("url") or quoted.get("uri")):
        return status_url(quoted)
    return None


def content_links(status: dict) -> list[str]:
    """Link targets in the content that are not mentions or hashtags."""
    entities = (status.get("mentions") or []) + (status.get("tags") or [])
    entity_urls = {(entity.get("url") or "").lower() for entity in entities}
    links: list[str] = []
    for anchor in BeautifulSoup(status.get("content") or "", "html.parser").find_all("a", href=True):
        href = anchor["href"].strip()
        if href.lower().startswith(("https://", "http://")) and not _is_entity_anchor(anchor, entity_urls):
            if href not in links:
                links.append(href)
    return links


def _is_entity_anchor(anchor, entity_urls: set[str]) -> bool:
    classes = set(anchor.get("class") or [])
    rel = set(anchor.get("rel") or [])
    # Other server software marks mentions and tags less consistently than
    # Mastodon, hence the text test as well.
    return bool(
        classes & {"mention", "hashtag"}
        or "tag" in rel
        or anchor.get_text().strip().startswith(("@", "#"))
        or anchor["href"].strip().lower() in entity_urls
    )


def media_entry(attachment: dict) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": attachment.get("type"),
        # Remote media the server did not cache have only remote_url.
        "url": attachment.get("url") or attachment.get("remote_url"),
    }
    for key, name in (("preview_url", "preview_url"), ("remote_url", "remote_url"), ("description", "alt")):
        if attachment.get(key):
            entry[name] = attachment[key]
    original = (attachment.get("meta") or {}).get("original") or {}
    for key in ("width", "height", "duration"):
        if original.get(key) is not None:
            entry[key] = original[key]
    return entry


def status_extra(status: dict, context: dict) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "local_id": local_id(status),
        "account_local_id": str(status["account"].get("id", "")) or None,
        "visibility": status.get("visibility"),
    }
    optional = {
        "uri": status.get("uri") if status.get("uri") != status_url(status) else None,
        "card": status.get("card"),
        "poll": status.get("poll"),
        "content_warning": status.get("spoiler_text"),
        "sensitive": status.get("sensitive") or None,
        "in_reply_to_local_id": status.get("in_reply_to_id"),
        "in_reply_to_account_local_id": status.get("in_reply_to_account_id"),
        "reblog_local_id": (status.get("reblog") or {}).get("id"),
        "quote_state": (status.get("quote") or {}).get("state"),
        "quoted_local_id": (status.get("quote") or {}).get("quoted_status_id"),
        "application": (status.get("application") or {}).get("name"),
        "api_host": context.get("api_host"),
    }
    extra.update({key: value for key, value in optional.items() if value})
    return extra


# --- scraping an account --------------------------------------------------------


def local_since_id(since_id: str | None) -> str | None:
    """since_id as the server's local id. The archive may hold the newest
    post's native id (its URL) rather than extra["local_id"]; a local status
    URL ends with that id (``/@user/<id>``, ``/statuses/<id>/activity``)."""
    if not since_id:
        return None
    since_id = since_id.removeprefix(f"{PLATFORM}:")
    if since_id.startswith(("https://", "http://")):
        match = re.search(r"/([0-9A-Za-z]+)(?:/activity)?/?$", urlsplit(since_id).path)
        return match.group(1) if match else None
    return since_id


def id_order(status_id: str) -> tuple[int, str]:
    """Sort key for ids: a longer id is newer, equal lengths compare as text
    (true of snowflake decimals and of ULIDs alike)."""
    return (len(status_id), status_id)


def _moment(value: str) -> datetime:
    text = to_utc_iso(value) or ""
    if len(text) == 10:  # a plain date: its start
        text += "T00:00:00Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Window:
    """Which statuses of a newest-first stream to keep, skip, or stop at."""

    start: datetime | None
    end: datetime | None
    since: str | None

    @classmethod
    def of(cls, request: ScrapeRequest) -> Window:
        return cls(
            _moment(request.window_start) if request.window_start else None,
            _moment(request.window_end) if request.window_end else None,
            local_since_id(request.since_id),
        )

    def verdict(self, status: dict) -> str:
        if self.since and id_order(local_id(status)) <= id_order(self.since):
            return "stop"
        moment = _moment(status["created_at"])
        if self.start and moment < self.start:
            return "stop"
        if self.end and moment > self.end:
            return "skip"
        return "keep"


class ReplyUrls:
    """URLs of the statuses that replies answer, from the pages seen, the
    same-thread rule, or one request per unknown parent (cached)."""

    def __init__(self, client, base_url: str, resolve: bool = True):
        self.client, self.base_url, self.resolve = client, base_url, resolve
        self.known: dict[str, str | None] = {}

    def remember(self, statuses: list[dict]) -> None:
        self.known.update({local_id(status): status_url(status) for status in statuses})

    def context(self, status: dict, local_domain: str, api_host: str) -> dict:
        context = status_context(status, {}, local_domain)
        context["api_host"] = api_host
        parent = status.get("in_reply_to_id")
        if parent and "in_reply_to_url" not in context:
            url = self.url_of(str(parent))
            if url:
                context["in_reply_to_url"] = url
        return context

    def url_of(self, parent: str) -> str | None:
        if parent not in self.known:
            self.known[parent] = self._fetch(parent) if self.resolve else None
        return self.known[parent]

    def _fetch(self, parent: str) -> str | None:
        # A parent that cannot be had (deleted, a failing server) costs the
        # reply its reply_to, not the whole scrape; its local id stays in extra.
        try:
            page = fetch_status(self.client, self.base_url, parent)
            return status_url(loads_json(page.body)) if page.status == 200 else None
        except (SourceError, ParseFailure, KeyError):
            return None


def first_page_params(request: ScrapeRequest, since: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": PAGE_LIMIT}
    if since:
        params["since_id"] = since
    if request.options.get("include_reposts") is False:
        params["exclude_reblogs"] = "true"
    if request.options.get("include_replies") is False:
        params["exclude_replies"] = "true"
    return params


def statuses_pages(client, url: str, params: dict, address: AccountAddress) -> Iterator[FetchedPage]:
    """Pages newest first, fetched only as the caller asks for the next."""
    seen: set[str] = set()
    while url and url not in seen:
        seen.add(url)
        page = fetch_statuses_page(client, url, params)
        check_answer(page, address)
        yield page
        url, params = next_page_url(page), None


def scrape_account(client, request: ScrapeRequest) -> Iterator[RawItem | Unparsed]:
    """The account's statuses inside the request's window, newest first."""
    address = account_address(request)
    base_url = (request.options.get("base_url") or f"https://{address.domain}").rstrip("/")
    account_id = request.options.get("account_id") or lookup_account_id(client, base_url, address)
    local_domain = request.options.get("local_domain") or address.domain
    window = Window.of(request)
    replies = ReplyUrls(client, base_url, resolve=request.options.get("resolve_replies", True))
    first_url = f"{base_url}/api/v1/accounts/{account_id}/statuses"
    for page in statuses_pages(client, first_url, first_page_params(request, window.since), address):
        try:
            statuses = page_statuses(page)
        except ParseFailure as exc:
            yield Unparsed(str(exc), page.url, page.body, request.source_id, page.url, page)
            return
        replies.remember(statuses)
        for index, status in enumerate(statuses):
            verdict = window.verdict(status)
            if verdict == "stop":
                return
            if verdict == "keep":
                context = replies.context(status, local_domain, urlsplit(page.url).netloc)
                yield raw_item(status, request.source_id, f"{page.url}#{index}", context, page)
        if not statuses:
            return


# --- re-check archived posts --------------------------------------------------------


def recheck_posts(client, targets: list[RecheckTarget], source_id: str, options: dict) -> Iterator[RawItem | Unparsed]:
    """Fetch archived statuses again, one request each (Mastodon has no
    batch lookup without a token), on the server whose local id we hold.

    A status that answers comes back as a mastodon-status item, as in a
    scrape. 404 is a tombstone: "suspended" when the author's account is
    reported suspended (one account request per author, only then), else
    "deleted"; 410 (suspended account, Mastodon 2.4 to 3.3) is "suspended".
    A refusal (401/403), a network error or a 5xx raise SourceError."""
    accounts: dict[tuple[str, str], tuple[str, dict]] = {}
    for target in targets:
        where = recheck_address(target, options)
        if where is None:
            yield Unparsed(
                f"Mastodon post {target.native_id}: no local id and no status URL to re-check it by",
                target.native_id,
                json.dumps({"native_id": target.native_id, "url": target.url}, ensure_ascii=False),
                source_id,
            )
            continue
        base_url, status_id = where
        page = fetch_status(client, base_url, status_id)
        if page.status in REFUSED:
            raise SourceError(
                f"Mastodon server {urlsplit(page.url).netloc} refused status {status_id}: "
                f"HTTP {page.status}{_server_error(page)} from {page.url}"
            )
        if page.status in GONE:
            if page.status == 410:
                reason, detail = "suspended", {}
            else:
                key = (base_url, _account_key(target))
                if key not in accounts:
                    accounts[key] = _account_state(client, base_url, target)
                reason, detail = accounts[key]
            said = _server_error(page).strip(' ()"')
            detail = {"http_status": page.status, "server_said": said or None, **detail}
            yield tombstone_item(
                PLATFORM,
                target.native_id,
                reason,
                source_id=source_id,
                location=page.url,
                url=target.url,
                page=page,
                detail={k: v for k, v in detail.items() if v is not None},
            )
            continue
        try:
            status = check_status(loads_json(page.body, f"status {page.url}"), page.url)
        except ParseFailure as exc:
            yield Unparsed(str(exc), page.url, page.body, source_id, page.url, page)
            continue
        context = status_context(status, {}, options.get("local_domain"))
        context["api_host"] = urlsplit(page.url).netloc
        yield raw_item(status, source_id, page.url, context, page)


def recheck_address(target: RecheckTarget, options: dict) -> tuple[str, str] | None:
    """(base URL, local status id) to ask. A local id means something only
    on the server that gave it (``extra["api_host"]``); without one, the id
    at the end of the status URL is the local id on the status's own server."""
    extra = target.extra or {}
    local = str(extra["local_id"]) if extra.get("local_id") else None
    api_host = extra.get("api_host")
    url_id = local_since_id(target.url or target.native_id)
    url_host = urlsplit(target.url or target.native_id or "").netloc
    override = (options.get("base_url") or "").rstrip("/")
    if override:
        same = local and (not api_host or api_host == urlsplit(override).netloc)
        status_id = local if same else url_id
        return (override, status_id) if status_id else None
    if local and api_host:
        return f"https://{api_host}", local
    if url_id and url_host:
        return f"https://{url_host}", url_id
    return None


def _account_key(target: RecheckTarget) -> str:
    extra = target.extra or {}
    if extra.get("account_local_id") and extra.get("api_host"):
        return f"id:{extra['api_host']}:{extra['account_local_id']}"
    address = _status_author(target)
    return f"acct:{address.acct}" if address else f"post:{target.native_id}"


def _status_author(target: RecheckTarget) -> AccountAddress | None:
    """The author's address from a status URL ``https://host/@user/123``."""
    url = target.url or target.native_id or ""
    match = re.match(r"^(https?://[^/]+/@[^/@]+)/[^/]+/?$", url)
    return parse_account_address(match.group(1)) if match else None


def _account_state(client, base_url: str, target: RecheckTarget) -> tuple[str, dict]:
    """Why a status is gone: ("suspended", detail) when the server reports
    the author's account suspended, else ("deleted", {})."""
    extra = target.extra or {}
    same_server = extra.get("api_host") and extra.get("api_host") == urlsplit(base_url).netloc
    if extra.get("account_local_id") and (same_server or not extra.get("api_host")):
        url = f"{base_url}/api/v1/accounts/{extra['account_local_id']}"
        page = client.get(url, headers=auth_headers(url), kind=PLATFORM, ok_statuses=ANSWERS)
    else:
        address = _status_author(target)
        if address is None:
            return "deleted", {}
        page = fetch_account(client, base_url, address)
    if page.status == 410:
        return "suspended", {"account_http_status": 410}
    if page.status != 200:
        return "deleted", {"account_http_status": page.status}
    try:
        account = loads_json(page.body, f"account {page.url}")
    except ParseFailure:
        return "deleted", {}
    if account.get("suspended"):
        return "suspended", {"account_suspended": True}
    return "deleted", {}
